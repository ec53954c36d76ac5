"""Certificate norms of the links between level pairs, group by group from the transitions alone
(internal: :meth:`.blockwise.BlockwiseForm.balance_norms`; no list of link entries, no blocks).

A degenerate Bohr frequency ω ≠ 0 (a group g of several level pairs, :func:`.bohr_groups.frequency_groups`)
couples the coherences of different level pairs: for two transitions t = (i ← j) and u = (k ← l) of g
whose level pairs differ, 𝓛 has the entry 𝓛_{(i,k),(j,l)} = Σ_b T_b,t conj(T_b,u) (bath b, T_b,ij =
√γ_b(E_j − E_i) S̃_b,ij). Its σ-scaled value (e^x, x of :func:`~detbal.eigenbasis.sigma_exponent`)
factorises, because x = s(lp_j − lp_i)/2 + (1 − s)(lp_l − lp_k)/2 is a sum of one term per transition:

    𝓛̂_{(i,k),(j,l)} = Σ_b P_b,t Y_b,u,   P_b,t = T_b,ij e^{sδ_t/2},  Y_b,u = conj(T_b,kl) e^{(1−s)δ_u/2},

δ_t = lp_j − lp_i. The adjoint's entry at the same place, conj 𝓛̂_{(j,l),(i,k)}, comes from the mirror
transitions of group −g: Σ_b Q_b,t Z_b,u with Q_b,t = conj(T_b,ji) e^{−sδ_t/2}, Z_b,u = T_b,lk e^{−(1−s)δ_u/2}.
So on the links of g and −g together (the positions of −g are those of g transposed)

    ‖𝓛̂‖² = ‖Σ_b P_b ⊗ Y_b‖² + ‖Σ_b Q_b ⊗ Z_b‖²,   ‖𝓛̂ − 𝓛̂†‖² = 2‖Σ_b (P_b − Q_b) ⊗ Y_b + Q_b ⊗ (Y_b − Z_b)‖²,

and ‖Σ_r X_r ⊗ Y_r‖² = Σ_{r,r'} (X†X)_{r'r} (Y†Y)_{r'r}: Gram matrices of the group's vectors, O(k·B²)
for k transitions and B baths instead of the k² link entries. Written with the differences P − Q and
Y − Z, every term of the antisymmetric norm is a product of two small factors for a generator close to
detailed balance: no cancellation of large numbers, the residual keeps its relative accuracy.

The sums run over pairs (t, u) of different level pairs: the pairs inside one level pair (entries of
the ν = 0 sector, :meth:`.blockwise.BlockwiseForm.zero_sector`) are subtracted level pair by level
pair with the same formula. A pair whose coherences (i, k) and (j, l) fall in different Bohr groups is
not an entry of the generator (the sectors are those of :func:`.sectors.sectors`); that needs a group
wider than the tolerance (its frequencies chained over more than ``tol``), and such groups — rare,
small — are corrected pair by pair.

Scale: each group's vectors are divided by their largest magnitude (log domain, no overflow at any
β·ΔE) and the groups' sums are combined on one running scale (:class:`.sector_balance._ScaledSums`).
"""

from __future__ import annotations

import numpy as np

from ... import config
from ...eigenbasis import log_scaled
from .bohr_groups import transition_codes
from .sector_kernel import _within_groups

__all__ = ["add_link_sums"]

_CHUNK = 1 << 19          # transitions per chunk (whole groups)


