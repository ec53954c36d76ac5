"""Block-by-block norms of the σ-transformed Davies generator for detailed-balance certificates
(internal), accumulated on one running log-scale so that no block over- or underflows
(the σ-scaling itself is :func:`detbal.eigenbasis.log_scaled`).
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from ...eigenbasis import log_scaled, max_log_magnitude, sigma_exponent

__all__ = ["balance_norms"]


def _sumsq(A: np.ndarray) -> float:
    a = np.ravel(A)
    return float(np.vdot(a, a).real)


_KEYS = ("norm_hat", "dissipative_antisym", "dissipative_norm", "antisym")
_SEPARABLE_SPAN = 700.0  # |log p/2 − mid| below which e^{±(·)} are finite floats


class _ScaledSums:
    """Squared norms of σ-transformed blocks accumulated in the log domain (no clipping), in two groups
    with their own scale e^{2C}: the generator's (‖𝓛̂‖², ‖𝓛̂ − 𝓛̂†‖², scale C = ``log_scale``) and its
    dissipative part's (‖𝓓̂ − 𝓓̂†‖², ‖𝓓̂‖², scale ``dissipative_log_scale``), so a dissipator 1e-300
    below the coherent part is not lost to underflow of its squares.

    Each C is a running maximum of the log-magnitudes of the scaled entries of its group; when a block
    raises it, that group's sums are rescaled by e^{2(C_old − C_new)} (terms below e^{−745} relative
    underflow, harmlessly: the certificate uses ratios only)."""

    _GROUP: ClassVar[dict] = {"norm_hat": "hat", "antisym": "hat", "dissipative_antisym": "dis", "dissipative_norm": "dis"}

    def __init__(self):
        self.scale = {"hat": -math.inf, "dis": -math.inf}
        self.sums = dict.fromkeys(_KEYS, 0.0)

    def _rescale(self, group: str, c: float) -> None:
        old = self.scale[group]
        if c > old:
            f = math.exp(2 * (old - c)) if np.isfinite(old) else 0.0
            for key, g in self._GROUP.items():
                if g == group:
                    self.sums[key] *= f
            self.scale[group] = c

    def _put(self, key: str, value: float, c: float) -> None:
        """Add value·e^{2c} to ``key`` (its group's scale already ≥ c)."""
        if value:
            self.sums[key] += value * math.exp(2 * (c - self.scale[self._GROUP[key]]))

    def merge(self, other: _ScaledSums) -> None:
        """Add the sums accumulated in ``other`` (each group at its own scale)."""
        for key, group in self._GROUP.items():
            c = other.scale[group]
            if np.isfinite(c):
                self._rescale(group, c)
                self._put(key, other.sums[key], c)

    def add(self, M, D, x) -> None:
        """Blocks M (the generator) and D (its dissipative part), scaled entrywise by e^{x}:
        adds ‖M̂‖², ‖D̂ − D̂†‖², ‖D̂‖², ‖M̂ − M̂†‖² (the last two axes are the block's)."""
        adj = lambda A: np.conj(np.swapaxes(A, -1, -2))  # noqa: E731
        for A, group, keys in ((M, "hat", ("norm_hat", "antisym")), (D, "dis", ("dissipative_norm", "dissipative_antisym"))):
            c = max_log_magnitude(A, x)
            if not np.isfinite(c):
                continue
            self._rescale(group, c)
            Ah, _ = log_scaled(A, x, shift=c)
            self._put(keys[0], _sumsq(Ah), c)
            self._put(keys[1], _sumsq(Ah - adj(Ah)), c)

    def add_pauli(self, W, lp) -> None:
        """The populations' block: the Pauli rate matrix W, Ŵ_mn = W_mn e^{(log p_n − log p_m)/2},
        no Hamiltonian part (D = M = W). The factor is separable: while log p spans ≤ 1400 it is
        W_mn a_n/a_m with a = e^{log p/2 − mid} (finite, no d² exponentials), else the log domain."""
        if float(np.ptp(lp)) > 2 * _SEPARABLE_SPAN:
            n = np.arange(W.shape[0])
            self.add(W, W, sigma_exponent(lp, 0.5, n[:, None], n[:, None], n[None, :], n[None, :]))
            return
        a = np.exp(lp / 2 - (float(lp.max()) + float(lp.min())) / 4)
        Wh = W * a
        Wh /= a[:, None]
        top = float(np.abs(Wh).max(initial=0.0))
        if top == 0 or not math.isfinite(top):
            if top == 0:
                return
            n = np.arange(W.shape[0])
            self.add(W, W, sigma_exponent(lp, 0.5, n[:, None], n[:, None], n[None, :], n[None, :]))
            return
        Wh /= top
        c = math.log(top)
        nh, anti = _sumsq(Wh), _sumsq(Wh - Wh.T)
        for group in ("hat", "dis"):
            self._rescale(group, c)
        for key, v in zip(_KEYS, (nh, anti, nh, anti)):
            self._put(key, v, c)

    def add_coherences(self, lam) -> None:
        """1-element sectors |i⟩⟨k| ↦ λ_ik |i⟩⟨k| (complex λ): :meth:`add_coherence_parts`."""
        self.add_coherence_parts(lam.real, lam.imag)

    def add_coherence_parts(self, re, im=None) -> None:
        """1-element sectors |i⟩⟨k| ↦ λ_ik |i⟩⟨k|, λ = re + i·im (im None: real): unscaled (exponent
        0); ‖𝓛̂‖² gets |λ|², ‖𝓓̂‖² gets (Re λ)², ‖𝓛̂ − 𝓛̂†‖² gets |2i Im λ|², 𝓓̂ − 𝓓̂† nothing."""
        parts = [(re, (("hat", "norm_hat", 1.0), ("dis", "dissipative_norm", 1.0)))]
        if im is not None:
            parts.append((im, (("hat", "norm_hat", 1.0), ("hat", "antisym", 4.0))))
        for part, keys in parts:
            top = float(np.abs(part).max(initial=0.0))
            if top == 0:
                continue
            # Σ part² / top²: summed unscaled where the squares can neither overflow nor underflow
            ss = _sumsq(part) / top ** 2 if 1e-100 < top < 1e100 else _sumsq(part / top)
            c = math.log(top)
            for group, key, factor in keys:
                self._rescale(group, c)
                self._put(key, factor * ss, c)


def balance_norms(form, lp: np.ndarray, s: float) -> dict:
    """Squared norms of 𝓛̂ and 𝓛̂ − 𝓛̂† (times e^{−2·log_scale}), of 𝓓̂ − 𝓓̂† and 𝓓̂ (times
    e^{−2·dissipative_log_scale}), and of 𝓛(σ), [K, σ], K (true scale) (DaviesGenerator.structured_balance). The σ-scaling of entry
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
    return add_stacks_and_finish(acc, form.stacks, lp, s, out)


def add_stacks_and_finish(acc: _ScaledSums, stacks, lp: np.ndarray, s: float, out: dict) -> dict:
    """Add the stacked coherence blocks (BlockStack: matrices, dissipative parts, row/column indices)
    to ``acc`` with their σ-scalings, then put the accumulated sums and their log-scales into ``out``."""
    for st in stacks:
        R, C = st.rows, st.cols
        acc.add(st.matrices, st.dissipative,
                sigma_exponent(lp, s, R[:, :, None], C[:, :, None], R[:, None, :], C[:, None, :]))
    out.update(acc.sums)
    out["log_scale"] = acc.scale["hat"] if np.isfinite(acc.scale["hat"]) else 0.0
    out["dissipative_log_scale"] = acc.scale["dis"] if np.isfinite(acc.scale["dis"]) else 0.0
    return out
