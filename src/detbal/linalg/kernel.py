"""Kernel of a generator: stationary states, conserved quantities and the projection onto them.

0 is a semisimple eigenvalue of a GKSL generator and dim ker 𝓛 = dim ker 𝓛†.
With right kernel vectors ρ_a (𝓛ρ_a = 0) and left ones J_a (𝓛†J_a = 0, conserved quantities)
biorthonormalised, Tr[J_a† ρ_b] = δ_ab, the projection onto the kernel along the range is

    𝓟(ρ0) = Σ_a Tr[J_a† ρ0] ρ_a,

the stationary state reached from ρ0 (the time average of e^{t𝓛}ρ0 when 𝓛 also has purely
imaginary eigenvalues). 𝓟 is positive and trace preserving (I is conserved), so 𝓟 of pure
states are stationary density matrices; a basis of them spans ker 𝓛.

Two ways to compute the bases (private to :mod:`detbal.dynamics`):
- "dense-svd": singular value decomposition of the d²×d² matrix (d² ≤ 1600); kernel vectors are
  the right singular vectors with σ ≤ tol·σ_max, conserved quantities the left ones.
- "shift-invert": Arnoldi (ARPACK) on (L − z)⁻¹ and (L − z)^{-†} with a small real z > 0, using
  the sparse LU or preconditioned GMRES of :mod:`detbal._linsolve`; eigenvalues with
  |λ| ≤ tol·‖L‖₁ form the kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .. import config
from .linsolve import ShiftedSolver, onenorm
from ..errors import ConvergenceError
from ..generators.base import unvec, vec

__all__ = ["Kernel", "dense_kernel", "shift_invert_kernel", "stationary_basis"]



@dataclass(frozen=True, eq=False)
class Kernel:
    """Right (R) and left (J) kernel bases as columns of (d², k) arrays, biorthonormal J†R = I."""

    R: np.ndarray
    J: np.ndarray
    method: str
    eigenvalues: np.ndarray  # the near-zero eigen/singular values that were counted

    @property
    def dim(self) -> int:
        return int(self.R.shape[1])

    def project(self, rho: np.ndarray) -> np.ndarray:
        """𝓟(ρ) as a (d, d) matrix."""
        d = math.isqrt(self.R.shape[0])
        return unvec(self.R @ (self.J.conj().T @ vec(rho)), d)


def _biorthonormalise(R: np.ndarray, J: np.ndarray, method: str, values) -> Kernel:
    G = J.conj().T @ R
    if np.linalg.cond(G) > 1e10:
        raise ConvergenceError(f"{method}: left and right kernel bases are not dual (cond {np.linalg.cond(G):.1e}); "
                               "the zero eigenvalue looks defective, which a GKSL generator cannot have")
    J = J @ np.linalg.inv(G).conj().T
    return Kernel(R, J, method, np.asarray(values))


def dense_kernel(A, tol: float) -> Kernel:
    """Kernel of the d²×d² matrix by SVD (counts σ_i ≤ tol·σ_max)."""
    n = A.shape[0]
    d = math.isqrt(n)
    config.check_memory(3 * config.superoperator_bytes(d), f"dense kernel SVD (d = {d})", "method='shift-invert'")
    M = A.toarray() if sp.issparse(A) else np.asarray(A)
    U, s, Vh = np.linalg.svd(M)
    scale = s[0] if s.size and s[0] > 0 else 1.0
    k = max(int(np.count_nonzero(s <= tol * scale)), 1)
    return _biorthonormalise(Vh[-k:].conj().T, U[:, -k:], "dense-svd", s[-k:])


def _near_zero(A, solver: ShiftedSolver, adjoint: bool, tol: float, norm: float):
    """Eigenvectors of A (or A†) with |λ| ≤ tol·‖A‖₁, by shift-invert Arnoldi; k grows until a
    nonzero eigenvalue shows up."""
    n = A.shape[0]
    z = solver.z.conjugate() if adjoint else solver.z
    if isinstance(A, spla.LinearOperator):
        op = A.H if adjoint else A
    else:
        op = A.conj().T if adjoint else A
    k = min(6, n - 2)
    while True:
        ncv = min(n, max(2 * k + 1, 20))
        config.check_memory(16.0 * n * (ncv + k + 2), f"Arnoldi basis of {ncv} vectors for a kernel of dimension "
                            f"≥ {k} (d = {math.isqrt(n)})",
                            "a smaller model (fewer sites or levels); a Davies generator counts its kernel "
                            "from its sector structure")
        try:
            v0 = np.random.default_rng(0).normal(size=n) + 0j  # reproducible Arnoldi start
            vals, vecs = spla.eigs(op, k=k, sigma=z, OPinv=solver.inverse_operator(adjoint), ncv=ncv, v0=v0,
                                   which="LM", tol=1e-14, maxiter=max(1000, 10 * n))
        except spla.ArpackNoConvergence as exc:
            raise ConvergenceError(f"shift-invert Arnoldi did not converge ({exc})") from exc
        zero = np.abs(vals) <= tol * norm
        if not zero.all() or k >= n - 2:
            return vals[zero], vecs[:, zero]
        k = min(2 * k, n - 2)


def shift_invert_kernel(A, tol: float, Heff=None) -> Kernel:
    """Kernel bases from shift-invert Arnoldi around z = 1e-3‖A‖₁ > 0 (right and left)."""
    n = A.shape[0]
    d = math.isqrt(n)
    if n <= 4:  # ARPACK needs k < n − 1
        return dense_kernel(A, tol)
    norm = max(onenorm(A), np.finfo(float).tiny)
    matrix_free = isinstance(A, spla.LinearOperator)
    kind = "lu" if (Heff is None or (d <= config.LU_MAX_DIM and not matrix_free)) else "gmres"
    solver = ShiftedSolver(A, d, 1e-3 * norm, Heff=Heff, kind=kind)
    vals, R = _near_zero(A, solver, False, tol, norm)
    _, J = _near_zero(A, solver, True, tol, norm)
    if R.shape[1] != J.shape[1] or R.shape[1] == 0:
        raise ConvergenceError(f"shift-invert: {R.shape[1]} right vs {J.shape[1]} left kernel vectors found "
                               f"(tolerance {tol:g}·‖L‖₁); cannot build the kernel projection")
    # orthonormalise each basis (ARPACK vectors of a degenerate eigenvalue may be nearly parallel)
    R = np.linalg.qr(R)[0]
    J = np.linalg.qr(J)[0]
    return _biorthonormalise(R, J, f"shift-invert({kind})", vals)


def _clean_state(X: np.ndarray) -> np.ndarray:
    X = (X + X.conj().T) / 2
    return X / np.trace(X).real


def stationary_basis(kernel: Kernel, rng=None) -> tuple[np.ndarray, ...]:
    """k linearly independent stationary density matrices 𝓟(|ψ⟩⟨ψ|) spanning ker 𝓛.

    Candidates: the computational-basis projectors |i⟩⟨i| first (so block-diagonal kernels give
    the natural states, e.g. |0⟩⟨0| and |1⟩⟨1| for a dephasing qubit), then random pure states.
    """
    k = kernel.dim
    d = math.isqrt(kernel.R.shape[0])
    rng = np.random.default_rng(0) if rng is None else rng
    chosen: list[np.ndarray] = []
    Q = np.zeros((d * d, 0), dtype=np.complex128)

    def consider(psi):
        nonlocal Q
        rho = np.outer(psi, psi.conj())
        P = kernel.project(rho)
        tr = np.trace(P).real
        if tr <= 1e-8:
            return
        P = _clean_state(P)
        v = vec(P)
        r = v - Q @ (Q.conj().T @ v)
        if np.linalg.norm(r) > 1e-6 * np.linalg.norm(v):
            chosen.append(P)
            Q = np.column_stack([Q, r / np.linalg.norm(r)])

    eye = np.eye(d, dtype=np.complex128)
    for i in range(d):
        if len(chosen) == k:
            break
        consider(eye[i])
    tries = 0
    while len(chosen) < k and tries < 20 * k + 20:
        psi = rng.normal(size=d) + 1j * rng.normal(size=d)
        consider(psi / np.linalg.norm(psi))
        tries += 1
    return tuple(chosen)


def project_state(kernel: Kernel, rho0: np.ndarray) -> np.ndarray:
    """𝓟(ρ0), Hermitian with trace 1."""
    return _clean_state(kernel.project(rho0))
