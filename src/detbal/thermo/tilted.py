"""Tilted generators and the linear algebra of full counting statistics (no physics API).

Two problems share one interface, used by :mod:`detbal.thermo.fcs`:

* :class:`SectorProblem`: a block of the generator closed under every jump: populations under a
  rate matrix W (a Davies generator with a non-degenerate spectrum, or a classical rate matrix),
  or the ν = 0 Bohr sector of a degenerate Davies generator (populations and coherences between
  degenerate levels); counted transitions n → m carry increments ν[m, n]. Vectors are (n,)
  arrays, Tr x = t·x (t = 1 on populations, 0 on coherences).
* :class:`JumpProblem`: density matrices under a generator 𝓛 with counted jump terms
  𝓙_k(X) = γ_k A_k X A_k† (or explicit superoperators). Vectors are column-stacked (d²,) complex
  arrays, Tr x = Σ_i x[i + d·i].

Interface: ``stationary`` (trace-1 vector), ``trace(x)``, ``moment(x, p)`` = 𝓛^{(p)}x with
𝓛^{(p)} = Σ_k Π_f (ν_k^{(f)})^{p_f} 𝓙_k (p a tuple of powers, one per field), ``drazin(b)`` = 𝓡b
with 𝓡 the Drazin (group) inverse of 𝓛 (𝓛𝓡 = 𝓡𝓛 = 1 − |ρ⟩⟨⟨I|, 𝓡ρ = 0, Tr 𝓡x = 0), and
``theta(s)`` = the eigenvalue of largest real part of 𝓛_s = 𝓛 + Σ_k (e^{s·ν_k} − 1)𝓙_k.

𝓡b is the solution x of the bordered system [[𝓛, c·vec(I)], [c·vec(I)†, 0]] [x; μ] = [(1 − P)b; 0]
(sparse LU for small d, Sylvester-preconditioned GMRES for large Lindbladians; a dense LU of the
(n+1)×(n+1) bordered block on the sector path): never an explicit inverse.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .. import config
from ..errors import ConvergenceError, InputError, MemoryBudgetError
from ..linalg.linsolve import BorderedSolver, effective_hamiltonian, generator_matrix, onenorm
from ..linalg.steady import steady_state
from .counting import JumpCounting, SectorCounting

__all__ = ["JumpProblem", "SectorProblem", "problem_for"]

#: tilted generators with d² ≤ this many entries per side are diagonalised densely
DENSE_TILT_MAX = 1024
#: outside this range of ‖𝓛‖₁ the Drazin solves work with 𝓛/‖𝓛‖₁ (as the steady-state solver does)
_SCALE_MIN, _SCALE_MAX = 1e-100, 1e100


def _top(ev: np.ndarray) -> float:
    return float(np.max(ev.real))


class SectorProblem:
    """Counting statistics on a closed block of the generator: a Pauli rate matrix or the ν = 0 Bohr
    sector of a Davies generator (module docstring); vectors are (n,) arrays, Tr x = t·x."""

    def __init__(self, c: SectorCounting):
        self.W, self.base, self.edges, self.fields = c.W, c.base, c.edges, c.fields
        self.t = np.asarray(c.trace, dtype=float)
        self.n = c.W.shape[0]
        self.dtype = np.complex128 if np.iscomplexobj(c.W) else np.float64
        self.stationary = np.asarray(c.stationary, dtype=self.dtype)
        self.steady = None            # no d²×d² steady-state solve on this path
        self.method = c.method
        self._lu = None

    def trace(self, x) -> float:
        return float(np.real(np.dot(self.t, x)))

    def moment(self, x, powers) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.result_type(self.dtype, x))
        for off, nu in self.edges:
            if not any(k and np.any(nu[f]) for f, k in enumerate(powers)):
                continue
            w = np.ones(off.shape)
            for f, k in enumerate(powers):
                if k:
                    w = w * nu[f] ** k
            out += (w * off) @ x
        return out

    def drazin(self, b) -> np.ndarray:
        """𝓡b from the bordered system [[W, t], [tᵀ, 0]] (t the trace functional, tᵀW = 0)."""
        b = np.asarray(b)
        b = b - self.trace(b) * self.stationary
        n = self.n
        if self._lu is None:
            norm = max(onenorm(self.W), np.finfo(float).tiny)
            self._scale = norm
            B = np.zeros((n + 1, n + 1), dtype=self.dtype)
            B[:n, :n] = self.W / norm
            B[:n, n] = B[n, :n] = self.t / np.sqrt(np.sum(self.t))
            self._B = B
            self._lu = sla.lu_factor(B, check_finite=False)
        rhs = np.append(b / self._scale, 0.0)
        x = sla.lu_solve(self._lu, rhs, check_finite=False)
        x = x + sla.lu_solve(self._lu, rhs - self._B @ x, check_finite=False)   # one refinement step
        return x[:n]

    def tilted(self, s) -> np.ndarray:
        """(n, n) tilted block W_s = base + Σ_b e^{s·ν_b} ∘ W_b^{jump}, summed over every bath (never
        W + (e^{s·ν} − 1)∘W_b, whose cancellation loses the small rates at large |s·ν|)."""
        Ws = np.array(self.base, dtype=self.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for off, nu in self.edges:
                expo = np.tensordot(np.asarray(s, dtype=float), nu, axes=1)
                Ws += np.where(off != 0, np.exp(expo) * off, 0.0)
        if not np.all(np.isfinite(Ws)):
            raise InputError(f"`s` = {s}: e^{{s·ν}} overflows the tilted rate matrix; use a smaller |s|")
        return Ws

    def theta(self, s) -> float:
        return _top(np.linalg.eigvals(self.tilted(s)))


class JumpProblem:
    """Counting statistics of a quantum generator with counted jump terms (module docstring)."""

    def __init__(self, c: JumpCounting):
        L = c.generator
        self.L, self.terms, self.fields = L, c.terms, c.fields
        self.d = d = L.dim
        ss = steady_state(L)
        self.steady = ss
        self.stationary = ss.state.reshape(-1, order="F").astype(np.complex128)
        self._diag = np.arange(d) * (d + 1)
        self._solver = None
        self._grp = None              # grouped jump superoperators (tilted matrices), built on first use
        self._Lmat = None             # the generator matrix for the tilted eigenvalues, built on first use
        self.method = "jumps"

    def trace(self, x) -> float:
        return float(np.sum(x[self._diag]).real)

    def _unvec(self, x):
        return np.asarray(x).reshape((self.d, self.d), order="F")

    def moment(self, x, powers) -> np.ndarray:
        X = self._unvec(x)
        out = np.zeros((self.d, self.d), dtype=np.complex128)
        for t in self.terms:
            w = 1.0
            for f, k in enumerate(powers):
                if k:
                    w *= t.weights[f] ** k
            if w:
                out += w * t.apply(X)
        return out.reshape(-1, order="F")

    # -- Drazin inverse through the bordered system --------------------------------------------------
    def _build_solver(self):
        L, d = self.L, self.d
        A, matrix_free = generator_matrix(L)
        Heff = effective_hamiltonian(L)
        norm = onenorm(A)
        if norm == 0:
            raise InputError("the generator is zero: every state is stationary and counting statistics are "
                             "undefined")
        self._scale = 1.0
        if not _SCALE_MIN <= norm <= _SCALE_MAX:
            A, self._scale = A * (1.0 / norm), norm
            Heff = None if Heff is None else Heff / norm
        kind = "lu" if ((d <= config.LU_MAX_DIM and not matrix_free) or Heff is None) else "gmres"
        if kind == "lu" and matrix_free:
            raise MemoryBudgetError(f"the sparse d²×d² generator (d = {d}) exceeds detbal.config.memory_budget and "
                                    "only Lindbladians have a matrix-free (GMRES) Drazin solve",
                                    budget=int(config.memory_budget))
        self._A = A
        self._solver = BorderedSolver(A, d, Heff=Heff, kind=kind)
        self.method = f"jumps:{'sparse-lu' if kind == 'lu' else 'gmres'}"

    def drazin(self, b) -> np.ndarray:
        if self._solver is None:
            self._build_solver()
        b = np.asarray(b, dtype=np.complex128)
        b = (b - self.trace(b) * self.stationary) / self._scale
        solver, n = self._solver, self.d * self.d
        rhs = np.append(b, 0.0)
        x = solver.solve(rhs)[:n]
        r = b - self._A @ x
        nb = np.linalg.norm(b)
        if nb and np.linalg.norm(r) > 1e-11 * nb:                # one refinement step
            x = x + solver.solve(np.append(r, -solver.s * np.sum(x[self._diag])))[:n]
        return x

    # -- tilted generator -------------------------------------------------------------------------------
    def _groups(self):
        """{weights tuple: summed sparse superoperator} of the counted jumps (cached)."""
        if self._grp is None:
            nnz = sum(t.nnz() for t in self.terms)
            config.check_memory(2 * 28.0 * nnz, f"sparse jump superoperators of the counted channels (d = {self.d})",
                                "a smaller model, or counting_statistics (cumulants need no tilted matrix)")
            grp: dict = {}
            for t in self.terms:
                key = tuple(t.weights)
                grp[key] = t.matrix() if key not in grp else grp[key] + t.matrix()
            self._grp = [(np.array(k), sp.csr_array(M)) for k, M in grp.items()]
        return self._grp

    def tilted(self, s):
        """The d²×d² tilted generator 𝓛_s = 𝓛 + Σ_k (e^{s·ν_k} − 1)𝓙_k (dense for d² ≤ 1024, else
        sparse). Entries shared by a counted jump and other terms carry an absolute error
        ~ε·max|𝓙_k| when e^{s·ν_k} ≪ 1 (the Pauli path avoids this by building W_s bath by bath)."""
        n = self.d * self.d
        if self._Lmat is None:
            A, matrix_free = generator_matrix(self.L)
            if matrix_free:
                raise MemoryBudgetError(f"the tilted generator (d = {self.d}) does not fit the memory budget; "
                                        "cumulants (counting_statistics) need no tilted matrix",
                                        budget=int(config.memory_budget))
            self._Lmat = A.toarray() if n <= DENSE_TILT_MAX else sp.csr_array(A)
        out = self._Lmat.copy()
        s = np.asarray(s, dtype=float)
        for w, M in self._groups():
            c = float(np.expm1(np.dot(s, w)))
            if not np.isfinite(c):
                raise InputError(f"`s` = {s}: e^{{s·ν}} overflows the tilted generator; use a smaller |s|")
            if c:
                out = out + c * (M.toarray() if n <= DENSE_TILT_MAX else M)
        return out

    def theta(self, s) -> float:
        M = self.tilted(s)
        if not sp.issparse(M):
            return _top(np.linalg.eigvals(M))
        try:
            start = self.stationary + 1e-3 * np.linspace(1.0, 2.0, self.stationary.shape[0])
            val = spla.eigs(M, k=1, which="LR", v0=start, tol=1e-13, maxiter=5000, return_eigenvectors=False)
        except spla.ArpackNoConvergence as exc:
            raise ConvergenceError(f"ARPACK did not converge on the tilted generator at s = {s}", float("nan")) from exc
        return float(val[0].real)


def problem_for(c) -> SectorProblem | JumpProblem:
    """The problem class for a resolved counting (:func:`~detbal.thermo.counting.resolve_counting`)."""
    return SectorProblem(c) if isinstance(c, SectorCounting) else JumpProblem(c)
