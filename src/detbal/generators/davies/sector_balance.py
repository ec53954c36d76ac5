"""Block-by-block norms of the σ-transformed Davies generator for detailed-balance certificates
(internal), accumulated on one running log-scale so that no block over- or underflows
(the σ-scaling itself is :func:`detbal.eigenbasis.log_scaled`).
"""

from __future__ import annotations

import math

import numpy as np

from ...eigenbasis import log_scaled, max_log_magnitude, sigma_exponent

__all__ = ["balance_norms"]


def _sumsq(A: np.ndarray) -> float:
    a = np.ravel(A)
    return float(np.vdot(a, a).real)


_KEYS = ("norm_hat", "dissipative_antisym", "dissipative_norm", "antisym")
_SEPARABLE_SPAN = 700.0  # |log p/2 − mid| below which e^{±(·)} are finite floats


class _ScaledSums:
    """Squared norms of σ-transformed blocks accumulated on one scale e^{2C} (log domain, no clipping).

    C is a running maximum of the log-magnitudes of the scaled entries seen so far; when a block
    raises it, the sums accumulated so far are rescaled by e^{2(C_old − C_new)} (terms below e^{−745}
    relative underflow, harmlessly: the certificate uses ratios only)."""

    def __init__(self):
        self.log_scale = -math.inf
        self.sums = dict.fromkeys(_KEYS, 0.0)

    def _rescale(self, c: float) -> None:
        if c > self.log_scale:
            f = math.exp(2 * (self.log_scale - c)) if np.isfinite(self.log_scale) else 0.0
            for key in _KEYS:
                self.sums[key] *= f
            self.log_scale = c

    def add(self, M, D, x) -> None:
        """Blocks M (the generator) and D (its dissipative part), scaled entrywise by e^{x}:
        adds ‖M̂‖², ‖D̂ − D̂†‖², ‖D̂‖², ‖M̂ − M̂†‖² (the last two axes are the block's)."""
        same = D is M  # the Pauli matrix: no Hamiltonian part
        c = max_log_magnitude(M, x) if same else max(max_log_magnitude(M, x), max_log_magnitude(D, x))
        if not np.isfinite(c):
            return
        self._rescale(c)
        Mh, _ = log_scaled(M, x, shift=self.log_scale)
        Dh = Mh if same else log_scaled(D, x, shift=self.log_scale)[0]
        adj = lambda A: np.conj(np.swapaxes(A, -1, -2))  # noqa: E731
        for key, v in zip(_KEYS, (_sumsq(Mh), _sumsq(Dh - adj(Dh)), _sumsq(Dh), _sumsq(Mh - adj(Mh)))):
            self.sums[key] += v

    def add_pauli(self, W, lp) -> None:
        """The Pauli block, Ŵ_mn = W_mn e^{(log p_n − log p_m)/2} (sigma_exponent of (mm),(nn)); it has
        no Hamiltonian part (D = M = W). The factor is separable: while log p spans ≤ 1400 it is
        W_mn a_n/a_m with a = e^{log p/2 − mid} (finite, no d² exponentials), else the log domain."""
        if float(np.ptp(lp)) > 2 * _SEPARABLE_SPAN:
            n = np.arange(W.shape[0])
            self.add(W, W, sigma_exponent(lp, 0.5, n[:, None], n[:, None], n[None, :], n[None, :]))
            return
        a = np.exp(lp / 2 - (float(lp.max()) + float(lp.min())) / 4)
        Wh = W * a
        Wh /= a[:, None]
        nh = _sumsq(Wh)
        if not math.isfinite(nh) or 0 < nh < 1e-300:  # squares out of range: scale the entries first
            top = float(np.abs(Wh).max(initial=0.0))
            Wh *= 1.0 / top
            self._rescale(math.log(top))
            f = math.exp(2 * (math.log(top) - self.log_scale))
            nh = _sumsq(Wh)
        elif nh == 0:
            return
        else:  # the norm itself sets the scale: no extra pass over the entries
            self._rescale(0.5 * math.log(nh))
            f = math.exp(-2 * self.log_scale)
        anti = _sumsq(Wh - Wh.T)
        for key, v in zip(_KEYS, (nh, anti, nh, anti)):
            self.sums[key] += f * v

    def add_coherences(self, lam) -> None:
        """1-element sectors |i⟩⟨k| ↦ λ_ik |i⟩⟨k|: unscaled (exponent 0); 𝓓̂ has Re λ, 𝓛̂ − 𝓛̂† is 2i Im λ."""
        top = float(np.abs(lam).max(initial=0.0))
        if top == 0:
            return
        self._rescale(math.log(top))
        if 1e-150 < top < 1e150:  # squares are finite: sum first, scale the three numbers
            f, lam_s = math.exp(-2 * self.log_scale), lam
        else:
            f, lam_s = 1.0, lam * math.exp(-self.log_scale)
        self.sums["norm_hat"] += f * _sumsq(lam_s)
        self.sums["dissipative_norm"] += f * float(np.einsum("ij,ij->", lam_s.real, lam_s.real))
        self.sums["antisym"] += f * 4.0 * float(np.einsum("ij,ij->", lam_s.imag, lam_s.imag))


def balance_norms(form, lp: np.ndarray, s: float) -> dict:
    """Squared norms of 𝓛̂, 𝓓̂ − 𝓓̂†, 𝓓̂, 𝓛̂ − 𝓛̂† (times e^{−2·log_scale}), and of 𝓛(σ), [K, σ], K
    (true scale), with "log_scale" (DaviesGenerator.structured_balance). The σ-scaling of entry
    (ij),(kl) is e^x with x = :func:`~detbal.eigenbasis.sigma_exponent`, evaluated in the log domain."""
    sec = form.sec
    p = np.exp(lp)
    acc = _ScaledSums()
    acc.add_coherences(form.coherences())
    out = {}
    if form.pauli_matrix is not None:
        acc.add_pauli(form.pauli_matrix, lp)
        out["stationary"] = _sumsq(form.pauli_matrix @ p)
        out["hamiltonian_commutator"] = 0.0
        out["k_norm"] = _sumsq(form.coherent_diag)
    else:
        r, c = sec.zero_rows, sec.zero_cols
        acc.add(form.zero_block, form.zero_dissipative, sigma_exponent(lp, s, r[:, None], c[:, None], r[None, :], c[None, :]))
        sig = np.zeros(r.shape[0])
        sig[: sec.dim] = p
        out["stationary"] = _sumsq(form.zero_block @ sig)
        if form.coherent_dense is None:  # K diagonal (no Lamb shift): [K, σ] = 0 for a diagonal σ
            out["hamiltonian_commutator"] = 0.0
            out["k_norm"] = _sumsq(form.coherent_diag)
        else:
            out["hamiltonian_commutator"] = _sumsq(form.coherent_dense * np.subtract.outer(p, p))
            out["k_norm"] = _sumsq(form.coherent_dense)
    for st in form.stacks:
        R, C = st.rows, st.cols
        acc.add(st.matrices, st.dissipative,
                sigma_exponent(lp, s, R[:, :, None], C[:, :, None], R[:, None, :], C[:, None, :]))
    out.update(acc.sums)
    out["log_scale"] = acc.log_scale if np.isfinite(acc.log_scale) else 0.0
    return out
