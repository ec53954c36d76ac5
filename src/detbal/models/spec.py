"""Models as data: a :class:`ModelSpec` (expressions + baths) and :func:`build` → :class:`Model`.

A model is written down once as text — the operator expressions of :mod:`detbal.expressions`
for H, the bath couplings S_b and optional extra GKSL jumps — so that the same object can be
built from the zoo, read from a TOML file (:mod:`detbal.io`) and written back identically.

Generator built from a spec:

    𝓛 = 𝓛_Davies(H, {(S_b, bath_b)}) + Σ_k γ_k 𝓓[A_k]

with one Davies channel per ``[[bath]]`` (rates γ_b(ω) = 2πJ_b(ω)(n_B(ω)+1), KMS at β_b) and one
GKSL channel per ``[[jump]]`` (operator A_k, rate γ_k; no temperature). A model with jumps only
is a plain :class:`~detbal.generators.lindblad.Lindbladian` with Hamiltonian H. A model with a
``[sampler]`` (and no bath or jump) is the exact Gibbs sampler ``gibbs_sampler(H, 1/T, jumps, kind,
weight, filter_width)`` (CKG or DLL, KMS-detailed-balanced w.r.t. e^{−H/T}/Z by construction).

**Local baths** (``BathSpec.local``, file key ``local_hamiltonian``): the bath's dissipator is the
Davies dissipator of a *local* Hamiltonian H_0 (e.g. its own site without the inter-site
coupling), jumps A_b(ω) with [H_0, A_b(ω)] = −ωA_b(ω), while the coherent part stays −i[H, ·]:
the local master equation 𝓛 = −i[H, ·] + Σ_b 𝓓_b^{H_0}. Such a dissipator relaxes to the Gibbs
state of H_0, not of H, and may break the second law (``detbal.thermo.clausius``). The sum then
names H as its system Hamiltonian (Gibbs references and heat currents J_b = Tr[H 𝓛_b(ρ)]).

**Machines** (``ModelSpec.machine``, table ``[machine]``): the roles of the channels when the model
is run as a heat machine (kinds in :data:`MACHINE_KINDS`; evaluated by :mod:`detbal.models.machines`).

Errors raised while building carry the key path of the offending entry (``SpecError.key``, e.g.
``("bath", 1, "coupling")``) and, for expression errors, the offset inside the expression, so
that :mod:`detbal.io` can point at the line and column of the file.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._checks import hermiticity_error
from .. import config
from ..conserved import check_commutes, sector_labels, sector_partition
from ..errors import InputError, MemoryBudgetError
from ..baths.bath import Bath
from ..generators.base import SumGenerator
from ..generators.davies.generator import davies
from ..generators.lindblad import Lindbladian
from ..generators.sampler_kernels import CKG_WEIGHTS, DLL_FILTERS
from ..generators.samplers import gibbs_sampler
from .expressions import ExpressionError, Space, parse_operator

__all__ = ["BathSpec", "JumpSpec", "SamplerSpec", "ModelSpec", "ModelInfo", "Model", "SpecError", "SpecMemoryError",
           "build", "validate", "SPECTRAL_KINDS", "MACHINE_KINDS", "operator_cache"]

#: spectral-density kinds and their parameters, in the order of the Bath constructors
SPECTRAL_KINDS = {
    "ohmic": ("alpha", "cutoff"),
    "power_law": ("alpha", "s", "cutoff"),
    "drude_lorentz": ("lam", "gamma"),
}

#: kinds of the [machine] table: (required channel roles, required numbers, optional numbers).
#: engine/refrigerator: steady-state machines whose roles name channels ("work" may be a bath or a
#: jump); otto: a four-stroke cycle alternating the "hot" and "cold" baths, the cold isochore with
#: Hamiltonian compression·H (0 < compression), strokes of finite duration when given
MACHINE_KINDS = {
    "engine": (("hot", "cold", "work"), (), ()),
    "refrigerator": (("hot", "cold", "work"), (), ()),
    "otto": (("hot", "cold"), ("compression",), ("stroke_time_hot", "stroke_time_cold")),
}


class SpecError(InputError):
    """A model specification is invalid.

    Attributes:
        reason: the message without location.
        key: key path of the offending entry, e.g. ("system", "hamiltonian") or ("bath", 0, "temperature").
        position: for expression errors, the 0-based offset inside the expression text (else None).
    """

    def __init__(self, reason: str, key: tuple = (), position: int | None = None):
        self.reason, self.key, self.position = reason, tuple(key), position
        super().__init__(f"{format_key(self.key)}: {reason}" if self.key else reason)

    def __reduce__(self):
        return (type(self), (self.reason, self.key, self.position))


class SpecMemoryError(SpecError, MemoryBudgetError):
    """A model specification whose operators or generator exceed the memory budget: the key path of
    the entry that sets the size, and advice that needs no Python (fewer sites or levels, a larger
    budget). Attributes: those of SpecError and MemoryBudgetError."""

    def __init__(self, exc: MemoryBudgetError, key: tuple):
        what = exc.what or "the model"
        reason = (f"{what} needs {config.format_bytes(exc.required)}, more than the memory budget "
                  f"{config.format_bytes(exc.budget)}; use fewer sites or levels, or raise the memory budget "
                  "(detbal.config.memory_budget; --memory-budget on the command line)")
        SpecError.__init__(self, reason, key)
        self.required, self.budget, self.what = exc.required, exc.budget, exc.what

    def __reduce__(self):
        return (_rebuild_memory_error, (self.reason, self.key, self.required, self.budget, self.what))


def _rebuild_memory_error(reason, key, required, budget, what):
    err = SpecMemoryError(MemoryBudgetError(reason, required, budget, what), key)
    err.reason = reason
    return err


def format_key(key: tuple) -> str:
    """("bath", 1, "coupling") → "bath[1].coupling"."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True)
