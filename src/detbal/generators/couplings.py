"""Input checks of :func:`detbal.generators.davies.davies` (internal): the Hamiltonian, the
couplings (S, bath) and the bath names. Real input stays real (a real eigenbasis makes V†SV four
times cheaper) and is checked in real arithmetic, without a complex copy.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .._checks import HERMITIAN_RTOL, as_operator, as_real_symmetric, hermiticity_error
from ..baths.bath import Bath
from ..eigenbasis import Eigenbasis, diagonalise, eigenbasis
from ..errors import InputError

__all__ = ["assign_names", "eigenbasis_of", "parse_couplings", "real_if_possible"]


def real_if_possible(A):
    """Drop an identically zero imaginary part (real eigenbases make V†SV 4× cheaper)."""
    data = A.data if hasattr(A, "data") and not isinstance(A, np.ndarray) else A
    if np.iscomplexobj(data) and not np.any(data.imag):
        return np.ascontiguousarray(A.real) if isinstance(A, np.ndarray) else A.real.astype(np.float64)
    return A


def _hamiltonian(H) -> np.ndarray:
    """Validated dense Hamiltonian, real (float64) when it has no imaginary part.

    A real ndarray is checked in real arithmetic (same checks as ``as_operator``: square, finite,
    ‖H − Hᵀ‖_F ≤ 1e-10‖H‖_F) to avoid a complex copy of a large matrix.
    """
    if isinstance(H, np.ndarray) and H.dtype.kind in "fiu" and H.ndim == 2 and H.shape[0] == H.shape[1] > 0:
        return as_real_symmetric(np.asarray(H, dtype=np.float64), "H")
    return real_if_possible(as_operator(H, "H", hermitian=True, sparse_ok=False))


def _coupling_operator(S, name: str, d: int):
    """Validated Hermitian coupling: real sparse/dense input is checked in real arithmetic (the
    same checks as ``as_operator``); anything else goes through ``as_operator``."""
    real_sparse = sp.issparse(S) and S.dtype.kind in "fiu"
    real_dense = isinstance(S, np.ndarray) and S.dtype.kind in "fiu" and S.ndim == 2
    if real_dense and S.shape == (d, d):
        return as_real_symmetric(np.asarray(S, dtype=np.float64), name)
    if real_sparse and S.shape == (d, d):
        A = sp.csr_array(S, dtype=np.float64)
        if not np.all(np.isfinite(A.data)):
            raise InputError(f"`{name}` contains NaN or infinite entries")
        err = hermiticity_error(A)
        if err > HERMITIAN_RTOL:
            raise InputError(f"`{name}` must be Hermitian (‖{name} − {name}†‖/‖{name}‖ = {err:.2e})")
        return sp.csr_array((A + A.T) * 0.5)
    return real_if_possible(as_operator(S, name, dim=d, hermitian=True))


def eigenbasis_of(H, tol, conserved=None) -> tuple[Eigenbasis, np.ndarray | None]:
    """(Eigenbasis of H with grouping tolerance ``tol``, validated H or None if H was an Eigenbasis).
    ``conserved``: a conserved quantity Q (operator or sector labels, see
    :func:`~detbal.eigenbasis.eigenbasis`): H is diagonalised sector by sector."""
    if tol is not None:
        tol = float(tol)
        if not (math.isfinite(tol) and tol >= 0):
            raise InputError(f"`bohr_tol` must be a finite number ≥ 0, got {tol}")
    if isinstance(H, Eigenbasis):
        return eigenbasis(H, tol=tol, conserved=conserved), None
    if conserved is not None and sp.issparse(H):   # kept sparse: diagonalised block by block
        h = real_if_possible(as_operator(H, "H", hermitian=True, sparse_ok=True))
        return eigenbasis(h, tol=tol, conserved=conserved), h
    h = _hamiltonian(H)
    if conserved is not None:
        return eigenbasis(h, tol=tol, conserved=conserved), h
    return diagonalise(h, tol), h


def parse_couplings(couplings, d):
    """Validated [(S, bath), …]: S Hermitian (d, d) (real kept real), bath a detbal.Bath."""
    if isinstance(couplings, tuple) and len(couplings) == 2 and isinstance(couplings[1], Bath):
        raise InputError("`couplings` must be a list of (S, bath) pairs; wrap the single pair in a list")
    if not isinstance(couplings, (list, tuple)) or len(couplings) == 0:
        raise InputError(f"`couplings` must be a non-empty list of (S, bath) pairs, got {couplings!r}")
    out = []
    for k, pair in enumerate(couplings):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InputError(f"`couplings[{k}]` must be a pair (S, bath), got {type(pair).__name__}")
        S, bath = pair
        if not isinstance(bath, Bath):
            raise InputError(f"`couplings[{k}][1]` must be a detbal.Bath, got {type(bath).__name__}")
        try:
            S = _coupling_operator(S, f"couplings[{k}][0]", d)
        except InputError as exc:
            raise InputError(f"{exc} (the system operator S of H_I = S ⊗ B)") from None
        out.append((S, bath))
    return out


def assign_names(entries):
    """entries: list of (explicit name or None, payload). Auto names bath0, bath1, … skip taken ones."""
    taken = [n for n, _ in entries if n is not None]
    dup = {n for n in taken if taken.count(n) > 1}
    if dup:
        raise InputError(f"bath names must be unique within a generator; duplicated: {sorted(dup)} "
                         "(one bath coupling through several operators S1, S2 is the single coupling "
                         "S1 + S2; independent baths need distinct names)")
    names, k = [], 0
    for n, _ in entries:
        if n is None:
            while f"bath{k}" in taken:
                k += 1
            n = f"bath{k}"
            taken.append(n)
        names.append(n)
    return names