def add_link_sums(acc, specials, levels, lab, groups, tol: float, lp: np.ndarray, s: float, held: float,
                  advice: str) -> None:
    """Add the links' contributions to ``acc`` (:class:`.sector_balance._ScaledSums`, groups "hat" and
    "dis" alike: the links are dissipative).

    Args:
        specials: per bath, (i, j, T_ij, code) of its stored transitions (:class:`.blockwise.CouplingData`).
        levels, lab, groups, tol: the levels, each eigenvector's level, the multi-pair Bohr groups
            (lo, hi) and the grouping tolerance.
        lp, s: the reference log-populations and the σ-family parameter.
        held: bytes the generator already holds (the budget check of the sorted order adds them).
    """
    lo, hi = groups
    G = lo.shape[0]
    if G == 0:
        return
    d = lab.shape[0]
    B = len(specials)
    parts = [(b, np.flatnonzero((code != 0) & (np.abs(code) <= G))) for b, (_, _, _, code) in enumerate(specials)]
    n = sum(sel.size for _, sel in parts)
    if n == 0:
        return
    # the order (≈ 40 B per transition) and one chunk's arrays (≈ 150 + 200·B B per transition)
    config.check_memory(held + 40.0 * n + (150.0 + 200.0 * B) * min(n, _CHUNK),
                        f"the order of the {n} transitions in degenerate Bohr groups (d = {d})", advice)
    # one order of all these transitions: by group |code|, then the transition key i·d + j of the
    # positive orientation (the mirror j → i of a negative one), so a transition and its mirror are neighbours
    bath = np.concatenate([np.full(sel.size, b, np.int16) for b, sel in parts])
    pos = np.concatenate([sel for _, sel in parts])
    gcode = np.concatenate([np.abs(sp_[3][sel]) for (_, sel), sp_ in zip(parts, specials)])
    key = np.concatenate([_oriented_key(sp_, sel, d) for (_, sel), sp_ in zip(parts, specials)])
    order = np.lexsort((key, gcode))
    del key
    gsorted = gcode[order]
    del gcode
    starts = np.flatnonzero(np.r_[True, gsorted[1:] != gsorted[:-1]])
    del gsorted
    wide_groups = (hi - lo) > tol
    c_all, norm_all, anti_all = [], [], []
    for a, b in _chunk_bounds(starts, n):
        idx = order[a:b]
        c, nrm, anti = _chunk_sums(specials, bath[idx], pos[idx], levels, lab, groups, wide_groups, lp, s, B)
        c_all.append(c)
        norm_all.append(nrm)
        anti_all.append(anti)
    c, nrm, anti = (np.concatenate(x) for x in (c_all, norm_all, anti_all))
    ok = np.isfinite(c)
    if not np.any(ok):
        return
    top = float(c[ok].max())
    w = np.exp(2 * (c[ok] - top))
    total_norm = float(np.sum(nrm[ok] * w))
    total_anti = max(float(np.sum(anti[ok] * w)), 0.0)
    for group, key_norm, key_anti in (("hat", "norm_hat", "antisym"), ("dis", "dissipative_norm", "dissipative_antisym")):
        acc._rescale(group, top)
        acc._put(key_norm, total_norm, top)
        acc._put(key_anti, 2.0 * total_anti, top)


def _oriented_key(special, sel, d):
    i, j, _, code = special
    i, j = i[sel].astype(np.int64), j[sel].astype(np.int64)
    return np.where(code[sel] > 0, i * d + j, j * d + i)


def _chunk_bounds(starts: np.ndarray, n: int):
    """Consecutive ranges of the sorted transitions holding whole groups, ≈ ``_CHUNK`` each."""
    a = 0
    while a < n:
        b = int(starts[np.searchsorted(starts, a + _CHUNK, side="right") - 1]) if a + _CHUNK < n else n
        if b <= a:                                # one group larger than a chunk
            nxt = np.searchsorted(starts, a, side="right")
            b = int(starts[nxt]) if nxt < starts.size else n
        yield a, b
        a = b