class BathSpec:
    """One bosonic bath: Davies channel with coupling H_I = S ⊗ B.

    Attributes:
        name: channel name (unique in a model).
        temperature: T ≥ 0 (T = 0 means β = inf).
        coupling: operator expression for S (Hermitian).
        kind: "ohmic" | "power_law" | "drude_lorentz" (see :data:`SPECTRAL_KINDS`).
        params: ((name, value), ...) of the spectral density, in :data:`SPECTRAL_KINDS` order.
        local: "" (global Davies channel of the system Hamiltonian H) or the operator expression of
            a local Hamiltonian H_0 whose Davies jumps the bath uses (local master equation).
    """

    name: str
    temperature: float
    coupling: str
    kind: str = "ohmic"
    params: tuple = (("alpha", 0.05), ("cutoff", 10.0))
    local: str = ""

    @property
    def beta(self) -> float:
        return math.inf if self.temperature == 0 else 1.0 / self.temperature

    def to_dict(self) -> dict:
        out = {"name": self.name, "temperature": self.temperature, "coupling": self.coupling,
               "spectral_density": {"kind": self.kind, **dict(self.params)}}
        if self.local:
            out["local_hamiltonian"] = self.local
        return out


@dataclass(frozen=True)
class JumpSpec:
    """An extra GKSL channel γ (A ρ A† − ½{A†A, ρ}) with operator expression A and rate γ ≥ 0."""

    name: str
    operator: str
    rate: float

    def to_dict(self) -> dict:
        return {"name": self.name, "operator": self.operator, "rate": self.rate}


@dataclass(frozen=True)
class SamplerSpec:
    """An exact Gibbs sampler of the system at temperature T > 0 (:func:`~detbal.gibbs_sampler`).

    Attributes:
        kind: "ckg" or "dll"; temperature: T (β = 1/T); jumps: operator expressions A^a (the set is
        closed under adjoint by the sampler); weight: CKG weight or DLL filter family (None: the
        default of the kind); filter_width: σ_E (CKG) or the DLL width (None: the default).
    """

    kind: str
    temperature: float
    jumps: tuple
    weight: str | None = None
    filter_width: float | None = None

    @property
    def beta(self) -> float:
        return 1.0 / self.temperature

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "temperature": self.temperature, "jumps": list(self.jumps)}
        if self.weight is not None:
            out["weight"] = self.weight
        if self.filter_width is not None:
            out["filter_width"] = self.filter_width
        return out


