"""Sparse linear algebra behind steady states and spectra (private to :mod:`detbal.dynamics`).

Three solvers act on the column-stacked d²×d² generator matrix L without ever forming it densely:

- :class:`SylvesterPreconditioner` inverts the "no-jump" part of a Lindbladian,
  X ↦ −i(H_eff X − X H_eff†) − zX with H_eff = H − (i/2) Σ_k γ_k A_k†A_k, in O(d³) per solve
  (eigendecomposition of H_eff when well conditioned, else Schur form + LAPACK ``trsyl``).
  The jump ("recycling") terms A ρ A† are left to GMRES, which typically needs 20–60
  iterations, so a steady state at d = 256 (d² = 65 536) costs seconds where a sparse LU of the
  same matrix needs minutes (fill-in of the 2D-like Kronecker structure).
- :class:`BorderedSolver` solves the bordered system
  ``[[L, s·vec(I)], [s·vec(I)†, 0]] [x; μ] = [b; c]``, which is nonsingular iff ker L is
  one-dimensional (a second kernel vector can be made traceless and is then a null vector of the
  bordered matrix), whatever the conditioning of the trace row: vec(I) is orthogonal to the range
  of a trace-preserving L, so it is a valid border on both sides.
- :class:`ShiftedSolver` applies (L − z)⁻¹ and its adjoint (shift-invert Arnoldi).

Each uses a sparse LU (SuperLU) for small d and preconditioned GMRES for large d when the
generator is a Lindbladian (or a sum of Lindbladians), whose H_eff gives the preconditioner.

:class:`EigenFrame`: when H_eff = V diag(μ) V⁻¹ is diagonalisable with a well-conditioned V, GMRES
runs in its eigenframe X = V Y V†, where the no-jump part is diagonal,
    𝓛_Y(Y) = −i(μ_a − μ̄_b) Y_ab + Σ_k γ_k Ã_k Y Ã_k†,   Ã_k = V⁻¹ A_k V,
so a step costs 2 products per jump and the Sylvester preconditioner is an entrywise division
(instead of 2 products per jump, 2 for H_eff and 4 for the preconditioner in the original basis).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import connected_components

from .. import config
from ..errors import ConvergenceError
from ..generators.base import Generator, SumGenerator
from ..generators.lindblad import Lindbladian, lindblad_terms

__all__ = [
    "BorderedSolver",
    "EigenFrame",
    "ShiftedSolver",
    "SingularError",
    "SylvesterPreconditioner",
    "adjoint_apply",
    "check_lu_memory",
    "effective_hamiltonian",
    "eigen_frame",
    "generator_matrix",
    "identity_vector",
    "onenorm",
]

GMRES_RTOL = 1e-12
#: restart length: the Gram–Schmidt cost grows with it; dense jump, d = 64 (eigenframe): steady state
#: 0.43 s (138 iterations) at 30 vs 0.60 s (140) at 120, the gap (shift-invert) 58 s vs 103 s
GMRES_RESTART = 30
#: relative tolerance of the inner solves of shift-invert Arnoldi (each eigenpair's residual is checked
#: afterwards): 49 s vs 58 s for the gap at d = 64 with 1e-12
SHIFT_INVERT_RTOL = 1e-10
GMRES_MAXITER = 80  # restarts (2400 iterations)
#: relative tolerance of the uniqueness probe of the bordered solve (unique iff its residual ≤ 1e-8)
PROBE_RTOL = 1e-10
#: shift z = 1e-3·‖L‖₁ of the no-jump preconditioner (S − z)⁻¹ of the steady-state solve: dense jump,
#: d = 64, 63 GMRES iterations (84 with 1e-2, 168 with 1e-1, 63 with 0)
PRECONDITIONER_SHIFT = 1e-3
_EIG_COND_MAX = 1e6


class SingularError(RuntimeError):
    """The bordered/shifted matrix is singular (exactly, or GMRES cannot reduce the residual)."""


def identity_vector(d: int) -> np.ndarray:
    """vec(I) for column stacking: ones at positions i + d·i."""
    u = np.zeros(d * d, dtype=np.complex128)
    u[np.arange(d) * (d + 1)] = 1.0
    return u


def onenorm(A) -> float:
    """‖A‖₁ (largest column sum of |A_ij|) of a sparse or dense matrix; an estimate
    (Hager–Higham) for a LinearOperator."""
    if isinstance(A, spla.LinearOperator):
        return float(spla.onenormest(A))
    if sp.issparse(A):
        return float(abs(A).sum(axis=0).max()) if A.nnz else 0.0
    return float(np.abs(A).sum(axis=0).max())


def sparse_nnz_estimate(L: Generator) -> int | None:
    """Upper estimate of the nonzeros of ``L.to_sparse()`` for (sums of) Lindbladians, else None."""
    terms = lindblad_terms(L)
    if terms is None:
        return None
    d = L.dim

    def nnz(A):
        return int(A.nnz) if sp.issparse(A) else int(np.count_nonzero(A))

    total = 0
    for t in terms:
        heff = nnz(t.hamiltonian) + sum(nnz(A) ** 2 // max(d, 1) + nnz(A) for A in t.jumps)
        total += 2 * d * min(heff, d * d) + sum(nnz(A) ** 2 for A in t.jumps)
    return total


#: the sparse d²×d² matrix is replaced by ``apply`` when its nonzeros exceed this many times the
#: flops of one ``apply`` (measured: dense jump, d = 64: matvec 16.7 M nonzeros vs 4 d³ = 1 M flops)
_MATRIX_FREE_FACTOR = 4


def _apply_flops(L: Generator) -> float:
    """Flops of one dense ``apply`` of a (sum of) Lindbladian(s): 2d³ per product, 3 products per
    jump (AρA† and the anticommutator through H_eff) plus 2 for H_eff."""
    terms = lindblad_terms(L)
    d = float(L.dim)
    return sum(2 * d ** 3 * (2 + 3 * len(t.jumps)) for t in terms)


def generator_matrix(L: Generator):
    """The d²×d² generator as a sparse matrix, or as a matrix-free LinearOperator (``apply`` /
    ``adjoint``) when the sparse matrix would exceed ``detbal.config.memory_budget`` (e.g. dense
    jump operators at large d). Returns (operator, matrix_free)."""

    est = sparse_nnz_estimate(L)
    if est is not None and est * 28 > config.budget():  # complex value + index, plus conversion copies
        return L.linear_operator(), True
    if est is not None and est > _MATRIX_FREE_FACTOR * _apply_flops(L):
        # dense jumps: A ⊗ Ā has nnz(A)² entries (d⁴ for a dense A), while apply() costs O(d³) per
        # jump; every Krylov step is then cheaper matrix-free (and no LU of a dense d²×d² matrix)
        return L.linear_operator(), True
    try:
        return sp.csr_array(L.to_sparse()), False
    except MemoryError:  # MemoryBudgetError included
        return L.linear_operator(), True


def check_lu_memory(A, what: str) -> None:
    """Refuse a sparse LU (SuperLU) of the n×n matrix A whose factors would exceed the memory budget.

    SuperLU takes no memory limit, so the fill is estimated before factorising: 24 bytes (complex
    value + index) per entry of L + U, with nnz(L + U) ≈ min(n², nnz(A)·√n) (a 2D-grid-like fill,
    what COLAMD reaches on the Kronecker structure of a generator; dense factors at worst), ×1.5
    for SuperLU's working copies."""
    n = A.shape[0]
    nnz = A.nnz if sp.issparse(A) else n * n
    fill = min(float(n) * n, float(nnz) * np.sqrt(n))
    d = int(round(np.sqrt(n)))
    config.check_memory(1.5 * 24.0 * fill, f"sparse LU of the d²×d² generator for {what} (d = {d})",
                        "a smaller model (fewer sites or levels), or a Lindbladian / Davies generator "
                        "whose structured or preconditioned iterative path needs no factorisation")