def _chunk_sums(specials, bath, pos, levels, lab, groups, wide_groups, lp, s, B):
    """(log-scale c, norm, antisym) per group of one chunk: the group's sums times e^{−2c}."""
    i = np.empty(pos.size, np.int64)
    j = np.empty(pos.size, np.int64)
    code = np.empty(pos.size, np.int64)
    dtype = np.result_type(float, *(sp_[2].dtype for sp_ in specials))
    tv = np.empty(pos.size, dtype)
    for b, (si, sj, st, sc) in enumerate(specials):
        m = bath == b
        i[m], j[m], tv[m], code[m] = si[pos[m]], sj[pos[m]], st[pos[m]], sc[pos[m]]
    neg = code < 0
    ui, uj = np.where(neg, j, i), np.where(neg, i, j)          # the positive orientation t = (ui ← uj)
    g = np.abs(code)
    first = np.r_[True, (g[1:] != g[:-1]) | (ui[1:] != ui[:-1]) | (uj[1:] != uj[:-1])]
    uid = np.cumsum(first) - 1
    ui, uj, ug = ui[first], uj[first], g[first]
    nu = ui.size
    Tp = np.zeros((nu, B), dtype)               # T_b,ij of the transition, T_b,ji of its mirror
    Tm = np.zeros((nu, B), dtype)
    Tp[uid[~neg], bath[~neg]] = tv[~neg]
    Tm[uid[neg], bath[neg]] = tv[neg]
    # within each group, the transitions of one level pair together
    nL = levels.shape[0]
    pair = lab[ui].astype(np.int64) * nL + lab[uj]
    o = np.lexsort((pair, ug))
    ui, uj, ug, pair, Tp, Tm = ui[o], uj[o], ug[o], pair[o], Tp[o], Tm[o]
    gs = np.flatnonzero(np.r_[True, ug[1:] != ug[:-1]])
    ps = np.flatnonzero(np.r_[True, (ug[1:] != ug[:-1]) | (pair[1:] != pair[:-1])])
    grp = np.repeat(np.arange(gs.size), np.diff(np.r_[gs, nu]))
    # P, Q, Y, Z as log-magnitudes; each bath's P and Q are normalised per group (Y, Z take the
    # factor): the products are unchanged, and for a balanced generator P = Q and Y = Z entry by entry
    # (also for the GNS family, where P/Q alone is e^{(s−½)βω}), so P − Q and Y − Z are round-off
    delta = (lp[uj] - lp[ui])[:, None]
    with np.errstate(divide="ignore"):
        lTp, lTm = np.log(np.abs(Tp)), np.log(np.abs(Tm))
    nP = _log_norms(lTp + s * delta / 2, gs)
    nQ = _log_norms(lTm - s * delta / 2, gs)
    zP, zQ = ~np.isfinite(nP), ~np.isfinite(nQ)
    nP[zP], nQ[zQ] = 0.0, 0.0
    # the group's scale: the largest |Y|, |Z| after the normalisation
    xY = np.where(zP[grp], -np.inf, lTp + (1 - s) * delta / 2 + nP[grp])
    xZ = np.where(zQ[grp], -np.inf, lTm - (1 - s) * delta / 2 + nQ[grp])
    c = np.maximum.reduceat(np.maximum(xY, xZ).max(axis=1), gs)
    del xY, xZ, lTp, lTm
    cf = np.where(np.isfinite(c), c, 0.0)[grp][:, None]
    P = log_scaled(Tp, s * delta / 2 - nP[grp], shift=0.0)[0]
    Q = np.conj(log_scaled(Tm, -s * delta / 2 - nQ[grp], shift=0.0)[0])
    Y = np.conj(log_scaled(Tp, (1 - s) * delta / 2 + nP[grp] - cf, shift=0.0)[0])
    Z = log_scaled(Tm, -(1 - s) * delta / 2 + nQ[grp] - cf, shift=0.0)[0]
    Y[zP[grp]] = 0.0                            # a bath without P in this group: P ⊗ Y = 0
    Z[zQ[grp]] = 0.0
    X_anti = np.concatenate([P - Q, Q], axis=1)          # Σ_r X_r ⊗ Y_r = Σ_b (P − Q) ⊗ Y + Q ⊗ (Y − Z)
    Y_anti = np.concatenate([Y, Y - Z], axis=1)
    norm = _tensor_sums(P, Y, gs, ps) + _tensor_sums(Q, Z, gs, ps)
    anti = _tensor_sums(X_anti, Y_anti, gs, ps)
    wide = np.flatnonzero(wide_groups[ug[gs] - 1])
    if wide.size:
        dn, da = _same_sector_excess(wide, gs, nu, ui, uj, P, Q, Y, Z, levels, lab, groups)
        norm[wide] -= dn
        anti[wide] -= da
    return c, norm, anti