@dataclass(frozen=True)
class ModelSpec:
    """Text description of a model (the content of a model file).

    Attributes:
        name: short identifier.
        hamiltonian: operator expression for H (Hermitian).
        sites: number of qubits, or None; levels: number of levels of one system, or None
            (exactly one of the two).
        baths: Davies baths; jumps: extra GKSL channels (at least one of the two non-empty), or
        sampler: an exact Gibbs sampler (:class:`SamplerSpec`; then no baths and no jumps).
        description: one sentence.
        lamb_shift: include the Lamb shift H_LS in the Davies generator.
        reference_temperature: temperature of the Gibbs state used as the reference of the
            detailed-balance test (None: the common bath temperature, or the coldest bath).
        conserved: operator expression of a conserved quantity Q, diagonal in the computational
            basis (e.g. "Z0 + Z1"), or None: the Davies generator diagonalises H sector by sector.
        parameters: ((name, value), ...) of the zoo function that made it (informative).
        machine: ((key, value), ...) of the [machine] table (kind and channel roles), or ().
    """

    name: str
    hamiltonian: str
    sites: int | None = None
    levels: int | None = None
    baths: tuple = ()
    jumps: tuple = ()
    description: str = ""
    lamb_shift: bool = False
    reference_temperature: float | None = None
    parameters: tuple = field(default=(), compare=True)
    conserved: str | None = None
    machine: tuple = ()
    sampler: SamplerSpec | None = None

    def to_dict(self) -> dict:
        """Plain-data dictionary with the layout of a model file (tables system, bath, jump, analysis)."""
        system = {"name": self.name}
        if self.description:
            system["description"] = self.description
        if self.sites is not None:
            system["sites"] = self.sites
        else:
            system["levels"] = self.levels
        system["hamiltonian"] = self.hamiltonian
        if self.conserved is not None:
            system["conserved"] = self.conserved
        out = {"system": system}
        if self.lamb_shift:
            out["generator"] = {"lamb_shift": True}
        if self.baths:
            out["bath"] = [b.to_dict() for b in self.baths]
        if self.jumps:
            out["jump"] = [j.to_dict() for j in self.jumps]
        if self.sampler is not None:
            out["sampler"] = self.sampler.to_dict()
        if self.reference_temperature is not None:
            out["analysis"] = {"temperature": self.reference_temperature}
        if self.machine:
            out["machine"] = dict(self.machine)
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        return out


@dataclass(frozen=True)
class ModelInfo:
    """What a model is: name, one-sentence description, the spec it was built from, the
    reference inverse temperature of its detailed-balance test and the dimension."""

    name: str
    description: str
    spec: ModelSpec | None
    reference_beta: float
    dim: int

    @property
    def reference_temperature(self) -> float:
        return 0.0 if math.isinf(self.reference_beta) else 1.0 / self.reference_beta


@dataclass(frozen=True, eq=False)
class Model:
    """A built model.

    Attributes:
        hamiltonian: (d, d) complex ndarray H (system Hamiltonian, without Lamb shift).
        generator: the Generator 𝓛 (Davies, Lindbladian or their sum).
        baths: tuple of :class:`~detbal.baths.Bath` (named, in file order).
        info: :class:`ModelInfo` (name, description, spec, reference β, dimension).
    """

    hamiltonian: np.ndarray
    generator: object
    baths: tuple
    info: ModelInfo

    @property
    def name(self) -> str:
        return self.info.name

    def __repr__(self) -> str:
        names = ", ".join(repr(b.name) for b in self.baths)
        return f"Model({self.info.name!r}, dim={self.info.dim}, baths=[{names}])"


# -- building --------------------------------------------------------------------------------------
def _space(spec: ModelSpec):

    if (spec.sites is None) == (spec.levels is None):
        raise SpecError("give exactly one of `sites` (qubits) or `levels` (one d-level system)", ("system",))
    key = ("system", "sites" if spec.sites is not None else "levels")
    try:
        return Space(sites=spec.sites, levels=spec.levels)
    except InputError as exc:
        raise SpecError(str(exc), key) from None


#: the parsed operators of the innermost :func:`operator_cache` block ({(text, space, role): matrix}), or None
_PARSED: ContextVar[dict | None] = ContextVar("detbal_parsed_operators", default=None)
#: larger operators are parsed again rather than kept twice in memory
OPERATOR_CACHE_MAX_BYTES = 8 * 2**20


