"""Exact quantum Gibbs samplers: Chen–Kastoryano–Gilyén (CKG) and Ding–Li–Lin (DLL) generators.

Both are KMS-detailed-balanced w.r.t. σ = e^{−βH}/Z for any H and any jump set {A^a} closed under
adjoint, and purely dissipative (no −i[H, ·]; σ is stationary because 𝓛 is KMS-self-adjoint and
trace preserving). Everything is built in the energy eigenbasis H = V diag(E) V† (ν_ij = E_i − E_j,
the energy gained in the jump j → i; exactly degenerate levels share one energy):

    𝓛(ρ) = V [ Σ_r F_r Y F_r† − J Y − Y J† ] V†,   Y = V†ρV,   J = M/2 + iB,   M = Σ_r F_r†F_r,
    B_ij = (i/2) tanh(β(E_i − E_j)/4) M_ij        (the coherent term, −i[B, ·]; B = B†).

* DLL: F = K_a with (K_a)_ij = q̂(ν_ij) A^a_ij, one per jump (and per filter when several are given).
* CKG: the transition part is T(ρ) = Σ_a Σ_{ijkl} α(ν_ij, ν_kl) A^a_ij ρ_jl conj(A^a_kl) |i⟩⟨k| with the
  closed-form kernel α of :mod:`.sampler_kernels`, and M_ik = Σ_{a,j} α(ν_jk, ν_ji) conj(A^a_ji) A^a_jk.
  ``to_dense()`` uses the closed form. ``apply``/``adjoint`` are matrix-free through a symmetric
  ω-quadrature (K nodes ω_k, weights c_k ≥ 0) compressed to R ≪ K filters F_r(ν) = Σ_k mix_rk √c_k
  f̂(ω_k − ν), with F_{a,r} = F_r(ν) ∘ A^a: that quadrature generator is itself exactly
  KMS-detailed-balanced, trace preserving and completely positive; its kernel differs from α by at
  most ``quadrature.error`` (relative, weighted by the jumps' matrix elements, see
  :class:`~.sampler_kernels.OmegaQuadrature`), which is ≤ ``quadrature_tol``. The rule is built on
  first use (a small filter width needs many nodes; ``to_dense`` needs none). Cost of ``apply``:
  2·R·n (CKG) or 2·n (DLL) products of d×d matrices, real when H and the jumps are real.

Channels (for blame tables): "transition" (Σ_r F_r·F_r†), "loss" (−½{M, ·}) and "coherent" (−i[B, ·]);
their sum is the generator. The transition part and the loss + coherent part are each
KMS-self-adjoint on their own.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from .. import config
from .._checks import as_beta, as_nonnegative_scalar, as_operator, frobenius
from ..eigenbasis import Eigenbasis, eigenbasis
from ..errors import InputError
from .base import StoredGenerator
from .sampler_kernels import (
    CKG_WEIGHTS,
    DLL_FILTERS,
    OmegaQuadrature,
    SmoothedWeight,
    check_kms_filter,
    ckg_quadrature,
    coherent_term,
    dll_filter,
    flush,
    gaussian_factor,
    sandwich_sum,
)

__all__ = ["GibbsSampler", "gibbs_sampler"]

DEFAULT_QUADRATURE_TOL = 1e-10
_CACHE_FRACTION = 8  # the CKG filter table is cached when it takes ≤ 1/8 of the memory budget


def _real_if_possible(A: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(A.real) if np.iscomplexobj(A) and not np.any(A.imag) else A


class GibbsSampler(StoredGenerator):
    """A CKG or DLL Gibbs sampler in the energy eigenbasis (module docstring). Build with
    :func:`gibbs_sampler`.

    Attributes:
        kind: "ckg" or "dll"; weight: the CKG weight or DLL filter family ("user" for a callable);
        filter_width: σ_E (CKG) or the DLL width used (None when the family has none);
        quadrature: the CKG ω-rule (:class:`~.sampler_kernels.OmegaQuadrature`), None for DLL;
        adjoints_added: names of the jumps A† appended to close the set under adjoint.
    """

    has_eigenbasis_gksl = True

    def __init__(self, eb: Eigenbasis, H: np.ndarray, beta: float, jumps: list, kind: str, weight: str,
                 width: float | None, filters: list | None, quadrature_tol: float, adjoints_added: tuple,
                 name: str):
        self._eb, self._H, self._beta, self._d = eb, H, beta, eb.dim
        self.kind, self.weight, self.filter_width = kind, weight, width
        self.adjoints_added = adjoints_added
        self.name = name
        e = eb.levels[eb.level_labels]
        self._nu = e[:, None] - e[None, :]
        self._jumps = [_real_if_possible(A) for A in jumps]
        self._stack = np.stack(self._jumps) if all(np.isrealobj(A) for A in self._jumps) else \
            np.stack([A.astype(complex) for A in self._jumps])
        self._tol = quadrature_tol
        self._filtered = None
        self._table = None
        envelope = np.max(np.abs(self._stack), axis=0)
        if kind == "dll":
            values = np.stack([np.asarray(q(self._nu), dtype=complex) for q in filters])
            values = _real_if_possible(flush(values, self._nu, beta, envelope))
            self._filtered = (values[:, None] * self._stack[None]).reshape((-1, self._d, self._d))
        else:
            self._smoothing = SmoothedWeight(weight, beta, width)
            self._envelope = envelope
        self._real = bool(np.isrealobj(self._stack) and (kind == "ckg" or np.isrealobj(self._filtered)))

    @functools.cached_property
    def quadrature(self) -> OmegaQuadrature | None:
        """The compressed symmetric ω-rule of ``apply`` (CKG; built on first use), None for DLL."""
        if self.kind == "dll":
            return None
        return ckg_quadrature(self._smoothing, self._nu, self._jumps, self._tol)

    @functools.cached_property
    def _loss_and_coherent(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(M, B, J) of ``apply``: M = Σ_r F_r†F_r (CKG: of the quadrature filters), B by the tanh
        rule, J = M/2 + iB; built on first use."""
        d = self._d
        M = np.zeros((d, d), dtype=float if self._real else complex)
        for F in self._terms():
            Fv = F.reshape(-1, d)  # rows: F_1; F_2; …  so Fv†Fv = Σ F†F
            M += Fv.conj().T @ Fv
        M = (M + M.conj().T) / 2
        B = coherent_term(M, self._nu, self._beta)
        return M, B, _real_if_possible(M / 2 + 1j * B)

    @property
    def _M(self) -> np.ndarray:
        return self._loss_and_coherent[0]

    @property
    def _B(self) -> np.ndarray:
        return self._loss_and_coherent[1]

    @property
    def _J(self) -> np.ndarray:
        return self._loss_and_coherent[2]

    # -- the operators -------------------------------------------------------------------------------
    def _filter_table(self) -> np.ndarray:
        """(R, d, d) CKG filter values F_r(ν_ij), flushed; cached when it takes ≤ 1/8 of the budget."""
        if self._table is not None:
            return self._table
        q = self.quadrature
        table = flush(q.filters(self._nu, self.filter_width), self._nu, self._beta, self._envelope)
        if config.fits_memory(_CACHE_FRACTION * table.nbytes):
            self._table = table
        return table

    def _terms(self, scale: np.ndarray | None = None):
        """The transition operators F_r in the eigenbasis (times ``scale`` entrywise when given), as
        stacks (c, d, d) of at most 2²⁴ numbers."""
        d = self._d
        if self.kind == "dll":
            step = max(1, (1 << 24) // (d * d))
            for a in range(0, self._filtered.shape[0], step):
                F = self._filtered[a:a + step]
                yield F if scale is None else F * scale[None]
            return
        table = self._filter_table()
        step = max(1, (1 << 24) // (d * d * self._stack.shape[0]))
        for a in range(0, table.shape[0], step):
            phi = table[a:a + step] if scale is None else table[a:a + step] * scale[None]
            yield (phi[:, None] * self._stack[None]).reshape((-1, d, d))

    @property
    def eigenbasis(self) -> Eigenbasis:
        return self._eb

    @property
    def hamiltonian_part(self) -> np.ndarray:
        """The coherent term B in the original basis, V B V† (it does not commute with σ). For CKG, here
        and in ``loss_operator``, ``coherent_operator`` and ``coherent_share``: of the ω-quadrature
        generator that ``apply`` uses (within ``quadrature.error`` of the closed form)."""
        return self._eb.from_eigen(self._B)

    @property
    def loss_operator(self) -> np.ndarray:
        """M = Σ_r F_r†F_r = T†(I) in the eigenbasis, (d, d) Hermitian."""
        return self._M.copy()

    @property
    def coherent_operator(self) -> np.ndarray:
        """B in the eigenbasis, (d, d) Hermitian."""
        return self._B.copy()

    @property
    def coherent_share(self) -> float:
        """‖B‖_F / ‖M/2‖_F: the coherent correction relative to the loss term it corrects (< 1,
        since |tanh| < 1)."""
        m = frobenius(self._M) / 2
        return frobenius(self._B) / m if m > 0 else 0.0

    @property
    def channels(self) -> tuple:
        return tuple(SamplerPart(self, part) for part in ("transition", "loss", "coherent"))

    def kms_parts(self) -> tuple:
        """("transition", 𝓣) and ("loss + coherent", −½{M, ·} − i[B, ·]): each KMS-self-adjoint on its own."""
        transition, loss, coherent = self.channels
        return (("transition", transition), ("loss + coherent", loss + coherent))

    # -- action --------------------------------------------------------------------------------------
    def _eigen_apply(self, Y: np.ndarray, parts=("transition", "loss", "coherent")) -> np.ndarray:
        out = np.zeros((self._d, self._d), complex)
        if "transition" in parts:
            out += sandwich_sum(self._terms(), Y, self._real, adjoint=False)
        J = _part_J(self, parts)
        if J is not None:
            out -= J @ Y + Y @ J.conj().T
        return out

    def _eigen_adjoint(self, X: np.ndarray, parts=("transition", "loss", "coherent")) -> np.ndarray:
        out = np.zeros((self._d, self._d), complex)
        if "transition" in parts:
            out += sandwich_sum(self._terms(), X, self._real, adjoint=True)
        J = _part_J(self, parts)
        if J is not None:
            out -= J.conj().T @ X + X @ J
        return out

    def _apply(self, rho):
        eb = self._eb
        return eb.from_eigen(self._eigen_apply(eb.to_eigen(rho)))

    def _adjoint(self, X):
        eb = self._eb
        return eb.from_eigen(self._eigen_adjoint(eb.to_eigen(X)))

    # -- declared structure (Generator.has_eigenbasis_gksl) -------------------------------------------
    def eigenbasis_jump_count(self) -> int:
        """Number of transition operators F_r (DLL: jumps × filters; CKG: jumps × ω-nodes)."""
        n = len(self._jumps)
        return self._filtered.shape[0] if self.kind == "dll" else n * self.quadrature.size

    def eigenbasis_gksl(self) -> tuple[list, np.ndarray]:
        """([F_r], B) in the eigenbasis: 𝓛 is the GKSL generator with jumps F_r and Hamiltonian B
        (for CKG the quadrature generator that ``apply`` uses)."""
        return [np.asarray(F, dtype=complex) for stack in self._terms() for F in stack], self._B.astype(complex)

    def kms_transformed(self, log_p: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """Y ↦ 𝓛̂(Y) = Γ^{−1/2}𝓛Γ^{1/2}(Y), Γ(X) = σ^{1/2}Xσ^{1/2}, for σ = diag(e^{log_p}) in the eigenbasis:

            𝓛̂(Y) = Σ_r F̂_r Y F̂_r† − Ĵ Y − Y Ĵ†,   F̂ = σ^{−1/4} F σ^{1/4},  Ĵ = σ^{−1/4} J σ^{1/4}

        (entrywise factors e^{(log p_j − log p_i)/4}). Hermitian when 𝓛 is KMS-self-adjoint w.r.t. σ;
        real (maps real matrices to real matrices) when ``real_form`` is True. (d, d) → (d, d)."""
        lp = np.asarray(log_p, dtype=float)
        scale = np.exp((lp[None, :] - lp[:, None]) / 4)
        J = self._J * scale
        real = self._real

        def hat(Y):
            out = sandwich_sum(self._terms(scale), Y, real, adjoint=False)
            out -= J @ Y + Y @ J.conj().T
            return out
        return hat

    @property
    def real_form(self) -> bool:
        """True when every eigenbasis operator is real (real H and real jumps): 𝓛 maps real to real."""
        return bool(self._real and np.isrealobj(self._J))

    # -- dense ---------------------------------------------------------------------------------------
    def to_dense(self) -> np.ndarray:
        """Column-stacked d²×d² matrix (original basis), memory-budget guarded. CKG: the closed-form
        kernel α (not the quadrature); DLL: exact."""
        return rotate_superoperator(self.eigenbasis_dense(), self._eb.vectors)

    def eigenbasis_dense(self, parts=("transition", "loss", "coherent")) -> np.ndarray:
        """Column-stacked d²×d² matrix of Y ↦ V†𝓛(VYV†)V, or of the named parts only (CKG: closed-form α)."""
        d = self._d
        config.check_memory(4 * config.superoperator_bytes(d), f"dense Gibbs-sampler superoperator (d = {d})",
                            "apply()/adjoint() (matrix-free)")
        out = np.zeros((d * d, d * d), complex)
        if "transition" in parts:
            if self.kind == "dll":
                for F in self._filtered:
                    out += np.kron(F.conj(), F)
            else:
                out += self._closed_form_transition()
        if "loss" in parts or "coherent" in parts:
            M = self._M if self.kind == "dll" else self.closed_form_loss()
            J = np.zeros((d, d), complex)
            if "loss" in parts:
                J += M / 2
            if "coherent" in parts:
                J += 1j * coherent_term(M, self._nu, self._beta)
            eye = np.eye(d)
            out -= np.kron(eye, J) + np.kron(J.conj(), eye)
        return out

    def _closed_form_transition(self) -> np.ndarray:
        """T_{(i + dk), (j + dl)} = Σ_a α(ν_ij, ν_kl) A^a_ij conj(A^a_kl) (O(d⁴))."""
        d, nu = self._d, self._nu
        w = self._smoothing
        alpha = w.kernel(nu[:, :, None, None], nu[None, None, :, :])  # [i, j, k, l]
        T4 = np.zeros((d, d, d, d), complex)
        for A in self._jumps:
            T4 += alpha * (A[:, :, None, None] * A.conj()[None, None, :, :])
        return T4.transpose(0, 2, 1, 3).reshape((d * d, d * d), order="F")

    def closed_form_loss(self) -> np.ndarray:
        """M_ik = Σ_{a,j} α(ν_jk, ν_ji) conj(A^a_ji) A^a_jk = G(E_i − E_k) Σ_j h(E_j − (E_i + E_k)/2) Σ_a
        conj(A^a_ji) A^a_jk with the closed-form α (CKG only; (d, d), O(n d³))."""
        if self.kind != "ckg":
            raise InputError("closed_form_loss() is defined for kind='ckg' (DLL's M = Σ K†K is exact)")
        e = self._eb.levels[self._eb.level_labels]
        mid = (e[:, None] + e[None, :]) / 2
        M = np.zeros((self._d, self._d), complex)
        for j in range(self._d):
            hj = self._smoothing.smoothed(e[j] - mid)
            for A in self._jumps:
                M += hj * np.outer(A[j].conj(), A[j])
        M *= gaussian_factor(self._nu, self.filter_width)
        return (M + M.conj().T) / 2


class SamplerPart(StoredGenerator):
    """One part of a Gibbs sampler as a Generator: "transition", "loss" or "coherent"."""

    def __init__(self, parent: GibbsSampler, part: str):
        self._parent, self._part, self._d = parent, part, parent.dim
        self._beta = parent.beta  # a part of a generator thermal at β (heat currents, entropy production)
        self.name = part

    @property
    def hamiltonian_part(self):
        return self._parent.hamiltonian_part if self._part == "coherent" else None

    def _apply(self, rho):
        eb = self._parent.eigenbasis
        return eb.from_eigen(self._parent._eigen_apply(eb.to_eigen(rho), (self._part,)))

    def to_dense(self) -> np.ndarray:
        """Column-stacked d²×d² matrix of this part (CKG: closed-form kernel), memory-budget guarded."""
        return rotate_superoperator(self._parent.eigenbasis_dense((self._part,)), self._parent.eigenbasis.vectors)

    def _adjoint(self, X):
        eb = self._parent.eigenbasis
        return eb.from_eigen(self._parent._eigen_adjoint(eb.to_eigen(X), (self._part,)))


def _part_J(gen: GibbsSampler, parts) -> np.ndarray | None:
    loss, coh = "loss" in parts, "coherent" in parts
    if loss and coh:
        return gen._J
    if loss:
        return gen._M / 2
    if coh:
        return 1j * gen._B
    return None


def rotate_superoperator(Le: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Column-stacked matrix of ρ ↦ V 𝓛_e(V†ρV) V† from that of 𝓛_e (O(d⁵)):
    L[A + dB, C + dE] = Σ V_Aa conj(V_Bb) T[a, b, c, e] conj(V_Cc) V_Ee, T[a, b, c, e] = Le[a + db, c + de]."""
    d = V.shape[0]
    T = np.asarray(Le).reshape((d, d, d, d), order="F")
    T = np.einsum("Aa,abce->Abce", V, T, optimize=True)
    T = np.einsum("Bb,Abce->ABce", V.conj(), T, optimize=True)
    T = np.einsum("Cc,ABce->ABCe", V.conj(), T, optimize=True)
    T = np.einsum("Ee,ABCe->ABCE", V, T, optimize=True)
    return T.reshape((d * d, d * d), order="F")


# -- construction ------------------------------------------------------------------------------------
def _jump_list(jumps, d: int) -> list:
    if jumps is None or isinstance(jumps, (str, bytes)) or sp.issparse(jumps) or \
            (isinstance(jumps, np.ndarray) and jumps.ndim == 2) or not hasattr(jumps, "__iter__"):
        raise InputError("`jumps` must be a non-empty sequence of (d, d) operators (wrap a single operator in a list)")
    out = [as_operator(A, f"jumps[{k}]", dim=d) for k, A in enumerate(jumps)]
    if not out:
        raise InputError("`jumps` must contain at least one operator")
    return [A.toarray() if sp.issparse(A) else np.asarray(A) for A in out]


def _closed_under_adjoint(jumps: list) -> tuple[list, tuple]:
    """Append A† for every jump whose adjoint is not in the set (‖B − A†‖ ≤ 1e-10‖A‖)."""
    out = list(jumps)
    added = []
    for k, A in enumerate(jumps):
        Ad = A.conj().T
        scale = max(frobenius(A), np.finfo(float).tiny)
        if not any(frobenius(B - Ad) <= 1e-10 * scale for B in out):
            out.append(np.array(Ad))
            added.append(f"jumps[{k}]†")
    return out, tuple(added)


def _filters(kind_weight, filter, beta, width, nu) -> tuple[list, str]:
    if filter is None:
        return [dll_filter(kind_weight, beta, width)], kind_weight
    fs = list(filter) if isinstance(filter, Sequence) and not isinstance(filter, str) else [filter]
    if not fs or not all(callable(f) for f in fs):
        raise InputError("`filter` must be a callable q̂(ν) or a sequence of them")
    for k, f in enumerate(fs):
        check_kms_filter(f, beta, nu, "filter" if len(fs) == 1 else f"filter[{k}]")
    return fs, "user"


def gibbs_sampler(H: ArrayLike | Eigenbasis, beta: float, jumps: Sequence[ArrayLike], kind: str = "ckg",
                  weight: str | None = None, filter_width: float | None = None,
                  filter: Callable | Sequence[Callable] | None = None, *,
                  quadrature_tol: float = DEFAULT_QUADRATURE_TOL, name: str | None = None,
                  conserved=None) -> GibbsSampler:
    """An exact KMS-detailed-balanced quantum Gibbs sampler for σ = e^{−βH}/Z (module docstring).

    Args:
        H: (d, d) Hermitian Hamiltonian (ndarray, sparse, Qobj) or its :class:`~detbal.Eigenbasis`.
        beta: inverse temperature, finite and > 0.
        jumps: (d, d) operators A^a; the set is closed under adjoint by appending each missing A†
            (listed in ``adjoints_added``).
        kind: "ckg" (Chen–Kastoryano–Gilyén) or "dll" (Ding–Li–Lin).
        weight: CKG transition weight "metropolis" (default), "glauber" or "gaussian"; DLL filter
            family "gaussian" (default), "metropolis" or "glauber" (formulas in
            :mod:`detbal.generators.sampler_kernels`).
        filter_width: CKG σ_E (default 1/β); DLL Gaussian width σ (default √2/β, giving
            q̂(ν) = exp(−β²ν²/8 − βν/4)) or Metropolis cut-off S (default none); > 0.
        filter: DLL only: a user filter q̂(ν) (vectorised callable) or a sequence of them (one filtered
            jump per jump and filter); each must satisfy q̂(−ν) = e^{βν/2} conj(q̂(ν)) on the Bohr
            frequencies, else InputError.
        quadrature_tol: CKG only: bound on the measured error of the ω-quadrature kernel used by
            ``apply`` (default 1e-10).
        name: generator name (default "ckg sampler" / "dll sampler").
        conserved: a conserved quantity Q of H, diagonal in the computational basis ((d, d)
            operator or its d labels; [H, Q] = 0 checked): H is diagonalised sector by sector
            (Σ_s n_s³ instead of d³) and each jump rotated to the eigenbasis sector by sector,
            O(d·Σ_s n_s²) instead of O(d³). The jumps need not conserve Q nor change it by a fixed
            amount: V†AV is exact for any A. The sampler itself is basis independent — its
            filtered jumps Σ_ν q̂(ν)A_ν use the projectors on the energy levels, whatever
            eigenvectors span a degenerate level — so it equals the sampler built without Q.

    Returns:
        GibbsSampler (a Generator; ``hamiltonian`` = H, ``beta`` = β, ``hamiltonian_part`` = B).

    Raises:
        InputError: β not finite and > 0, width ≤ 0, jumps of the wrong shape, an unknown kind or
            weight, a filter that fails the KMS relation, options of the other kind.

    Example:
        >>> import numpy as np
        >>> X, Z = np.array([[0, 1], [1, 0]]), np.diag([1.0, -1.0])
        >>> G = gibbs_sampler(Z + 0.3 * X, 1.0, [X], kind="dll")
        >>> from detbal import gibbs_state
        >>> bool(np.abs(G.apply(gibbs_state(Z + 0.3 * X, 1.0))).max() < 1e-14)
        True
    """
    if kind not in ("ckg", "dll"):
        raise InputError(f"`kind` must be 'ckg' or 'dll', got {kind!r}")
    b = as_beta(beta, "beta", allow_inf=False, allow_zero=False)
    eb = eigenbasis(H, name="H", conserved=conserved)
    Hm = eb.operator() if isinstance(H, Eigenbasis) else as_operator(H, "H", hermitian=True, sparse_ok=False)
    width = None if filter_width is None else as_nonnegative_scalar(filter_width, "filter_width", strict=True)
    jump_list, added = _closed_under_adjoint(_jump_list(jumps, eb.dim))
    rotated = [eb.to_eigen_cleaned(A) for A in jump_list]
    e = eb.levels[eb.level_labels]
    if kind == "ckg":
        if filter is not None:
            raise InputError("`filter` is a DLL option; CKG filters with the Gaussian f̂ of width `filter_width`")
        weight = "metropolis" if weight is None else weight
        if weight not in CKG_WEIGHTS:
            raise InputError(f"`weight` must be one of {', '.join(map(repr, CKG_WEIGHTS))} for kind='ckg', got {weight!r}")
        tol = as_nonnegative_scalar(quadrature_tol, "quadrature_tol", strict=True)
        width = 1.0 / b if width is None else width
        filters = None
    else:
        if weight is not None and filter is not None:
            raise InputError("pass either `weight` (a DLL filter family) or `filter` (your own q̂), not both")
        weight = "gaussian" if weight is None and filter is None else weight
        if filter is None and weight not in DLL_FILTERS:
            raise InputError(f"`weight` must be one of {', '.join(map(repr, DLL_FILTERS))} for kind='dll', got {weight!r}")
        filters, weight = _filters(weight, filter, b, width, e[:, None] - e[None, :])
        if weight == "gaussian" and width is None:
            width = math.sqrt(2) / b
        tol = DEFAULT_QUADRATURE_TOL
    return GibbsSampler(eb, Hm, b, rotated, kind, weight, width, filters, tol, added,
                        name or f"{kind} sampler")