def _log_norms(x, gs):
    """log of the 2-norm per group (segments ``gs``) and column of the magnitudes e^x (x: (n, B) log
    magnitudes, −inf for zeros); −inf for a group without a nonzero entry."""
    m = np.maximum.reduceat(x, gs, axis=0)
    mf = np.where(np.isfinite(m), m, 0.0)
    grp = np.repeat(np.arange(gs.size), np.diff(np.r_[gs, x.shape[0]]))
    sq = np.add.reduceat(np.exp(2 * (x - mf[grp])), gs, axis=0)
    with np.errstate(divide="ignore"):
        return np.where(sq > 0, mf + 0.5 * np.log(sq), -np.inf)


def _tensor_sums(X, Y, gs, ps):
    """Per group: ‖Σ_r X_r ⊗ Y_r‖² over the pairs (t, u) of different level pairs, i.e. the sum over all
    pairs minus the pairs inside each level pair (segments ``ps`` nested in the groups ``gs``)."""
    R = X.shape[1]
    whole = np.zeros(gs.size)
    inner = np.zeros(ps.size)
    heads = np.searchsorted(ps, gs)          # each group starts a level-pair segment: its position in ps
    for r in range(R):
        for q in range(R):
            xx = X[:, r] * np.conj(X[:, q])
            yy = Y[:, r] * np.conj(Y[:, q])
            px, py = np.add.reduceat(xx, ps), np.add.reduceat(yy, ps)
            inner += np.real(px * py)
            whole += np.real(np.add.reduceat(px, heads) * np.add.reduceat(py, heads))
    pair_group = np.searchsorted(gs, ps, side="right") - 1
    return whole - np.bincount(pair_group, weights=inner, minlength=gs.size)


def _same_sector_excess(wide, gs, nu, ui, uj, P, Q, Y, Z, levels, lab, groups):
    """For the groups ``wide`` (spread > tol): the norm and antisym sums of the pairs (t, u) whose
    coherences (i_t, i_u) and (j_t, j_u) lie in different Bohr sectors (not entries of the generator,
    but counted by the Gram sums), per wide group."""
    ends = np.r_[gs[1:], nu]
    idx = np.concatenate([np.arange(gs[w], ends[w]) for w in wide])
    owner = np.concatenate([np.full(ends[w] - gs[w], k) for k, w in enumerate(wide)])
    a, b = _within_groups(owner)
    a, b = idx[a], idx[b]
    i, k, j, l = ui[a], ui[b], uj[a], uj[b]
    # code 0 inside a level: a pair inside one level pair is never "off"; i, k in one level with j, l in
    # two (possible only in a wide group) is
    off = transition_codes(levels, lab, groups, i, k)[0] != transition_codes(levels, lab, groups, j, l)[0]
    a, b, w = a[off], b[off], np.searchsorted(idx, a[off])
    slot = owner[w]
    entry = np.sum(P[a] * Y[b], axis=1)
    partner = np.sum(Q[a] * Z[b], axis=1)
    dn = np.bincount(slot, weights=np.abs(entry) ** 2 + np.abs(partner) ** 2, minlength=wide.size)
    da = np.bincount(slot, weights=np.abs(entry - partner) ** 2, minlength=wide.size)
    return dn, da