def adjoint_apply(A, v):
    """A† v for a sparse matrix or a LinearOperator."""
    if isinstance(A, spla.LinearOperator):
        return A.rmatvec(v)
    return A.conj().T @ v


def effective_hamiltonian(L: Generator) -> np.ndarray | None:
    """H_eff = H − (i/2) Σ_k γ_k A_k†A_k of a Lindbladian or a sum of Lindbladians, else None."""
    if isinstance(L, Lindbladian):
        H = L.hamiltonian
        out = H.toarray() if sp.issparse(H) else np.array(H, dtype=np.complex128)
        for g, A in zip(L.rates, L.jumps):
            if g:
                AA = A.conj().T @ A
                out = out - 0.5j * g * (AA.toarray() if sp.issparse(AA) else AA)
        return out
    if isinstance(L, SumGenerator):
        parts = [effective_hamiltonian(t) for t in L.terms]
        if any(p is None for p in parts):
            return None
        return sum(parts[1:], parts[0])
    return None


class SylvesterPreconditioner:
    """Solve (S − z)X = C and its adjoint for S(X) = −i(H_eff X − X H_eff†), Re z > 0.

    ``kind``: "eig" (diagonalise H_eff), "schur" (Schur form + ``trsyl``) or None (eig when the
    eigenvector matrix has condition number < 1e6, else Schur). When H_eff is block diagonal up
    to a permutation (a conserved quantity such as the magnetisation of a spin chain with
    σ± boundary jumps; found as the connected components of its nonzero pattern), "eig"
    diagonalises block by block ("eig-blocks"): V is block diagonal, one application costs at most
    4d·Σ_a d_a² instead of 4d³, and block pairs where the right-hand side vanishes are skipped.

    The eigenvalues of S are −i(μ_a − μ̄_b) with Im μ ≤ 0, so Re spec(S) ≤ 0 and S − z is
    invertible for Re z > 0. Vectors are column-stacked vec(X).
    """

    def __init__(self, Heff: np.ndarray, z: complex, kind: str | None = None):
        self.d = Heff.shape[0]
        self.z = complex(z)
        if kind != "schur" and self._try_blocks(Heff, kind):
            return
        if kind != "schur":
            mu, V = np.linalg.eig(Heff)
            cond = np.linalg.cond(V)
        if kind == "eig" or (kind is None and np.isfinite(cond) and cond < _EIG_COND_MAX):
            self.kind = "eig"
            self.V, self.Vinv = V, np.linalg.inv(V)
            self._denominators(mu)
        else:
            self.kind = "schur"
            T, Z = sla.schur(Heff, output="complex")
            self.T, self.Z = T, Z
            self.Tz = T - 1j * self.z * np.eye(self.d)
            self.trsyl = sla.lapack.get_lapack_funcs("trsyl", (T,))

    def _denominators(self, mu):
        # forward: (H_eff − iz) X − X H_eff† = iC ; X = V Y V†
        self.den = mu[:, None] - np.conj(mu)[None, :] - 1j * self.z
        # adjoint: (H_eff† + i z̄) X − X H_eff = −iC ; X = V^{-†} Y V^{-1}
        self.den_h = np.conj(mu)[:, None] - mu[None, :] + 1j * np.conj(self.z)

    def _try_blocks(self, Heff, kind) -> bool:
        """Block-by-block eigendecomposition when H_eff has ≥ 2 invariant blocks (class docstring)."""
        n_comp, labels = connected_components(sp.csr_array(np.abs(Heff) > 0), directed=False)
        if n_comp < 2:
            return False
        perm = np.argsort(labels, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(labels))])
        blocks, mus = [], []
        for a in range(n_comp):
            idx = perm[bounds[a]:bounds[a + 1]]
            mu, V = np.linalg.eig(Heff[np.ix_(idx, idx)])
            if kind is None and not (np.isfinite(np.linalg.cond(V)) and np.linalg.cond(V) < _EIG_COND_MAX):
                return False
            Vi = np.linalg.inv(V)
            blocks.append((slice(bounds[a], bounds[a + 1]), (V, Vi, V.conj().T, Vi.conj().T)))
            mus.append(mu)
        self.kind = "eig-blocks"
        self.perm, self.blocks = perm, blocks
        self._denominators(np.concatenate(mus))
        return True

    def _mat(self, c):
        return np.asarray(c, dtype=np.complex128).reshape((self.d, self.d), order="F")

    def _blocks_solve(self, C, adjoint: bool) -> np.ndarray:
        """Block pair by block pair (V block diagonal, so X_ab depends on C_ab only); pairs with
        C_ab = 0 are skipped, so a right-hand side inside one symmetry sector (e.g. the block-diagonal
        density matrices of a magnetisation-conserving Liouvillian) costs Σ_a d_a³, not d·Σ_a d_a²."""
        p = self.perm
        Cp = C[np.ix_(p, p)]
        X = np.zeros_like(Cp)
        # matrices per block: 0 V, 1 V⁻¹, 2 V†, 3 V⁻†
        if adjoint:   # X = V^{-†} [(V†(−iC)V)/den_h] V^{-1}
            first, second, den, phase = (2, 0), (3, 1), self.den_h, -1j
        else:         # X = V [(V⁻¹(iC)V^{-†})/den] V†
            first, second, den, phase = (1, 3), (0, 2), self.den, 1j
        for sa, ma in self.blocks:
            for sb, mb in self.blocks:
                Cab = Cp[sa, sb]
                if not Cab.any():
                    continue
                Y = (ma[first[0]] @ (phase * Cab) @ mb[first[1]]) / den[sa, sb]
                X[sa, sb] = ma[second[0]] @ Y @ mb[second[1]]
        out = np.empty_like(X)
        out[np.ix_(p, p)] = X
        return out.reshape(-1, order="F")

    def solve(self, c: np.ndarray) -> np.ndarray:
        C = self._mat(c)
        if self.kind == "eig-blocks":
            return self._blocks_solve(C, adjoint=False)
        if self.kind == "eig":
            Y = (self.Vinv @ (1j * C) @ self.Vinv.conj().T) / self.den
            X = self.V @ Y @ self.V.conj().T
        else:
            R = self.Z.conj().T @ (1j * C) @ self.Z
            Y, scale, _ = self.trsyl(self.Tz, self.T, R, trana="N", tranb="C", isgn=-1)
            X = self.Z @ (Y / scale) @ self.Z.conj().T
        return X.reshape(-1, order="F")

    def solve_h(self, c: np.ndarray) -> np.ndarray:
        C = self._mat(c)
        if self.kind == "eig-blocks":
            return self._blocks_solve(C, adjoint=True)
        if self.kind == "eig":
            Y = (self.V.conj().T @ (-1j * C) @ self.V) / self.den_h
            X = self.Vinv.conj().T @ Y @ self.Vinv
        else:
            R = self.Z.conj().T @ (-1j * C) @ self.Z
            Y, scale, _ = self.trsyl(self.Tz, self.T, R, trana="C", tranb="N", isgn=-1)
            X = self.Z @ (Y / scale) @ self.Z.conj().T
        return X.reshape(-1, order="F")