@contextmanager
def operator_cache() -> Iterator[None]:
    """Within this block (in this thread), :func:`build` and :func:`validate` parse and check each
    distinct operator expression once: a later model with the same expression text, space and role
    (hamiltonian, coupling, jump ...) gets a copy of the checked matrix. A parameter sweep builds
    many models whose operators differ only where a parameter is written into them. Failures are
    not kept (they are raised again, with their key); matrices above OPERATOR_CACHE_MAX_BYTES are
    not kept. The cache is dropped at the end of the block."""
    token = _PARSED.set({})
    try:
        yield
    finally:
        _PARSED.reset(token)


def _abs_max(A) -> float:
    """max |A_ij| of a dense or sparse operator (0 for an empty one)."""
    if sp.issparse(A):
        return float(abs(A).max()) if A.nnz else 0.0
    return float(np.max(np.abs(A))) if A.size else 0.0


def _sparse_model(spec: ModelSpec, space) -> bool:
    """Build the operators sparse: d ≥ config.SPARSE_MODEL_MIN_DIM and a Davies model (global [[bath]]
    tables only) with a conserved quantity, whose generator consumes them sector by sector; every
    other model needs dense operators (and is refused at the first one beyond the budget)."""
    return (space.dim >= config.SPARSE_MODEL_MIN_DIM and spec.conserved is not None and bool(spec.baths)
            and not spec.jumps and spec.sampler is None and not any(b.local for b in spec.baths))


def _operator(text: str, space, key: tuple, what: str, hermitian: bool, nonzero: bool = True, sparse: bool = False):
    """The checked operator of expression ``text`` (Hermitian part if ``hermitian``): a (d, d) complex
    ndarray, or a ``scipy.sparse`` csr array (``sparse``); SpecError at ``key`` otherwise. Dense
    operators are reused within an :func:`operator_cache` block."""
    cache, memo = _PARSED.get(), (text, space, what, hermitian, nonzero)
    if sparse or cache is None:
        return _parse_checked(text, space, key, what, hermitian, nonzero, sparse)
    if memo in cache:
        return cache[memo].copy()
    op = _parse_checked(text, space, key, what, hermitian, nonzero, sparse)
    if op.nbytes <= OPERATOR_CACHE_MAX_BYTES:
        cache[memo] = op.copy()
    return op


def _parse_checked(text: str, space, key: tuple, what: str, hermitian: bool, nonzero: bool, sparse: bool):
    try:
        op = parse_operator(text, space, what, sparse=sparse)
    except ExpressionError as exc:
        reason = exc.reason + (f" ({exc.hint})" if exc.hint else "")
        raise SpecError(reason, key, exc.position) from None
    except InputError as exc:
        raise SpecError(str(exc), key) from None
    except MemoryBudgetError as exc:
        raise SpecMemoryError(exc, key) from None
    biggest = _abs_max(op)
    if biggest > SCALE_MAX:
        raise _scale_error(f"the largest {what} entry", biggest, key)
    if hermitian:
        err = hermiticity_error(op)
        if err > 1e-10:
            raise SpecError(f"{what} must be Hermitian, got ‖A − A†‖/‖A‖ = {err:.3g} for {text!r}", key)
        op = (op + op.conj().T) / 2
        op = sp.csr_array(op) if sparse else op
    if nonzero and not (op.count_nonzero() if sparse else np.any(op)):
        raise SpecError(f"{what} is the zero operator: {text!r}", key)
    return op


def _bath(b: BathSpec, k: int):

    if b.kind not in SPECTRAL_KINDS:
        raise SpecError(f"unknown spectral density kind {b.kind!r}; known: {', '.join(SPECTRAL_KINDS)}",
                        ("bath", k, "spectral_density", "kind"))
    params = dict(b.params)
    need = SPECTRAL_KINDS[b.kind]
    for p in need:
        if p not in params:
            raise SpecError(f"spectral density {b.kind!r} needs `{p}` (parameters: {', '.join(need)})",
                            ("bath", k, "spectral_density"))
    for p in params:
        if p not in need:
            raise SpecError(f"unknown parameter `{p}` for spectral density {b.kind!r} "
                            f"(parameters: {', '.join(need)})", ("bath", k, "spectral_density", p))
    t = b.temperature
    if not (isinstance(t, (int, float)) and not isinstance(t, bool)) or not math.isfinite(t) or t < 0:
        raise SpecError(f"temperature must be a finite number ≥ 0 (T = 0 is β = inf), got {t!r}",
                        ("bath", k, "temperature"))
    ctor = {"ohmic": Bath.ohmic, "power_law": Bath.power_law, "drude_lorentz": Bath.drude_lorentz}[b.kind]
    try:
        return ctor(**{p: params[p] for p in need}, beta=b.beta, name=b.name)
    except InputError as exc:
        bad = next((p for p in need if f"`{p}`" in str(exc)), None)
        key = ("bath", k, "spectral_density") + ((bad,) if bad else ())
        raise SpecError(str(exc), key) from None


