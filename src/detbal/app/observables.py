"""Observables a parameter sweep records: a small registry, name → function of one built model.

Each :class:`Observable` maps a :class:`SweepPoint` (the model built at one grid point, with the
shared intermediate results cached: the detailed-balance reports, the steady state) to a float or
to one float per bath (``per_bath=True``: {bath name: value}). Verdicts are stored as 1.0 (holds)
/ 0.0 (broken) so that a failed point can be NaN like every other number.

=====================  ==========================================================================
name                   value at one point (β = the model's reference inverse temperature)
=====================  ==========================================================================
kms_residual           ‖𝓛 − 𝓛̃_KMS‖ relative residual of KMS detailed balance w.r.t. σ_β
kms_holds              1.0 if KMS detailed balance w.r.t. σ_β holds (residual ≤ tolerance), else 0.0
gns_residual           the same in the GNS inner product (s = 1)
gns_holds              1.0 if GNS detailed balance w.r.t. σ_β holds, else 0.0
heat_current           per bath: J_b = Tr[H 𝓛_b(ρ_ss)], heat into the system at the steady state
entropy_production     Π = −Σ_b β_b J_b at the steady state (≥ 0, zero iff no heat flows)
spectral_gap           the relaxation rate: −max Re λ over the non-zero eigenvalues λ of 𝓛
current_noise          per bath: c₂ of the energy drawn from the bath (zero-frequency noise)
tur_ratio              per bath: c₂·Π/c₁² of that energy current (≥ 2 for classical jump processes)
efficiency             machine models ([machine] table): η of an engine, COP of a refrigerator
=====================  ==========================================================================

Adding one is one call, e.g. the Fano factor of the quanta exchanged with each bath::

    register(Observable("fano", lambda p: {b: p.counting(b).fano for b in p.bath_names},
                        "Fano factor of the energy drawn from each bath", per_bath=True))

The functions run inside Dask workers: they receive the point and return plain numbers; an
exception marks that observable (and the point's status) as failed, with its message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..balance.api import detailed_balance, detailed_balance_inners
from ..dynamics import spectral_gap, steady_state
from ..errors import InputError
from ..models.machines import machine_performance
from ..thermo.currents import entropy_production, heat_currents
from ..thermo.fcs import counting_statistics

__all__ = ["DEFAULT_OBSERVABLES", "Observable", "SweepPoint", "observable", "observable_names", "register"]

#: the inner products of SweepPoint.kms() and .gns(), in that order
_INNERS = ("kms", "gns")


class SweepPoint:
    """A model built at one grid point, with its shared intermediate results computed once.

    Attributes:
        model: the :class:`~detbal.models.Model`; ``generator``, ``beta`` (reference β) and
            ``bath_names`` for convenience.
    Methods ``kms()``, ``gns()`` (BalanceReport w.r.t. the Gibbs state σ_β), ``rho()`` ((d, d)
    steady state), ``entropy_production()`` (Π, float) and ``counting(bath)`` (CountingStatistics
    of the energy drawn from ``bath``, order 2) are cached, including the exception they raised:
    observables that share one of them (``current_noise`` and ``tur_ratio`` share the counting
    statistics of each bath) compute it once per point.

    ``kms()`` and ``gns()`` come from one :func:`~detbal.balance.api.detailed_balance_inners` call
    (shared reference state and, on the dense path, shared eigenframe matrices) with
    ``steady_state_verdict=False``: their verdicts and residuals are those of
    ``detailed_balance(generator, beta=beta[, inner="gns"])``, but ``details`` carries no verdict
    w.r.t. the steady state (the point's steady state is ``rho()``). If that joint call raises, each
    inner product is tried on its own, so one failing does not fail the other.
    """

    def __init__(self, model):
        self.model = model
        self.generator = model.generator
        self.beta = model.info.reference_beta
        self.bath_names = tuple(str(b.name) for b in model.baths)
        self._cache: dict = {}

    def _once(self, key: str, fn):
        if key not in self._cache:
            try:
                self._cache[key] = (True, fn())
            except Exception as exc:  # noqa: BLE001 - re-raised to every observable that needs it
                self._cache[key] = (False, exc)
        ok, value = self._cache[key]
        if not ok:
            raise value
        return value

    def kms(self):
        return self._balance(0)

    def gns(self):
        return self._balance(1)

    def _balance(self, k: int):
        """Report k of (KMS, GNS) w.r.t. σ_β, without the steady-state verdict (class docstring)."""
        try:
            return self._once("balance", lambda: detailed_balance_inners(
                self.generator, _INNERS, beta=self.beta, steady_state_verdict=False))[k]
        except Exception:  # noqa: BLE001 - retried per inner product; its own exception is re-raised
            inner = _INNERS[k]
            return self._once(inner, lambda: detailed_balance(self.generator, beta=self.beta, inner=inner,
                                                              steady_state_verdict=False))

    def rho(self) -> np.ndarray:
        return self._once("rho", lambda: np.asarray(steady_state(self.generator).state))

    def entropy_production(self) -> float:
        return self._once("ep", lambda: entropy_production(self.generator, self.rho()).total)

    def counting(self, bath: str):
        return self._once(f"counting:{bath}", lambda: counting_statistics(self.generator, {bath: "energy"}, order=2))


@dataclass(frozen=True)
class Observable:
    """One recorded quantity.

    Attributes:
        name: variable name in the result (a Python identifier).
        compute: function SweepPoint → float (or bool), or → {bath name: float} if ``per_bath``.
        description: one line, stored as the variable's ``long_name``.
        per_bath: the value has one entry per bath (a "bath" dimension in the result).
    """

    name: str
    compute: Callable
    description: str
    per_bath: bool = False

    def __call__(self, point: SweepPoint):
        value = self.compute(point)
        if self.per_bath:
            return {str(k): float(v) for k, v in dict(value).items()}
        return float(value)


_REGISTRY: dict[str, Observable] = {}


def register(obs: Observable) -> Observable:
    """Add (or replace) an observable in the registry; returns it."""
    if not isinstance(obs, Observable) or not obs.name.isidentifier():
        raise InputError(f"`obs` must be an Observable whose name is an identifier, got {obs!r}")
    _REGISTRY[obs.name] = obs
    return obs


def observable(name: str) -> Observable:
    """The registered observable ``name``; InputError listing the known ones otherwise."""
    if name not in _REGISTRY:
        raise InputError(f"unknown observable {name!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def observable_names() -> tuple:
    return tuple(_REGISTRY)


def _noise(p: SweepPoint) -> dict:
    return {b: p.counting(b).noise for b in p.bath_names}


def _tur(p: SweepPoint) -> dict:
    return {b: p.counting(b).tur(p.entropy_production()) for b in p.bath_names}


def _efficiency(p: SweepPoint) -> float:
    eta = machine_performance(p.model).efficiency
    if eta is None:
        raise InputError("the machine does not run as an engine or a refrigerator at this point: no efficiency")
    return eta


for _obs in (
    Observable("kms_residual", lambda p: p.kms().residual, "relative residual of KMS detailed balance w.r.t. Gibbs"),
    Observable("kms_holds", lambda p: p.kms().holds, "KMS detailed balance w.r.t. Gibbs holds (1) or not (0)"),
    Observable("gns_residual", lambda p: p.gns().residual, "relative residual of GNS detailed balance w.r.t. Gibbs"),
    Observable("gns_holds", lambda p: p.gns().holds, "GNS detailed balance w.r.t. Gibbs holds (1) or not (0)"),
    Observable("heat_current", lambda p: heat_currents(p.generator, p.rho()),
               "steady-state heat current into the system from each bath", per_bath=True),
    Observable("entropy_production", lambda p: p.entropy_production(), "steady-state entropy production rate"),
    Observable("spectral_gap", lambda p: spectral_gap(p.generator).gap, "spectral gap of the generator"),
    Observable("current_noise", _noise, "zero-frequency noise c₂ of the energy current from each bath",
               per_bath=True),
    Observable("tur_ratio", _tur, "thermodynamic-uncertainty ratio c₂Π/c₁² of each bath's energy current",
               per_bath=True),
    Observable("efficiency", _efficiency, "efficiency (engine) or COP (refrigerator) of a [machine] model"),
):
    register(_obs)
del _obs

#: recorded when a sweep names no observables
DEFAULT_OBSERVABLES = ("kms_residual", "kms_holds", "gns_residual", "gns_holds", "heat_current",
                       "entropy_production", "spectral_gap")