#: largest condition number of H_eff's eigenvectors for which GMRES runs in its eigenframe (the
#: residual in the original basis is then within cond(V)² of the eigenframe one; checked afterwards)
_FRAME_COND_MAX = 1e3


class EigenFrame:
    """A Lindbladian in the eigenframe of H_eff = V diag(μ) V⁻¹ (module docstring), on column-stacked
    vectors y = vec(Y), X = V Y V†.

    Args:
        mu, V: eigenvalues and eigenvectors of H_eff (cond(V) ≤ 1e3).
        jumps: (γ_k, A_k) of the Lindbladian, dense or sparse (d, d).
    """

    def __init__(self, mu: np.ndarray, V: np.ndarray, jumps):
        self.d = V.shape[0]
        self.mu, self.V, self.Vinv = mu, V, np.linalg.inv(V)
        self.no_jump = -1j * (mu[:, None] - np.conj(mu)[None, :])  # eigenvalues of the no-jump part
        self.jumps = [(float(g), np.asarray(self.Vinv @ (A @ V))) for g, A in jumps if g]
        G = V.conj().T @ V
        self.trace_row = G.reshape(-1, order="F")                    # Tr X = ⟨vec G, y⟩
        self.identity = np.linalg.inv(G).reshape(-1, order="F")       # vec(V⁻¹ I V⁻†)

    def _mat(self, y):
        return np.asarray(y, dtype=np.complex128).reshape((self.d, self.d), order="F")

    def matvec(self, y) -> np.ndarray:
        Y = self._mat(y)
        out = self.no_jump * Y
        for g, A in self.jumps:
            out += g * (A @ Y @ A.conj().T)
        return out.reshape(-1, order="F")

    def rmatvec(self, y) -> np.ndarray:
        Y = self._mat(y)
        out = np.conj(self.no_jump) * Y
        for g, A in self.jumps:
            out += g * (A.conj().T @ Y @ A)
        return out.reshape(-1, order="F")

    def to_frame(self, x) -> np.ndarray:
        """vec(V⁻¹ X V⁻†)."""
        return (self.Vinv @ self._mat(x) @ self.Vinv.conj().T).reshape(-1, order="F")

    def from_frame(self, y) -> np.ndarray:
        """vec(V Y V†)."""
        return (self.V @ self._mat(y) @ self.V.conj().T).reshape(-1, order="F")

    def to_frame_h(self, x) -> np.ndarray:
        """vec(V† X V): the frame of the adjoint (dual) vectors, ⟨x₁, x₂⟩ = ⟨to_frame_h x₁, to_frame x₂⟩."""
        return (self.V.conj().T @ self._mat(x) @ self.V).reshape(-1, order="F")

    def from_frame_h(self, y) -> np.ndarray:
        """vec(V⁻† Y V⁻¹), inverse of :meth:`to_frame_h`."""
        return (self.Vinv.conj().T @ self._mat(y) @ self.Vinv).reshape(-1, order="F")