def _reference_beta(spec: ModelSpec, baths) -> float:
    if spec.reference_temperature is not None:
        t = spec.reference_temperature
        if not math.isfinite(t) or t <= 0:
            raise SpecError(f"reference temperature must be > 0 (the Gibbs state must be faithful), "
                            f"got {t!r}",
                            ("analysis", "temperature"))
        return 1.0 / t
    if spec.sampler is not None:
        return spec.sampler.beta
    betas = [b.beta for b in baths]
    finite = [b for b in betas if math.isfinite(b)]
    if not finite:
        return math.inf  # all baths at T = 0: the Gibbs reference is the (non-faithful) ground state
    return max(finite)  # the coldest bath with T > 0 (all equal for a single temperature)


#: rates (rate·max|A|², γ(ω)·max|S|²) and energies must lie in [SCALE_MIN, SCALE_MAX]: beyond,
#: squared norms of the generator overflow or underflow in double precision and a verdict would be
#: NaN or a spurious "holds"; a model outside is refused with advice to change the units
SCALE_MAX = 1e100
SCALE_MIN = 1e-100


def _scale_error(what: str, value: float, key: tuple) -> SpecError:
    side = "above" if value > 1 else "below"
    return SpecError(f"{what} is {value:.1e}, {side} the range 1e-100 … 1e100 that detbal computes reliably "
                     f"(squared norms would over/underflow): choose units of energy and time in which "
                     f"energies and rates are within it", key)


def _check_scales(H, couplings, ops, rates) -> None:
    """Refuse energies and rates outside [SCALE_MIN, SCALE_MAX] (see there)."""
    for k, (A, r) in enumerate(zip(ops, rates)):
        size = r * _abs_max(A) ** 2
        if r > 0 and not SCALE_MIN <= size <= SCALE_MAX:
            raise _scale_error("rate × max|operator entry|²", size, ("jump", k, "rate"))
    rows = abs(H).sum(axis=1) if sp.issparse(H) else np.sum(np.abs(H), axis=1)
    w_max = 2 * float(np.max(rows)) if H.shape[0] else 0.0  # ≥ every Bohr frequency
    probe = [w_max, w_max / 10, w_max / 100] if w_max > 0 else [1.0]
    for k, (S, bath) in enumerate(couplings):
        with np.errstate(over="ignore", under="ignore"):
            gamma = float(np.max(bath.rate(np.array(probe))))
        size = gamma * _abs_max(S) ** 2
        if not math.isfinite(size) or size > SCALE_MAX or 0 < size < SCALE_MIN:
            raise _scale_error("the bath rate γ(ω) × max|coupling entry|² at the system's frequencies", size,
                               ("bath", k, "spectral_density"))


