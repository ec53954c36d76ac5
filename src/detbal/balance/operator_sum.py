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

For a Lindbladian (or a sum of them) in σ's eigenbasis (see :mod:`detbal._hatted`), every quantity
of the detailed-balance report is such a norm:
    𝓛̂_p = Σγ L_k·R_k − iĤ_L·I + iI·Ĥ_R,          𝓓̂_p = 𝓛̂_p + iK_p·I − iI·K_p,
    𝓓̂_p − 𝓓̂_p† = Σγ(L_k·R_k − L_k†·R_k†) − i(Ĥ_L + Ĥ_L† − 2K_p)·I + iI·(Ĥ_R + Ĥ_R† − 2K_p),
per channel p and summed over channels (𝓛̂ − 𝓛̂† is the last line with K = 0).
"""

from __future__ import annotations

import math

import numpy as np

from .. import config

__all__ = ["Adjoint", "certificate_bytes", "count_operators", "lindblad_certificate", "operator_sum_norms"]

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
    """(op, max|op|) for each operator, arrays made C-contiguous; None (identity) and zero operators
    get scale 1."""
    out = []
    for op in ops:
        if op is None:
            out.append((None, 1.0))
            continue
        if isinstance(op, Adjoint):
            top = float(np.abs(op.op).max(initial=0.0))
        else:
            op = np.ascontiguousarray(op, dtype=complex)
            top = float(np.abs(op).max(initial=0.0))
        out.append((op, top if top > 0 else 1.0))
    return out


def operator_sum_norms(lefts, rights, sums, d: int) -> list[float]:
    """Frobenius norms of superoperators X ↦ Σ_a c_a L_{ℓ(a)} X R_{r(a)} (module docstring).

    Args:
        lefts, rights: lists of (d, d) operators, None meaning the identity, Adjoint(A) meaning A†.
        sums: one list per superoperator of terms (c, ℓ, r) indexing ``lefts`` and ``rights``.
        d: dimension.

    Operators are scaled to max-entry 1 and each sum's coefficients by its own largest one, so
    entries up to e^300 neither overflow nor underflow in the squares.
    """
    lefts, rights = _normalised(lefts), _normalised(rights)
    coeffs = [[c * lefts[l][1] * rights[r][1] for c, l, r in terms] for terms in sums]
    scales = [max((abs(c) for c in cs), default=0.0) for cs in coeffs]
    if max(scales, default=0.0) == 0:
        return [0.0] * len(sums)
    R = _left_triangle(lefts, d)
    # W_s[r, j] = Σ_{a: r(a) = r} c_a R[j, ℓ(a)], so C_j = Σ_r W_s[r, j] R_r and ‖𝓣_s‖² = ‖[vec R_r] W_s‖²;
    # R is upper triangular, so only rows j ≤ max ℓ(a) of R contribute
    widths = [min(R.shape[0], 1 + max((l for _, l, _ in terms), default=-1)) for terms in sums]
    offsets = np.concatenate([[0], np.cumsum(widths)])
    weights = np.zeros((len(rights), offsets[-1]), complex)
    for k, (terms, cs) in enumerate(zip(sums, coeffs)):
        for (_, left, right), c in zip(terms, cs):
            weights[right, offsets[k]:offsets[k + 1]] += (c / scales[k]) * R[:widths[k], left]
    columns = np.zeros(2 * offsets[-1])  # real and imaginary parts interleaved
    product = None
    for block in _blocks(rights, d, offsets[-1]):
        if product is None:
            product = np.empty((block.shape[0], offsets[-1]), complex)  # reused, like the blocks
        C = np.matmul(block, weights, out=product[: block.shape[0]]).view(np.float64)
        columns += np.einsum("rc,rc->c", C, C)
    squares = [columns[2 * offsets[k]:2 * offsets[k + 1]].sum() for k in range(len(sums))]
    return [scale * math.sqrt(x) if scale else 0.0 for scale, x in zip(scales, squares)]


class _Terms:
    """Operators of hatted Lindblad parts, registered so that the operators of 𝓛̂ and 𝓓̂ come first
    (then R's trailing rows, used only by the antisymmetric parts, are skipped for them)."""

    def __init__(self, parts):
        self.lefts: list = [None]
        self.rights: list = [None]
        forward = [self._forward(p) for p in parts]
        self.sums = [self._with_adjoint(p, f) for p, f in zip(parts, forward)]

    def _add(self, left, right) -> tuple[int, int]:
        self.lefts.append(left)
        self.rights.append(right)
        return len(self.lefts) - 1, len(self.rights) - 1

    def _forward(self, part) -> dict:
        jumps = []
        for g, Lk, Rk in part.pairs:
            left, right = self._add(Lk, Rk)
            jumps.append((g, left, right))
        hl, hr = self._add(part.h_left, part.h_right)
        ham = [(-1j, hl, 0), (1j, 0, hr)]
        if part.pure_commutator:  # 𝓛̂_p = −i[H, ·], [H, σ] = 0: 𝓓̂_p = 0 exactly
            return {"hat": ham, "dissipator": [], "commutator": None, "ham": (hl, hr)}
        kl, kr = self._add(part.K, part.K)
        commutator = [(1j, kl, 0), (-1j, 0, kr)]  # i[K, ·]
        return {"hat": jumps + ham, "dissipator": jumps + ham + commutator, "commutator": commutator}

    def _with_adjoint(self, part, forward) -> dict:
        if forward["commutator"] is None:  # 𝓛̂_p − 𝓛̂_p† = −2i[H, ·]; 𝓓̂_p − 𝓓̂_p† = 0
            hl, hr = forward["ham"]
            return {"hat": forward["hat"], "dissipator": [], "antisym": [(-2j, hl, 0), (2j, 0, hr)],
                    "dissipative_antisym": []}
        adjoint = []
        for g, Lk, Rk in part.pairs:
            left, right = self._add(Adjoint(Lk), Adjoint(Rk))
            adjoint.append((-g, left, right))
        hl, hr = self._add(Adjoint(part.h_left), Adjoint(part.h_right))
        antisym = forward["hat"] + adjoint + [(-1j, hl, 0), (1j, 0, hr)]
        doubled = [(2 * c, l, r) for c, l, r in forward["commutator"]]
        return {"hat": forward["hat"], "dissipator": forward["dissipator"], "antisym": antisym,
                "dissipative_antisym": antisym + doubled}


def _norms(parts, kinds, d: int) -> dict:
    terms = _Terms(parts)
    sums = [[t for lst in terms.sums for t in lst[kind]] for kind in kinds]
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


def lindblad_certificate(parts, d: int) -> dict:
    """Exact norms of the hatted generator, per part and in total.

    Args:
        parts: (name, HattedLindblad) of the channels of a Lindbladian in σ's eigenbasis.

    Returns:
        {"total": norms, "parts": {name: norms}, "K": total coherent part}, where norms maps
        "hat" → ‖𝓛̂‖, "dissipator" → ‖𝓓̂‖, "antisym" → ‖𝓛̂ − 𝓛̂†‖, "dissipative_antisym" → ‖𝓓̂ − 𝓓̂†‖
        (each part with its own K_p; the total with K = Σ_p K_p; "antisym" for the total only).
    """
    config.check_memory(certificate_bytes(count_operators([len(p.pairs) for _, p in parts]), d),
                        f"operator-sum certificate (d = {d}, {sum(len(p.pairs) for _, p in parts)} jumps)",
                        "method='probe'")
    part_kinds = ("hat", "dissipator", "dissipative_antisym")
    out = {"parts": {name: _norms([p], part_kinds, d) for name, p in parts},
           "total": _norms([p for _, p in parts], part_kinds + ("antisym",), d)}
    out["K"] = sum((p.K for _, p in parts), np.zeros((d, d), complex))
    return out
