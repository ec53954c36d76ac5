"""Run-time configuration of detbal.

``detbal.config.memory_budget`` (bytes, default 2 GiB) bounds every large allocation that is
estimated before it is made: d²×d² superoperators and their factorisations, Arnoldi bases, the
Bohr-sector blocks of a Davies generator, and the eigenbasis plus d×d rate tables that ``davies()``
builds. Set it to change the budget for the whole process (the command line: ``detbal analyze
--memory-budget 8GiB``)::

    import detbal
    detbal.config.memory_budget = 8 * 2**30

It is validated when it is assigned (an InputError names it at once) and again where it is read
(:func:`budget`): a positive number of bytes, ``math.inf`` for no limit.
"""

from __future__ import annotations

import math
import sys
import types
from numbers import Real

from .errors import InputError, MemoryBudgetError

__all__ = ["memory_budget", "budget", "check_memory", "fits_memory", "DENSE_BALANCE_MAX_DIM", "AUTO_STEADY_BALANCE_MAX_DIM", "DENSE_SPECTRUM_MAX_DIM", "LU_MAX_DIM",
           "DENSE_KERNEL_MAX_DIM", "EIG_MAX_DIM", "GTH_MAX_DIM", "LANCZOS_MIN_DIM",
           "SPARSE_MODEL_MIN_DIM"]

memory_budget: int = 2 * 2**30

#: the alternative a refusal of a large-d stage names (blockwise Davies, sector rotations, Pauli matrix)
FEWER_SITES = "fewer sites, or a larger memory budget (command line: --memory-budget)"

# -- size thresholds (Hilbert dimension d) where an algorithm choice changes ----------------------
#: dense detailed-balance test up to this d: 6 d²×d² complex matrices are 1.6 GB at d = 64, and
#: the operator-sum / probe certificates are exact or cheaper beyond it
DENSE_BALANCE_MAX_DIM = 64
#: the verdict w.r.t. the steady state that ``detailed_balance(L, beta=...)`` adds when Gibbs is not
#: stationary is computed automatically by the dense test only up to this d (d = 64 costs minutes;
#: ``detailed_balance(L, state="stationary")`` runs it on request)
AUTO_STEADY_BALANCE_MAX_DIM = 32
#: spectral_gap / spectrum(k=...) by dense eig up to this d (d² ≤ 1024: eig in < 1 s); beyond it
#: shift-invert Arnoldi on the sparse matrix
DENSE_SPECTRUM_MAX_DIM = 32
#: sparse LU (SuperLU) of the d²×d² matrix up to this d; beyond it the Kronecker fill-in makes
#: the factorisation slower than Sylvester-preconditioned GMRES
LU_MAX_DIM = 64
#: dense SVD of the d²×d² matrix for kernel analyses up to this d (d² = 1600: 40 MB, < 2 s)
DENSE_KERNEL_MAX_DIM = 40
#: one eigendecomposition of the d²×d² matrix for many output times up to this d (d² ≤ 256)
EIG_MAX_DIM = 16
#: from this Hilbert dimension on, model files and zoo models build H, the couplings and the conserved
#: quantity as scipy.sparse matrices (a 16384×16384 dense complex operator is 4 GiB); the Davies
#: generator with a conserved quantity consumes them sector by sector without densifying
SPARSE_MODEL_MIN_DIM = 2048
#: Pauli kernel of several baths by GTH elimination (O(d³), exact for M-matrices) up to this d;
#: beyond it a scaled sparse LU solve
GTH_MAX_DIM = 1024
#: from this d on the population gap of a DB Pauli matrix comes from Lanczos (eigsh) instead of
#: LAPACK eigvalsh, which costs more than the rest of the Davies pipeline there
LANCZOS_MIN_DIM = 384


def format_bytes(n: float) -> str:
    """``n`` bytes as "6.0 GiB"."""
    return _format_bytes(n)


def _format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def _validated_budget(b: object) -> float:
    if isinstance(b, bool) or not isinstance(b, Real) or math.isnan(b) or b <= 0:
        raise InputError(f"detbal.config.memory_budget must be a positive number of bytes (inf: no limit), "
                         f"got {b!r}")
    return float(b)


def budget() -> float:
    """The validated ``memory_budget``: a positive number of bytes, ``math.inf`` for no limit
    (else InputError: NaN, ≤ 0, a string or a bool)."""
    return _validated_budget(memory_budget)


def fits_memory(nbytes: float) -> bool:
    """Whether ``nbytes`` fit the validated memory budget (for optional dense shortcuts)."""
    return nbytes <= budget()


def check_memory(nbytes: float, what: str, alternative: str | None = None) -> None:
    """Raise :class:`MemoryBudgetError` if allocating ``nbytes`` for ``what`` exceeds the budget.

    Args:
        nbytes: bytes the allocation needs.
        what: description of the object, e.g. ``"dense d²×d² superoperator (d = 1024)"``.
        alternative: the matrix-free option that avoids the allocation, named in the message.
    """
    limit = budget()
    if nbytes > limit:
        msg = (
            f"{what} needs {_format_bytes(nbytes)}, more than detbal.config.memory_budget = "
            f"{_format_bytes(limit)}"
        )
        if alternative:
            msg += f"; use {alternative} instead"
        raise MemoryBudgetError(msg, required=int(nbytes), budget=int(limit), what=what)


def superoperator_bytes(d: int, itemsize: int = 16) -> int:
    """Bytes of a dense complex d²×d² matrix."""
    return int(d) ** 4 * itemsize


class _ConfigModule(types.ModuleType):
    """The module type of ``detbal.config``: assigning ``memory_budget`` validates it at once."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "memory_budget":
            _validated_budget(value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _ConfigModule
