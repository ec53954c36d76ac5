"""The model zoo: each function returns a :class:`Model` (hamiltonian, generator, baths, info).

=========================  ===================================================================
name                       model (defaults in the function signatures)
=========================  ===================================================================
thermal_qubit              qubit H = (ω/2)Z in one ohmic bath (DB w.r.t. Gibbs)
oscillator                 truncated oscillator H = ω a†a, coupling a + a† (degenerate Bohr sectors)
merry_go_round             three levels between a hot and a cold bath: cyclic current
merry_go_round_thermal     the same levels in one bath: relaxes to Gibbs
xxz_chain                  XXZ spin chain, one bath or two boundary baths
ising_chain                transverse-field Ising chain, one bath or two boundary baths
heisenberg_chain           random-field Heisenberg chain, one bath or two boundary baths
ssd_maser                  Scovil–Schulz-DuBois three-level maser, output as a load bath
lps_refrigerator           Linden–Popescu–Skrzypczyk three-qubit absorption refrigerator (local/global)
coupled_qubits             two coupled qubits between two baths: local master equation vs global
otto_qubit                 qubit Otto cycle (quasi-static or finite-time strokes)
tfim_sampler               exact Gibbs sampler (CKG or DLL) of the transverse-field Ising chain
=========================  ===================================================================

Every zoo model is built from a :class:`ModelSpec` of operator expressions, so
``detbal.save_model(m, "m.toml")`` writes a model file that loads back identically.

Example:
    >>> import detbal.models as zoo
    >>> m = zoo.get("thermal_qubit", temperature=2.0)
    >>> m.info.dim, [b.name for b in m.baths]
    (2, ['bath'])
"""

from __future__ import annotations

import builtins
import inspect
import math
import re
from numbers import Integral, Real

from ..errors import InputError
from .chains import heisenberg_chain, ising_chain, xxz_chain
from .machines import (
    MachinePerformance,
    carnot_bound,
    coupled_qubits,
    lps_refrigerator,
    machine_performance,
    otto_qubit,
    ssd_maser,
)
from .oscillator import oscillator
from .otto import otto_cycle, otto_quasi_static
from .qubit import thermal_qubit
from .samplers import tfim_sampler
from .spec import BathSpec, JumpSpec, Model, ModelInfo, ModelSpec, SamplerSpec, SpecError, build
from .three_level import merry_go_round, merry_go_round_thermal

__all__ = [
    "DEFAULT",
    "BathSpec",
    "JumpSpec",
    "MachinePerformance",
    "Model",
    "ModelInfo",
    "ModelSpec",
    "SamplerSpec",
    "SpecError",
    "build",
    "carnot_bound",
    "coupled_qubits",
    "describe",
    "get",
    "heisenberg_chain",
    "ising_chain",
    "list",
    "lps_refrigerator",
    "machine_performance",
    "merry_go_round",
    "merry_go_round_thermal",
    "oscillator",
    "otto_cycle",
    "otto_quasi_static",
    "otto_qubit",
    "parameters",
    "ssd_maser",
    "thermal_qubit",
    "tfim_sampler",
    "xxz_chain",
]

_ZOO = {
    f.__name__: f
    for f in (thermal_qubit, oscillator, merry_go_round, merry_go_round_thermal, xxz_chain, ising_chain,
              heisenberg_chain, ssd_maser, lps_refrigerator, coupled_qubits, otto_qubit,
              tfim_sampler)
}

#: the models analysed by ``detbal`` without arguments, side by side
DEFAULT = ("merry_go_round", "merry_go_round_thermal")


def list() -> builtins.list[str]:
    """Names of the zoo models, in the order of the table in the module docstring."""
    return builtins.list(_ZOO)


def _lookup(name: str):
    key = str(name).strip().lower().replace("-", "_")
    if key not in _ZOO:
        raise InputError(f"unknown model {name!r}; the zoo has: {', '.join(_ZOO)}")
    return _ZOO[key]


def get(name: str, **params) -> Model:
    """Build zoo model ``name`` ("merry_go_round", "merry-go-round", ...) with keyword parameters.

    A value must have the kind of its default: a finite real number for float parameters
    (ints accepted), an integer for integer ones (``n``, ``levels``, ``seed``; 4.0 accepted), a
    string for string ones; a parameter whose default is None also takes None (or "none").

    Raises:
        InputError: unknown model or parameter (the message lists the valid ones), or a value of
            the wrong kind (non-number, NaN, inf, an expression) naming the parameter.
    """
    fn = _lookup(name)
    valid = parameters(name)
    for key in params:
        if key not in valid:
            raise InputError(f"model {fn.__name__!r} has no parameter {key!r}; parameters: "
                             + ", ".join(f"{k}={v!r}" for k, v in valid.items()))
    checked = {k: _checked_value(fn.__name__, k, v, valid[k]) for k, v in params.items()}
    return fn(**checked)


def _checked_value(model: str, key: str, value, default):
    """``value`` converted to the kind of ``default`` (see :func:`get`), else InputError."""
    where = f"parameter {key!r} of model {model!r}"
    if default is None and (value is None or (isinstance(value, str) and value.strip().lower() == "none")):
        return None
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise InputError(f"{where} must be true or false, got {value!r}")
    if isinstance(default, str):
        if isinstance(value, str):
            return value
        raise InputError(f"{where} must be a string such as {default!r}, got {value!r}")
    if isinstance(default, Integral):
        if isinstance(value, Integral) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise InputError(f"{where} must be an integer, got {value!r}")
    # float parameters (and None defaults, which take a number otherwise)
    if isinstance(value, Real) and not isinstance(value, bool):
        if math.isfinite(float(value)):
            return float(value)
        raise InputError(f"{where} must be a finite number, got {value!r}")
    raise InputError(f"{where} must be a finite real number, got {value!r}")


def describe(name: str) -> str:
    """First sentence(s) of the zoo function's docstring (plain text)."""
    doc = inspect.getdoc(_lookup(name)) or ""
    first = doc.split("\n\n")[0].replace("\n", " ")
    first = re.sub(r":\w+:`([^`]*)`", r"\1", first)          # :func:`x` → x
    return re.sub(r"\s*\(module doc(string)?\)", "", first)


def parameters(name: str) -> dict:
    """Default parameters {name: value} of zoo model ``name``."""
    sig = inspect.signature(_lookup(name))
    return {k: p.default for k, p in sig.parameters.items()}
