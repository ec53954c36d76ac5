"""Exact Frobenius norms of superoperators in operator-sum form, and the exact detailed-balance
certificate of a Lindbladian built on them (no probes, no d²×d² matrix).

A superoperator 𝓣(X) = Σ_a c_a L_a X R_a has the column-stacked matrix T = Σ_a c_a R_aᵀ ⊗ L_a, so
    ‖T‖_F² = Σ_ab c̄_a c_b Tr(L_a†L_b) Tr(R_b R_a†)        (Gram form).
Summing the Gram form directly loses ε·(Σ_a |c_a|‖L_a‖‖R_a‖)² to cancellation in ‖T‖², i.e. a floor
of √ε ≈ 1e-8 on a relative residual — as large as the default tolerance. Instead the left
operators are orthonormalised: [vec L_1 … vec L_n] = Q R (tall-skinny Householder QR, done in row
blocks), so 𝓣 = Σ_j Q_j ⊗ C_j with C_j = Σ_a c_a R_{j,ℓ(a)} R_a orthogonal pieces and
    ‖T‖_F² = Σ_j ‖C_j‖_F²,
a sum of non-negative terms, backward stable (error ε·Σ|c_a|‖L_a‖‖R_a‖ in ‖T‖, not √ε).
Cost O((n_L + n_R)·n·d²) with n operators; memory O(n² + block·n) beyond the operators, never
n·d² (R is reduced block by block; adjoints are read block by block, not copied).

For a Lindbladian (or a sum of them) in σ's eigenbasis (see :mod:`.sigma_transform`), every quantity
of the detailed-balance report is such a norm:
    𝓛̂_p = Σγ L_k·R_k − iĤ_L·I + iI·Ĥ_R,          𝓓̂_p = 𝓛̂_p + iK_p·I − iI·K_p,
    𝓓̂_p − 𝓓̂_p† = Σγ(L_k·R_k − L_k†·R_k†) − i(Ĥ_L + Ĥ_L† − 2K_p)·I + iI·(Ĥ_R + Ĥ_R† − 2K_p),
per channel p and summed over channels (𝓛̂ − 𝓛̂† is the last line with K = 0).
"""

from __future__ import annotations

import math

import numpy as np

from .. import config
from .residuals import ratio
from .sigma_transform import scaled_operator

__all__ = ["Adjoint", "certificate_bytes", "count_operators", "lindblad_certificate", "operator_sum_norms",
           "split_gksl_rows"]

_BLOCK_ENTRIES = 1 << 20  # numbers per row block of [vec op_1 … vec op_n] (16 MiB complex)


class Adjoint:
    """A† of an operator, read block by block for vec(·) (never materialised)."""

    def __init__(self, op: np.ndarray):
        self.op = op