def _machine(spec: ModelSpec) -> None:
    """Check the [machine] table: a known kind, roles naming distinct channels, positive numbers."""
    if not spec.machine:
        return
    table = dict(spec.machine)
    kind = table.get("kind")
    if kind not in MACHINE_KINDS:
        raise SpecError(f"machine kind must be one of {', '.join(map(repr, MACHINE_KINDS))}, got {kind!r}",
                        ("machine", "kind"))
    roles, numbers, optional = MACHINE_KINDS[kind]
    allowed = {"kind", *roles, *numbers, *optional}
    for key in table:
        if key not in allowed:
            raise SpecError(f"unknown key {key!r} for a machine of kind {kind!r}; keys: {', '.join(sorted(allowed))}",
                            ("machine", key))
    baths = [b.name for b in spec.baths]
    used = []
    for role in roles:
        name = table.get(role)
        channels = baths + ([j.name for j in spec.jumps] if role == "work" else [])   # work may be bare jumps
        if not isinstance(name, str) or name not in channels:
            raise SpecError(f"`{role}` must name a {'channel' if role == 'work' else 'bath'} of the model "
                            f"({', '.join(map(repr, channels))}), got {name!r}", ("machine", role))
        if name in used:
            raise SpecError(f"`{role}` names channel {name!r}, which already has another role", ("machine", role))
        used.append(name)
    for key in numbers + optional:
        if key not in table:
            if key in numbers:
                raise SpecError(f"a machine of kind {kind!r} needs `{key}`", ("machine",))
            continue
        v = table[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise SpecError(f"`{key}` must be a finite number > 0, got {v!r}", ("machine", key))
    given = [key for key in optional if key in table]
    if given and len(given) != len(optional):
        raise SpecError(f"give all of {', '.join(map(repr, optional))} or none (quasi-static), got only "
                        f"{', '.join(map(repr, given))}", ("machine", given[0]))


class _Checked(NamedTuple):
    """What :func:`_validated` returns: the operators of a checked spec, nothing built yet."""

    space: Space
    H: np.ndarray
    couplings: list          # [(S, Bath)] per bath
    ops: list                # jump operators
    rates: list              # jump rates
    reference_beta: float | None
    local: list              # local Hamiltonian per bath (None for a global bath)
    conserved: np.ndarray | None   # sector labels of the conserved quantity


def _validated(spec: ModelSpec) -> _Checked:
    """Everything :func:`build` checks, without building the generator (see :class:`_Checked`)."""
    space = _space(spec)
    sparse = _sparse_model(spec, space)
    H = _operator(spec.hamiltonian, space, ("system", "hamiltonian"), "hamiltonian", hermitian=True, sparse=sparse,
                  nonzero=False)
    if not spec.baths and not spec.jumps and spec.sampler is None:
        raise SpecError("the model has no dissipation: add a [[bath]] (Davies channel), a [[jump]] or a "
                        "[sampler]", ("system",))
    if spec.sampler is not None and (spec.baths or spec.jumps):
        raise SpecError("a [sampler] model is the Gibbs sampler alone: remove the [[bath]] and [[jump]] "
                        "tables (or model them separately)", ("sampler",))
    names: dict[str, tuple] = {}
    for kind, items in (("bath", spec.baths), ("jump", spec.jumps)):
        for k, item in enumerate(items):
            if item.name in names:
                raise SpecError(f"duplicate channel name {item.name!r} (also {format_key(names[item.name])})",
                                (kind, k, "name"))
            names[item.name] = (kind, k)
    couplings, local = [], []
    for k, b in enumerate(spec.baths):
        S = _operator(b.coupling, space, ("bath", k, "coupling"), "coupling", hermitian=True, sparse=sparse)
        couplings.append((S, _bath(b, k)))
        local.append(_operator(b.local, space, ("bath", k, "local_hamiltonian"), "local hamiltonian",
                               hermitian=True) if b.local else None)
    ops, rates = [], []
    for k, j in enumerate(spec.jumps):
        ops.append(_operator(j.operator, space, ("jump", k, "operator"), "operator", hermitian=False))
        r = j.rate
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not math.isfinite(r) or r < 0:
            raise SpecError(f"rate must be a finite number ≥ 0, got {r!r}", ("jump", k, "rate"))
        rates.append(float(r))
    if spec.sampler is not None:
        ops = _sampler_operators(spec.sampler, space)
    _check_scales(H, couplings, ops if spec.sampler is None else [], rates)
    _machine(spec)
    reference_beta = _reference_beta(spec, [bath for _, bath in couplings])
    return _Checked(space, H, couplings, ops, rates, reference_beta, local, _conserved(spec, space, H, sparse))


def _conserved(spec: ModelSpec, space, H, sparse: bool = False):
    """The sector labels q_i of ``spec.conserved`` (None without it), checked: Q diagonal and
    [H, Q] = 0 (SpecError at ("system", "conserved") otherwise)."""
    if spec.conserved is None:
        return None
    key = ("system", "conserved")
    Q = _operator(spec.conserved, space, key, "conserved", hermitian=True, nonzero=False, sparse=sparse)
    try:
        q = sector_labels(Q, space.dim)
        check_commutes(H, sector_partition(q)[0], q, "conserved", "hamiltonian")
    except InputError as exc:
        raise SpecError(str(exc), key) from None
    return q


def _sampler_operators(sampler: SamplerSpec, space) -> list:
    """Validate a [sampler] table and parse its jump expressions."""
    key = ("sampler",)
    if sampler.kind not in ("ckg", "dll"):
        raise SpecError(f"kind must be 'ckg' or 'dll', got {sampler.kind!r}", key + ("kind",))
    t = sampler.temperature
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0:
        raise SpecError(f"temperature must be a finite number > 0 (a Gibbs sampler needs a faithful Gibbs "
                        f"state), got {t!r}", key + ("temperature",))
    known = CKG_WEIGHTS if sampler.kind == "ckg" else DLL_FILTERS
    if sampler.weight is not None and sampler.weight not in known:
        raise SpecError(f"weight must be one of {', '.join(map(repr, known))} for kind {sampler.kind!r}, got "
                        f"{sampler.weight!r}", key + ("weight",))
    w = sampler.filter_width
    if w is not None and (isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w <= 0):
        raise SpecError(f"filter_width must be a finite number > 0, got {w!r}", key + ("filter_width",))
    if not sampler.jumps:
        raise SpecError("jumps must list at least one operator expression", key + ("jumps",))
    return [_operator(text, space, key + ("jumps", k), "jump", hermitian=False)
            for k, text in enumerate(sampler.jumps)]


def validate(spec: ModelSpec) -> ModelInfo:
    """Check a :class:`ModelSpec` as :func:`build` does (expressions, Hermiticity, baths, rates,
    names) without building the generator: the d×d operators only, no eigendecomposition and
    no d²-sized structure. Returns the ModelInfo :func:`build` would give.

    Raises:
        SpecError: as :func:`build`.
    """
    checked = _validated(spec)
    return ModelInfo(spec.name, spec.description, spec, checked.reference_beta, checked.space.dim)


def build(spec: ModelSpec) -> Model:
    """Build the generator of a :class:`ModelSpec` (module docstring for the formula).

    Raises:
        SpecError: malformed or non-Hermitian expression, invalid bath, duplicate names, no
            dissipation (each error names its key path).
    """
    space, H, couplings, ops, rates, reference_beta, local, conserved = _validated(spec)
    info = ModelInfo(spec.name, spec.description, spec, reference_beta, space.dim)
    if spec.sampler is not None:
        smp = spec.sampler
        try:
            generator = gibbs_sampler(H, smp.beta, ops, kind=smp.kind, weight=smp.weight,
                                      filter_width=smp.filter_width, name=f"{smp.kind} sampler",
                                      conserved=conserved)
        except InputError as exc:
            raise SpecError(str(exc), ("sampler",)) from None
        return Model(H if sp.issparse(H) else np.array(H), generator, (), info)
    terms = []
    size_key = ("system", "sites" if spec.sites is not None else "levels")  # what sets the size
    try:
        global_ = [c for c, H0 in zip(couplings, local) if H0 is None]
        if global_:
            terms.append(davies(H, couplings=global_, lamb_shift=spec.lamb_shift, conserved=conserved))
        elif couplings:
            terms.append(Lindbladian(H, [], name="coherent part"))  # −i[H, ·] of a local master equation
        for (S, bath), H0 in zip(couplings, local):
            if H0 is not None:                 # the local bath's Davies dissipator of H_0 (no −i[H_0, ·])
                terms.append(davies(H0, couplings=[(S, bath)], lamb_shift=spec.lamb_shift).channels[0])
        if spec.jumps:
            H_jumps = np.zeros_like(H) if couplings else H
            terms.append(Lindbladian(H_jumps, ops, rates, names=[j.name for j in spec.jumps], name="jumps"))
    except MemoryBudgetError as exc:
        raise SpecMemoryError(exc, size_key) from None
    if any(H0 is not None for H0 in local):
        generator = SumGenerator(terms, name="local master equation", hamiltonian=H)
    else:
        generator = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return Model(H if sp.issparse(H) else np.array(H), generator, tuple(bath for _, bath in couplings), info)