def eigen_frame(L: Generator, Heff: np.ndarray | None, scale: float = 1.0) -> EigenFrame | None:
    """The :class:`EigenFrame` of scale·𝓛 for a Lindbladian (or a sum of them) when it pays: H_eff
    (of scale·𝓛) diagonalisable with cond(V) ≤ 1e3, its rotated jumps (n dense d×d arrays) within the
    memory budget, and n ≤ 2 or dense jumps (2 products per jump replace 2 per jump + 6); else None."""
    terms = lindblad_terms(L)
    if terms is None or Heff is None:
        return None
    d = L.dim
    jumps = [(g, A) for t in terms for g, A in zip(t.rates, t.jumps) if g]
    dense = sum(1 for _, A in jumps if (A.nnz if sp.issparse(A) else np.count_nonzero(A)) > d * d / 8)
    if len(jumps) > max(2, dense) or not config.fits_memory(16 * d * d * (len(jumps) + 8)):
        return None
    mu, V = np.linalg.eig(Heff)
    cond = np.linalg.cond(V)
    if not (np.isfinite(cond) and cond <= _FRAME_COND_MAX):
        return None
    return EigenFrame(mu, V, [(g * scale, A) for g, A in jumps])


class _TimeUp(Exception):
    """Raised inside the GMRES callback when the deadline has passed (carries the last residual)."""


