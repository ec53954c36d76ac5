"""Boundary validation: every public function converts and checks its arguments here.

Errors are :class:`~detbal.errors.InputError` whose message names the argument, what was
expected and what was received. Arrays are copied at the boundary (callers' arrays are never
mutated) and converted to complex128 (operators) or float64 (rates, temperatures).
"""

from __future__ import annotations

import importlib
import math
import numbers

import numpy as np
import scipy.sparse as sp

from .errors import InputError

__all__ = [
    "is_hermitian",
    "as_nonnegative_scalar",
    "as_real_array",
    "scalar_or_array",
    "as_real_symmetric",
    "as_operator",
    "as_state",
    "as_beta",
    "as_nonnegative",
    "as_positive_int",
    "as_choice",
    "hermiticity_error",
    "HERMITIAN_RTOL",
    "frobenius",
    "log_frobenius",
    "optional_module",
]

#: relative tolerance ‖A − A†‖_F / ‖A‖_F below which an operator counts as Hermitian
HERMITIAN_RTOL = 1e-10


def _to_array(x, name: str):
    """Convert ndarray / sparse / Qobj (anything with ``.full()``) to ndarray or csr_array."""
    if sp.issparse(x):
        return sp.csr_array(x)
    if hasattr(x, "full") and callable(x.full) and not isinstance(x, np.ndarray):
        try:
            return np.asarray(x.full())
        except Exception as exc:  # pragma: no cover - defensive
            raise InputError(f"`{name}`: could not convert {type(x).__name__} with .full(): {exc}") from exc
    if isinstance(x, (str, bytes)):
        raise InputError(f"`{name}` must be a numeric matrix, got a {type(x).__name__}")
    try:
        return np.array(x)
    except Exception as exc:
        raise InputError(f"`{name}` must be a numeric matrix, got {type(x).__name__}") from exc


def hermiticity_error(a) -> float:
    """Relative Frobenius norm ‖A − A†‖_F / ‖A‖_F (0 for the zero matrix)."""
    if sp.issparse(a):
        num = sp.linalg.norm(a - a.conj().T)
        den = sp.linalg.norm(a)
    else:
        num = frobenius(a - a.conj().T)
        den = frobenius(a)
    return 0.0 if den == 0 else float(num / den)


def as_operator(x, name: str, dim: int | None = None, hermitian: bool = False, sparse_ok: bool = True):
    """Validate a d×d operator and return a complex128 copy (ndarray, or csr_array if sparse).

    Args:
        x: ndarray, scipy sparse matrix/array, nested list, or an object with ``.full()``.
        name: argument name used in error messages.
        dim: required dimension d, or None.
        hermitian: require ‖x − x†‖_F ≤ 1e-10 ‖x‖_F; the result is then exactly Hermitized.
        sparse_ok: keep sparse input sparse; otherwise densify.

    Raises:
        InputError: non-numeric dtype, not 2-D square, wrong dimension, NaN/inf, non-Hermitian.
    """
    a = _to_array(x, name)
    if not sp.issparse(a):
        if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise InputError(f"`{name}` must have a numeric dtype, got dtype {a.dtype}")
        if a.ndim != 2:
            raise InputError(f"`{name}` must be a 2-D square matrix, got an array of shape {a.shape}")
    elif not np.issubdtype(a.dtype, np.number):
        raise InputError(f"`{name}` must have a numeric dtype, got dtype {a.dtype}")
    if a.shape[0] != a.shape[1]:
        raise InputError(f"`{name}` must be square, got shape {a.shape}")
    if a.shape[0] == 0:
        raise InputError(f"`{name}` must have dimension ≥ 1, got shape {a.shape}")
    if dim is not None and a.shape[0] != dim:
        raise InputError(f"`{name}` must be {dim}×{dim} (the system dimension), got shape {a.shape}")
    if sp.issparse(a):
        a = sp.csr_array(a, dtype=np.complex128, copy=True)
        data = a.data
    else:
        a = np.array(a, dtype=np.complex128, copy=True)
        data = a
    if not np.all(np.isfinite(data)):
        raise InputError(f"`{name}` contains NaN or infinite entries")
    if hermitian:
        err = hermiticity_error(a)
        if err > HERMITIAN_RTOL:
            raise InputError(f"`{name}` must be Hermitian (‖{name} − {name}†‖/‖{name}‖ = {err:.2e})")
        a = (a + a.conj().T) / 2
        if sp.issparse(a):
            a = sp.csr_array(a)
    if sp.issparse(a) and not sparse_ok:
        a = a.toarray()
    return a


def as_real_symmetric(A: np.ndarray, name: str) -> np.ndarray:
    """Checked (A + Aᵀ)/2 of a real square array (``as_operator``'s checks in real arithmetic); a
    diagonal A is symmetric as it is (copied without further d×d temporaries)."""
    if not math.isfinite(float(A.sum())) and not np.all(np.isfinite(A)):
        raise InputError(f"`{name}` contains NaN or infinite entries")
    if not math.isfinite(float(A.sum())):
        raise InputError(f"`{name}` has entries too large to represent (overflow)")
    if int(np.count_nonzero(A)) == int(np.count_nonzero(np.diagonal(A))):
        return A.copy()
    skew = A - A.T
    norm = frobenius(A)
    err = 0.0 if norm == 0 else frobenius(skew) / norm
    if err > HERMITIAN_RTOL:
        raise InputError(f"`{name}` must be Hermitian (‖{name} − {name}†‖/‖{name}‖ = {err:.2e})")
    skew *= -0.5
    skew += A
    return skew


def is_hermitian(A, rtol: float = 1e-12) -> bool:
    """max|A − A†| ≤ rtol·max|A| (dense or sparse; True for the zero matrix)."""
    return bool(abs(A - A.conj().T).max() <= rtol * abs(A).max())