def _vec_block(op, rows: slice, d: int) -> np.ndarray:
    """Rows ``rows`` (whole matrix rows) of vec(op), the row-major ravel (any fixed isometry works);
    None = identity, Adjoint(A) = A†."""
    if op is None:
        idx = np.arange(rows.start, rows.stop)
        return (idx % (d + 1) == 0).astype(complex)
    if isinstance(op, Adjoint):
        return op.op[:, rows.start // d:rows.stop // d].conj().T.reshape(-1)
    return op.reshape(-1)[rows]


def _block_rows(d: int, width: int) -> int:
    """Rows of vec(·) per block (whole matrix rows): a block of ``width`` columns holds ≤ 2²⁰
    numbers, but is never shorter than it is wide (the tall-skinny QR needs tall blocks)."""
    rows = max(_BLOCK_ENTRIES // max(width, 1), width)
    return d * max(1, -(-rows // d))


def _blocks(ops, d: int, width: int):
    """Row blocks [vec op_1 … vec op_n][rows], each column divided by its operator's max |entry|;
    blocks sized for products with ``width`` columns. One buffer is reused for every block (fresh
    large allocations are expensive to touch): consume each block before asking for the next."""
    step = _block_rows(d, max(width, len(ops)))
    buffer = np.empty((min(step, d * d), len(ops)), complex)
    for start in range(0, d * d, step):
        rows = slice(start, min(start + step, d * d))
        block = buffer[: rows.stop - rows.start]
        for a, (op, top) in enumerate(ops):
            np.divide(_vec_block(op, rows, d), top, out=block[:, a])
        yield block


def _left_triangle(lefts, d: int) -> np.ndarray:
    """R of the QR factorisation of the (scaled) [vec L_1 … vec L_n]: tall-skinny QR reduced block
    by block, R ← qr([R; block]), so the extra memory is O(n² + block), never n·d²."""
    R = None
    for block in _blocks(lefts, d, len(lefts)):
        R = np.linalg.qr(block if R is None else np.vstack([R, block]), mode="r")
    return R


def _normalised(ops):
    """(op, max|op|, log-magnitude) for each (op, c) = op·e^{c}: arrays made C-contiguous; None (the
    identity) and zero operators get max 1; the log-magnitude is c + log max|op| (−inf for zero)."""
    out = []
    for op, c in ops:
        if op is None:
            out.append((None, 1.0, c))
            continue
        if isinstance(op, Adjoint):
            top = float(np.abs(op.op).max(initial=0.0))
        else:
            op = np.ascontiguousarray(op, dtype=complex)
            top = float(np.abs(op).max(initial=0.0))
        out.append((op, top if top > 0 else 1.0, c + math.log(top) if top > 0 else -math.inf))
    return out


def operator_sum_norms(lefts, rights, sums, d: int) -> list[float]:
    """log Frobenius norms of superoperators X ↦ Σ_a c_a e^{t_a} L_{ℓ(a)} X R_{r(a)} (module docstring).

    Args:
        lefts, rights: lists of (op, c) meaning op·e^{c}, op a (d, d) operator, None meaning the
            identity, Adjoint(A) meaning A†.
        sums: one list per superoperator of terms (c, t, ℓ, r) indexing ``lefts`` and ``rights``.
        d: dimension.

    Returns the natural logarithm of each norm (−inf for a zero superoperator). Each term's log-size
    log|c| + t + log max|L| + log max|R| is measured and every sum is evaluated relative to its
    largest term (log domain), so terms of any size (e^{±10⁴}) neither overflow nor underflow; a
    term below e^{−745} relative to the largest is negligible.
    """
    lefts, rights = _normalised(lefts), _normalised(rights)
    logs = [[(math.log(abs(c)) + t + lefts[l][2] + rights[r][2]) if c != 0 else -math.inf for c, t, l, r in terms]
            for terms in sums]
    scales = [max(ls, default=-math.inf) for ls in logs]
    if all(not np.isfinite(x) for x in scales):
        return [-math.inf] * len(sums)
    R = _left_triangle([(op, top) for op, top, _ in lefts], d)
    # W_s[r, j] = Σ_{a: r(a) = r} c_a R[j, ℓ(a)], so C_j = Σ_r W_s[r, j] R_r and ‖𝓣_s‖² = ‖[vec R_r] W_s‖²;
    # R is upper triangular, so only rows j ≤ max ℓ(a) of R contribute
    widths = [min(R.shape[0], 1 + max((l for _, _, l, _ in terms), default=-1)) for terms in sums]
    offsets = np.concatenate([[0], np.cumsum(widths)])
    weights = np.zeros((len(rights), offsets[-1]), complex)
    for k, (terms, ls) in enumerate(zip(sums, logs)):
        for (c, _, left, right), lg in zip(terms, ls):
            if np.isfinite(lg) and lg - scales[k] > -745.0:
                w = (c / abs(c)) * math.exp(lg - scales[k])
                weights[right, offsets[k]:offsets[k + 1]] += w * R[:widths[k], left]
    columns = np.zeros(2 * offsets[-1])  # real and imaginary parts interleaved
    product = None
    for block in _blocks([(op, top) for op, top, _ in rights], d, offsets[-1]):
        if product is None:
            product = np.empty((block.shape[0], offsets[-1]), complex)  # reused, like the blocks
        C = np.matmul(block, weights, out=product[: block.shape[0]]).view(np.float64)
        columns += np.einsum("rc,rc->c", C, C)
    squares = [columns[2 * offsets[k]:2 * offsets[k + 1]].sum() for k in range(len(sums))]
    return [scale + 0.5 * math.log(x) if (np.isfinite(scale) and x > 0) else -math.inf
            for scale, x in zip(scales, squares)]


class _Terms:
    """Operators of σ-transformed Lindblad parts, registered so that the operators of 𝓛̂ and 𝓓̂
    come first (then R's trailing rows, used only by the antisymmetric parts, are skipped for them).

    Each part p contributes 𝓛̂_p and the commutator i[K_p, ·] with its own K_p (``own_k``), or, for
    the total, one commutator i[K, ·] with the given ``total_k`` = (unit, c) after all parts."""

    def __init__(self, parts, own_k, total_k=None):
        self.lefts: list = [(None, 0.0)]
        self.rights: list = [(None, 0.0)]
        self.sums = []
        forward = [self._forward(p, kp) for p, kp in zip(parts, own_k)]
        adjoint = [self._adjoint(p, f) for p, f in zip(parts, forward)]
        extra = [] if total_k is None else self._commutator(total_k)
        # a part −i[H, ·] with [H, σ] = 0 has 𝓓̂_p = 0 exactly: it enters 𝓛̂ and 𝓛̂ − 𝓛̂† only
        live = [not p.pure_commutator for p in parts]
        hat = [t for f in forward for t in f["hat"]]
        antisym = [t for a in adjoint for t in a]
        comm = [t for f, x in zip(forward, live) if x for t in f["commutator"]] + extra
        dis = [t for f, x in zip(forward, live) if x for t in f["hat"]] + comm
        dis_anti = [t for a, x in zip(adjoint, live) if x for t in a] + [(2 * c, t, l, r) for c, t, l, r in comm]
        live_hat = [t for f, x in zip(forward, live) if x for t in f["hat"]]
        self.sums = {"hat": hat, "dissipator": dis, "antisym": antisym, "dissipative_antisym": dis_anti,
                     "live_hat": live_hat}

    def _add(self, left, right) -> tuple[int, int]:
        self.lefts.append(left)
        self.rights.append(right)
        return len(self.lefts) - 1, len(self.rights) - 1

    def _commutator(self, K) -> list:
        if K is None or not np.isfinite(K[1]):
            return []
        kl, kr = self._add(K, K)
        return [(1j, 0.0, kl, 0), (-1j, 0.0, 0, kr)]  # i[K, ·]

    def _forward(self, part, K) -> dict:
        jumps = []
        for w, Lk, Rk in part.pairs:
            left, right = self._add((Lk, 0.0), (Rk, 0.0))
            jumps.append((1.0, w, left, right))
        hl, hr = self._add(part.h_left, part.h_right)
        return {"hat": jumps + [(-1j, 0.0, hl, 0), (1j, 0.0, 0, hr)], "commutator": self._commutator(K),
                "ham": (hl, hr)}

    def _adjoint(self, part, forward) -> list:
        """Terms of 𝓛̂_p − 𝓛̂_p†."""
        if part.pure_commutator:  # 𝓛̂_p = −i[H, ·], [H, σ] = 0: 𝓛̂_p − 𝓛̂_p† = −2i[H, ·] exactly
            hl, hr = forward["ham"]
            return [(-2j, 0.0, hl, 0), (2j, 0.0, 0, hr)]
        adjoint = []
        for w, Lk, Rk in part.pairs:
            left, right = self._add((Adjoint(Lk), 0.0), (Adjoint(Rk), 0.0))
            adjoint.append((-1.0, w, left, right))
        (hl, cl), (hr, cr) = part.h_left, part.h_right
        l2, r2 = self._add((Adjoint(hl), cl), (Adjoint(hr), cr))
        return forward["hat"] + adjoint + [(-1j, 0.0, l2, 0), (1j, 0.0, 0, r2)]


def _norms(parts, own_k, kinds, d: int, total_k=None) -> dict:
    terms = _Terms(parts, own_k, total_k)
    sums = [terms.sums[kind] for kind in kinds]
    return dict(zip(kinds, operator_sum_norms(terms.lefts, terms.rights, sums, d)))


def certificate_bytes(n_operators: int, d: int) -> int:
    """Working memory of :func:`lindblad_certificate` beyond the operators, for n left (= right)
    operators: the weights (n × rank × 4 sums), R and its update (≤ 3n²), and the row blocks."""
    n = n_operators
    rank = min(d * d, n)
    block = _block_rows(d, 4 * rank) // d * d
    return 16 * (4 * n * rank + 3 * n * n + block * (n + 4 * rank))


def count_operators(jumps_per_part) -> int:
    """Left (= right) operators of the total of :func:`lindblad_certificate`: the identity and,
    per part, its jumps, their adjoints, Ĥ_L, Ĥ_L† and K."""
    return 1 + sum(2 * k + 3 for k in jumps_per_part)


def lindblad_certificate(parts, d: int, part_k, total_k) -> dict:
    """Exact log-norms of the σ-transformed generator, per part and in total.

    Args:
        parts: (name, SigmaTransformedLindblad) of the channels of a Lindbladian in σ's eigenbasis.
        part_k: per part, the (unit, c) of the K_p in 𝓓̂_p = 𝓛̂_p + i[K_p, ·], or None (𝓓̂_p = 𝓛̂_p).
        total_k: the (unit, c) of K in the total 𝓓̂ = 𝓛̂ + i[K, ·], or None.

    Returns:
        {"total": norms, "parts": {name: norms}}, where norms maps "hat" → log‖𝓛̂‖,
        "dissipator" → log‖𝓓̂‖, "antisym" → log‖𝓛̂ − 𝓛̂†‖, "dissipative_antisym" → log‖𝓓̂ − 𝓓̂†‖
        (natural logarithms, −inf for zero), and for the total only "antisym" → log‖𝓛̂ − 𝓛̂†‖ and
        "live_hat" → log‖Σ_p 𝓛̂_p‖ over the parts that are not −i[H, ·] with [H, σ] = 0 (the scale of
        everything 𝓓̂ is computed from, hence of its round-off).
    """
    config.check_memory(certificate_bytes(count_operators([len(p.pairs) for _, p in parts]), d),
                        f"operator-sum certificate (d = {d}, {sum(len(p.pairs) for _, p in parts)} jumps)",
                        "method='probe'")
    part_kinds = ("hat", "dissipator", "dissipative_antisym")
    out = {"parts": {name: _norms([p], [k], part_kinds, d) for (name, p), k in zip(parts, part_k)},
           "total": _norms([p for _, p in parts], [None] * len(parts), part_kinds + ("antisym", "live_hat"), d,
                    total_k)}
    return out


def split_gksl_rows(part, J_hamiltonian: np.ndarray, log_p: np.ndarray, s: float) -> list:
    """Channel rows (name, residual, log ‖𝓐̂‖²) of a GKSL form in σ's eigenbasis split into its
    transition part 𝓣(ρ) = Σ_r F_r ρ F_r† and the rest 𝓙(ρ) = −Jρ − ρJ†, J = M/2 + iB, M = Σ_r F_r†F_r:

        𝓣̂ = Σ_r L_r·R_r,  L_r = σ^{−s/2}F_rσ^{s/2},  R_r = σ^{(1−s)/2}F_r†σ^{−(1−s)/2};
        𝓙̂ = −Ĵ_L·I − I·Ĵ_R,  Ĵ_L = σ^{−s/2}Jσ^{s/2},  Ĵ_R = σ^{(1−s)/2}J†σ^{−(1−s)/2};

    residual ‖𝓧̂ − 𝓧̂†‖_F/‖𝓧̂‖_F of each (exact operator-sum norms). For an exact Gibbs sampler both
    parts are KMS-self-adjoint on their own, so a wrong filter shows in "transition" and a wrong
    coherent term in "loss + coherent".

    Args:
        part: the :class:`~.sigma_transform.SigmaTransformedLindblad` of the jumps F_r (unit rates), whose
            scaled operators L_r, R_r are reused (no copy); J_hamiltonian: B (d, d); log_p: σ's
            log-populations; s: inner parameter.
    """
    d = log_p.shape[0]
    M = np.zeros((d, d), complex)
    for g, F in part.rotated:
        M += g * (F.conj().T @ F)
    J = M / 2 + 1j * J_hamiltonian
    lefts, rights = [(None, 0.0)], [(None, 0.0)]
    t_hat, t_anti = [], []
    for w, L, R in part.pairs:
        lefts += [(L, 0.0), (Adjoint(L), 0.0)]
        rights += [(R, 0.0), (Adjoint(R), 0.0)]
        k = len(lefts) - 2
        t_hat.append((1.0, w, k, k))
        t_anti += [(1.0, w, k, k), (-1.0, w, k + 1, k + 1)]
    JL = scaled_operator(J, log_p, -s / 2)
    JR = scaled_operator(J.conj().T, log_p, (1 - s) / 2)
    lefts += [JL, (Adjoint(JL[0]), JL[1])]
    rights += [JR, (Adjoint(JR[0]), JR[1])]
    k = len(lefts) - 2
    j_hat = [(-1.0, 0.0, k, 0), (-1.0, 0.0, 0, k)]
    j_anti = j_hat + [(1.0, 0.0, k + 1, 0), (1.0, 0.0, 0, k + 1)]
    t, ta, j, ja = operator_sum_norms(lefts, rights, [t_hat, t_anti, j_hat, j_anti], d)
    return [("transition", ratio(ta, t), 2 * ta), ("loss + coherent", ratio(ja, j), 2 * ja)]