def _gmres(op, rhs, M, rtol=GMRES_RTOL, max_iterations=GMRES_RESTART * GMRES_MAXITER, progress=None,
           deadline: float | None = None):
    """GMRES with a relative tolerance; returns (x, relative residual, iterations).
    ``progress(iteration, preconditioned residual)`` is called after every inner step. Past
    ``deadline`` (a ``time.perf_counter()`` value) it raises ConvergenceError carrying the last
    preconditioned relative residual."""
    count = [0]

    def cb(r):
        count[0] += 1
        if progress is not None:
            progress(count[0], float(r))
        if deadline is not None and time.perf_counter() > deadline:
            raise _TimeUp(float(r))

    restart = int(min(GMRES_RESTART, max_iterations))
    try:
        x, _info = spla.gmres(op, rhs, M=M, rtol=rtol, atol=0.0, restart=restart,
                              maxiter=int(np.ceil(max_iterations / restart)), callback=cb, callback_type="pr_norm")
    except _TimeUp as exc:
        r = exc.args[0]
        raise ConvergenceError(f"GMRES stopped at the time limit after {count[0]} iterations with preconditioned "
                               f"relative residual {r:.2e}", r) from None
    nb = np.linalg.norm(rhs)
    res = np.linalg.norm(op.matvec(x) - rhs) / (nb if nb else 1.0)
    return x, float(res), count[0]