def as_state(x, name: str, dim: int | None = None, atol: float = 1e-10) -> np.ndarray:
    """Validate a density matrix: Hermitian, trace 1, positive semidefinite (to ``atol``·‖ρ‖).

    Returns:
        (d, d) complex128 ndarray, exactly Hermitian.
    """
    rho = as_operator(x, name, dim=dim, hermitian=True, sparse_ok=False)
    tr = np.trace(rho).real
    if abs(tr - 1.0) > 1e-8:
        raise InputError(f"`{name}` must be a density matrix with trace 1, got trace {tr:.6g}")
    lam_min = np.linalg.eigvalsh(rho)[0]
    if lam_min < -max(atol, 1e-8 * np.linalg.norm(rho)):
        raise InputError(f"`{name}` must be positive semidefinite, smallest eigenvalue {lam_min:.3e}")
    return rho


def _as_real(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        if isinstance(x, np.ndarray) and x.ndim == 0 and np.isrealobj(x):
            return float(x)
        raise InputError(f"`{name}` must be a real number, got {type(x).__name__} {x!r}")
    return float(x)


def as_beta(beta, name: str = "beta", allow_inf: bool = True, allow_zero: bool = True) -> float:
    """Validate an inverse temperature: a real number ≥ 0 (or > 0), optionally +inf (T = 0)."""
    b = _as_real(beta, name)
    if math.isnan(b):
        raise InputError(f"`{name}` must be a number, got NaN")
    if math.isinf(b) and not (allow_inf and b > 0):
        raise InputError(f"`{name}` must be finite here, got {b}")
    if b < 0 or (b == 0 and not allow_zero):
        req = "≥ 0" if allow_zero else "> 0"
        raise InputError(f"`{name}` must be {req} (inverse temperature), got {b}")
    return b


def as_nonnegative(values, name: str, length: int | None = None) -> np.ndarray:
    """Validate a 1-D array of finite non-negative reals (e.g. rates)."""
    try:
        arr = np.array(values, dtype=float, copy=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`{name}` must be real non-negative numbers, got {values!r}") from exc
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise InputError(f"`{name}` must be one-dimensional, got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise InputError(f"`{name}` must have {length} entries, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"`{name}` must be finite, got {arr}")
    if np.any(arr < 0):
        raise InputError(f"`{name}` must be ≥ 0, got {arr[arr < 0][0]:.6g} at index {int(np.argmax(arr < 0))}")
    return arr


def as_positive_int(n, name: str) -> int:
    """Validate an integer ≥ 1."""
    if isinstance(n, bool) or not isinstance(n, (numbers.Integral, np.integer)):
        raise InputError(f"`{name}` must be a positive integer, got {n!r}")
    if n < 1:
        raise InputError(f"`{name}` must be ≥ 1, got {n}")
    return int(n)


def as_choice(value, name: str, choices) -> str:
    """Validate a string option among ``choices``."""
    if value not in choices:
        raise InputError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def as_nonnegative_scalar(x, name: str, strict: bool) -> float:
    """A finite real number ≥ 0 (> 0 when ``strict``)."""
    v = _as_real(x, name)
    if not math.isfinite(v):
        raise InputError(f"`{name}` must be a finite real number, got {v}")
    if v < 0 or (strict and v == 0):
        raise InputError(f"`{name}` must be {'> 0' if strict else '≥ 0'}, got {v}")
    return v


def as_real_array(x, name: str) -> np.ndarray:
    """A float64 copy of finite real numbers (any shape)."""
    try:
        arr = np.array(x, dtype=float, copy=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`{name}` must be real numbers, got {x!r}") from exc
    if not np.all(np.isfinite(arr)):
        raise InputError(f"`{name}` must be finite, got {x!r}")
    return arr


def scalar_or_array(arr: np.ndarray):
    """A 0-d array as a NumPy scalar, anything else unchanged."""
    return arr[()] if arr.ndim == 0 else arr


# -- norms that neither overflow nor underflow (entries anywhere in the float range) ---------------
# ``numpy.linalg.norm`` squares the entries, so ‖A‖ of entries ~1e200 is inf and of ~1e-200 is 0;
# scaling by the largest magnitude first, ‖A‖ = m·‖A/m‖ (m = max|A_ij|), keeps every square in [0, 1].
def _unit_scaled(A: np.ndarray, m: float) -> np.ndarray:
    """A/m for m = max|A_ij| > 0 (entries in [0, 1]); a subnormal m is first lifted by 2^600, so that
    the division never overflows."""
    if m < 1e-290:
        A, m = A * 2.0 ** 600, m * 2.0 ** 600
    return A / m


def frobenius(A) -> float:
    """‖A‖_F (2-norm of a vector) without overflow or underflow of the squares."""
    A = np.asarray(A)
    m = float(np.max(np.abs(A))) if A.size else 0.0
    if m == 0 or not math.isfinite(m):
        return m
    return m * float(np.linalg.norm(_unit_scaled(A, m)))


def log_frobenius(A) -> float:
    """log ‖A‖_F (−inf for zero), valid for entries anywhere in the float range."""
    A = np.asarray(A)
    m = float(np.max(np.abs(A))) if A.size else 0.0
    if m == 0:
        return -math.inf
    return math.log(m) + math.log(float(np.linalg.norm(_unit_scaled(A, m))))


def optional_module(name: str, feature: str):
    """Import the optional dependency ``name`` (a module, possibly of a package) that ``feature`` needs.

    Returns:
        the imported module.

    Raises:
        ImportError: the package is not installed; the message names the feature and how to install it.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        package = name.split(".")[0]
        raise ImportError(f"{feature} needs the optional package '{package}', which is not installed "
                          f"(pip install {package})") from exc