class BorderedSolver:
    """Solver of B = [[L, s u], [s u†, 0]] with u = vec(I) (module docstring).

    Args:
        A: sparse d²×d² generator matrix (csr).
        d: Hilbert dimension.
        Heff: effective Hamiltonian for the GMRES preconditioner, or None.
        kind: "lu" (sparse LU) or "gmres".

    Raises:
        SingularError: the LU meets an exactly zero pivot.
    """

    def __init__(self, A, d: int, Heff=None, kind: str = "lu", maxiter: int | None = None, progress=None,
                 frame: EigenFrame | None = None, deadline: float | None = None):
        self.A, self.d, self.n = A, d, d * d
        self.maxiter, self.progress, self.deadline = maxiter, progress, deadline
        self.frame = frame if kind == "gmres" else None
        self.norm = max(onenorm(A), np.finfo(float).tiny)
        self.u = identity_vector(d)
        self.s = self.norm / np.sqrt(d)
        self.kind = kind
        self.iterations = 0
        n = self.n
        if kind == "lu":
            check_lu_memory(A, "the steady state")
            col = sp.csc_array(self.s * self.u[:, None])
            B = sp.bmat([[sp.csc_array(A), col], [col.T, None]], format="csc")
            try:
                self.lu = spla.splu(B, permc_spec="COLAMD")
            except RuntimeError as exc:  # "Factor is exactly singular"
                raise SingularError(str(exc)) from exc
            self.B_norm = max(onenorm(B), self.norm)
        else:
            if Heff is None:
                raise ValueError("GMRES path needs H_eff")
            z = PRECONDITIONER_SHIFT * self.norm
            if self.frame is None:  # original basis: Sylvester solves, border u = vec(I) on both sides
                self.P = SylvesterPreconditioner(Heff, z)
                self._apply, self._pinv = (lambda x: self.A @ x), self.P.solve
                self.col, self.row = self.u, self.u
            else:  # eigenframe of H_eff: border V⁻¹V⁻† (column) and Tr X = ⟨vec V†V, y⟩ (row)
                den = self.frame.no_jump.reshape(-1, order="F") - z
                self._apply, self._pinv = self.frame.matvec, (lambda x: x / den)
                self.col, self.row = self.frame.identity, self.frame.trace_row
            self.Pinv_col = self._pinv(self.col)
            self.schur = -self.s ** 2 * np.vdot(self.row, self.Pinv_col)
            self.op = spla.LinearOperator((n + 1, n + 1), matvec=self._matvec, dtype=np.complex128)
            self.M = spla.LinearOperator((n + 1, n + 1), matvec=self._precondition, dtype=np.complex128)

    def _matvec(self, v):
        v = np.asarray(v).ravel()
        x, m = v[: self.n], v[self.n]
        return np.concatenate([self._apply(x) + self.s * m * self.col, [self.s * np.vdot(self.row, x)]])

    def _precondition(self, v):
        v = np.asarray(v).ravel()
        x, m = v[: self.n], v[self.n]
        y = self._pinv(x)
        b = (m - self.s * np.vdot(self.row, y)) / self.schur
        return np.concatenate([y - self.s * b * self.Pinv_col, [b]])

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """B⁻¹ rhs (length d² + 1). GMRES: raises SingularError if the residual stalls above 1e-8,
        ConvergenceError (with the residual reached) at ``maxiter``."""
        rhs = np.asarray(rhs, dtype=np.complex128)
        if self.kind == "lu":
            return self.lu.solve(rhs)
        if self.frame is not None:
            rhs = np.concatenate([self.frame.to_frame(rhs[: self.n]), rhs[self.n:]])
        limit = GMRES_RESTART * GMRES_MAXITER if self.maxiter is None else self.maxiter
        x, res, its = _gmres(self.op, rhs, self.M, max_iterations=limit, progress=self.progress,
                             deadline=self.deadline)
        if self.frame is not None:
            x = np.concatenate([self.frame.from_frame(x[: self.n]), x[self.n:]])
        self.iterations += its
        if res > 1e-8 and self.maxiter is not None:
            raise ConvergenceError(f"GMRES on the bordered system stopped at maxiter = {self.maxiter} with "
                                   f"relative residual {res:.2e}", res)
        if res > 1e-8:
            raise SingularError(f"GMRES on the bordered system stalled at relative residual {res:.2e}")
        return x

    def steady_vector(self) -> np.ndarray:
        """x with L x = 0 and Tr x = 1/s (trace constraint imposed through the border)."""
        rhs = np.zeros(self.n + 1, dtype=np.complex128)
        rhs[-1] = 1.0
        return self.solve(rhs)[: self.n]

    def unique_kernel_certificate(self, tol: float, rng) -> tuple[bool, float]:
        """Evidence that ker L is one-dimensional.

        LU: condition estimate κ₁(B) = ‖B‖₁‖B⁻¹‖₁ (Hager–Higham), unique iff κ₁ < 1/tol.
        GMRES: solve B z = [r; 0] for a random r; a second kernel vector makes B singular and its
        left null vector [J; 0] (J a traceless conserved quantity) keeps a residual ≈ |⟨J, r⟩| that
        GMRES cannot remove. Returns (unique, κ estimate or stalled residual).
        """
        if self.kind == "lu":
            n1 = self.n + 1
            inv = spla.LinearOperator((n1, n1), matvec=self.lu.solve,
                                      rmatvec=lambda v: self.lu.solve(np.asarray(v), trans="H"),
                                      dtype=np.complex128)
            kappa = float(self.B_norm * spla.onenormest(inv))
            return bool(np.isfinite(kappa) and kappa < 1.0 / tol), kappa
        r = rng.normal(size=self.n) + 1j * rng.normal(size=self.n)
        rhs = np.concatenate([r / np.linalg.norm(r), [0.0]])
        budget = max(3 * self.iterations, 100)
        # rtol 1e-10: two decades below the test (a second kernel vector leaves ≈ |⟨J, r⟩| ~ n^{-1/2});
        # dense jump, d = 128: 66 instead of 77 iterations
        _, res, its = _gmres(self.op, rhs, self.M, rtol=PROBE_RTOL, max_iterations=budget, deadline=self.deadline)
        self.iterations += its
        return bool(res <= 1e-8), res


class ShiftedSolver:
    """(L − z)⁻¹ and (L − z)^{-†} for Re z > 0 (never singular for a GKSL generator)."""

    def __init__(self, A, d: int, z: complex, Heff=None, kind: str = "lu", maxiter: int | None = None,
                 frame: EigenFrame | None = None):
        self.A, self.d, self.n, self.z = A, d, d * d, complex(z)
        self.kind = kind
        self.frame = frame if kind == "gmres" else None
        self.iterations = 0
        self.limit = GMRES_RESTART * GMRES_MAXITER if maxiter is None else int(maxiter)
        n = self.n
        if kind == "lu":
            check_lu_memory(A, "shift-invert eigenvalues")
            shifted = sp.csc_array(A - self.z * sp.identity(n, dtype=np.complex128, format="csc"))
            try:
                self.lu = spla.splu(shifted, permc_spec="COLAMD")
            except RuntimeError as exc:
                raise SingularError(str(exc)) from exc
        elif self.frame is not None:  # eigenframe of H_eff: diagonal preconditioner (module docstring)
            z, f = self.z, self.frame
            den = f.no_jump.reshape(-1, order="F") - z
            self.op = spla.LinearOperator((n, n), matvec=lambda y: f.matvec(y) - z * np.ravel(y),
                                          dtype=np.complex128)
            self.op_h = spla.LinearOperator((n, n), matvec=lambda y: f.rmatvec(y) - np.conj(z) * np.ravel(y),
                                            dtype=np.complex128)
            self.M = spla.LinearOperator((n, n), matvec=lambda y: np.ravel(y) / den, dtype=np.complex128)
            self.M_h = spla.LinearOperator((n, n), matvec=lambda y: np.ravel(y) / np.conj(den), dtype=np.complex128)
        else:
            z = self.z
            Aop = spla.aslinearoperator(A)
            self.P = SylvesterPreconditioner(Heff, self.z)
            self.op = spla.LinearOperator((n, n), matvec=lambda x: Aop.matvec(x) - z * np.ravel(x),
                                          dtype=np.complex128)
            self.op_h = spla.LinearOperator((n, n), matvec=lambda x: Aop.rmatvec(x) - np.conj(z) * np.ravel(x),
                                            dtype=np.complex128)
            self.M = spla.LinearOperator((n, n), matvec=self.P.solve, dtype=np.complex128)
            self.M_h = spla.LinearOperator((n, n), matvec=self.P.solve_h, dtype=np.complex128)

    def solve(self, b: np.ndarray) -> np.ndarray:
        b = np.asarray(b, dtype=np.complex128).ravel()
        if self.kind == "lu":
            return self.lu.solve(b)
        f = self.frame
        x, res, its = _gmres(self.op, b if f is None else f.to_frame(b), self.M, rtol=SHIFT_INVERT_RTOL,
                             max_iterations=self.limit)
        self.iterations += its
        if res > 1e-8:
            raise ConvergenceError(f"GMRES for (L − z)⁻¹ stopped after ≤ {self.limit} iterations at relative "
                                   f"residual {res:.2e}", res)
        return x if f is None else f.from_frame(x)

    def solve_h(self, b: np.ndarray) -> np.ndarray:
        b = np.asarray(b, dtype=np.complex128).ravel()
        if self.kind == "lu":
            return self.lu.solve(b, trans="H")
        f = self.frame
        x, res, its = _gmres(self.op_h, b if f is None else f.to_frame_h(b), self.M_h, rtol=SHIFT_INVERT_RTOL,
                             max_iterations=self.limit)
        self.iterations += its
        if res > 1e-8:
            raise ConvergenceError(f"GMRES for (L − z)^-† stopped after ≤ {self.limit} iterations at relative "
                                   f"residual {res:.2e}", res)
        return x if f is None else f.from_frame_h(x)

    def inverse_operator(self, adjoint: bool = False) -> spla.LinearOperator:
        f = self.solve_h if adjoint else self.solve
        return spla.LinearOperator((self.n, self.n), matvec=f, dtype=np.complex128)
