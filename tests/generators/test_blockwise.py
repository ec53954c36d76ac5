"""The blockwise Davies route (no d×d table): the same numbers as the dense-table path.

The budget is set so that the d×d rate tables do not fit (``uses_blockwise``) while the blockwise
pieces do; the chains are the U(1)-symmetric ones of test_conserved (degenerate levels across sectors
for "flip", degenerate Bohr frequencies across sectors for "uniform", generic for "random")."""

import numpy as np
import pytest
import scipy.sparse as sp
from test_conserved import CASES, chain, couplings, magnetisation, site

import detbal as db
from detbal import config
from detbal.errors import InputError, MemoryBudgetError
from detbal.generators.davies import blockwise, link_sums
from detbal.generators.davies import sectors as bohr
from detbal.generators.davies.bohr_groups import frequency_groups, transition_codes
from detbal.generators.davies.generator import davies_bytes
from detbal.linalg import sparse_rows
from detbal.states import log_gibbs_populations


def _numbers(L, betas, p):
    """Everything the blockwise route computes, for L (dense tables or blockwise)."""
    out = {"kdim": L._kernel_dim(), "gap": L.structured_gap(), "steady": L.steady_populations() if L.beta else None}
    for beta in betas:
        for inner in ("kms", "gns"):
            r = db.detailed_balance(L, beta=beta, inner=inner)
            out[beta, inner] = (r.holds, r.method, r.residual, r.dissipative_residual, r.hamiltonian_residual,
                                r.stationary_residual, r.symmetric_residual, [(c.name, c.residual) for c in r.channels])
    if L.uses_blockwise:
        out["currents"] = {k: float(L.eigenbasis.energies @ f) for k, f in L.population_flows(p).items()}
    else:
        out["currents"] = db.heat_currents(L, L.eigenbasis.from_populations(p))
    return out


def _block(n, kind, boundary, monkeypatch):
    H, Q = chain(n, kind, 10 * n + len(kind)), magnetisation(n)
    cps = couplings(n, boundary)
    dense = db.davies(H, cps, conserved=Q)
    budget = config.memory_budget
    monkeypatch.setattr(config, "memory_budget", 0.95 * davies_bytes(2 ** n, len(cps), False, False))
    block = db.davies(H, cps, conserved=Q)        # the tables do not fit: built blockwise ...
    monkeypatch.setattr(config, "memory_budget", budget)
    assert block.uses_blockwise and not dense.uses_blockwise   # ... and it stays so
    return dense, block


@pytest.mark.parametrize("chunk", [None, 97])
@pytest.mark.parametrize("n,kind,boundary", CASES)
def test_blockwise_equals_dense(n, kind, boundary, chunk, monkeypatch):
    """chunk: the scans' chunk size (entries; the row-chunk scans take theirs from sparse_rows), small so
    that every scan crosses many chunks."""
    if chunk is not None:
        monkeypatch.setattr(blockwise, "_CHUNK", chunk)
        monkeypatch.setattr(sparse_rows, "CHUNK", chunk)
        monkeypatch.setattr(link_sums, "_CHUNK", 5)      # link sums: chunks of whole groups, many of them
    Ld = db.davies(chain(n, kind, 10 * n + len(kind)), couplings(n, boundary), conserved=magnetisation(n))
    betas = sorted({b.beta for b in Ld.baths})
    rng = np.random.default_rng(n)
    p = rng.random(2 ** n)
    p /= p.sum()
    ref = _numbers(Ld, betas, p)
    _, Lb = _block(n, kind, boundary, monkeypatch)
    got = _numbers(Lb, betas, p)
    assert got["kdim"] == ref["kdim"]
    assert abs(got["gap"] - ref["gap"]) <= 1e-12 * ref["gap"]
    if ref["steady"] is not None:
        assert got["steady"][1:] == ref["steady"][1:]
        assert np.max(np.abs(got["steady"][0] - ref["steady"][0])) <= 1e-13
    for beta in betas:
        for inner in ("kms", "gns"):
            a, b = ref[beta, inner], got[beta, inner]
            assert a[:2] == b[:2]
            assert np.max(np.abs(np.array(a[2:7]) - np.array(b[2:7]))) <= 1e-12, (beta, inner, a, b)
            for (na, ra), (nb, rb) in zip(a[7], b[7]):
                assert na == nb and abs(ra - rb) <= 1e-12
    for name, J in ref["currents"].items():
        assert abs(got["currents"][name] - J) <= 1e-12 * max(1.0, abs(J))


def test_blockwise_needs_no_table_and_refuses_what_needs_them(monkeypatch):
    _, Lb = _block(6, "uniform", False, monkeypatch)
    monkeypatch.setattr(config, "memory_budget", 0.95 * davies_bytes(64, 1, False, False))
    Lb.structured_gap()
    assert db.detailed_balance(Lb, beta=1.3).holds
    assert Lb.steady_populations()[2] == "davies-gibbs"
    assert not any(c.has_tables() for c in Lb._cps) and Lb.uses_blockwise
    with pytest.raises(MemoryBudgetError, match="memory_budget"):   # 𝓛(ρ) itself needs the tables
        Lb.apply(np.eye(64) / 64)


def test_blockwise_refuses_couplings_beyond_the_budget(monkeypatch):
    _, Lb = _block(7, "uniform", False, monkeypatch)
    monkeypatch.setattr(config, "memory_budget", 20_000)
    with pytest.raises(MemoryBudgetError, match="memory_budget") as err:
        Lb.structured_gap()
    assert err.value.required > 20_000
    with pytest.raises(MemoryBudgetError) as again:   # the refusal is remembered for this budget
        Lb._blockwise().links()
    assert again.value.required == err.value.required


@pytest.mark.parametrize("n,kind", [(5, "uniform"), (6, "flip"), (6, "random")])
def test_transition_codes_group_like_the_dense_sectors(n, kind):
    eb = db.eigenbasis(chain(n, kind, 3), conserved=magnetisation(n))
    sec = bohr.sectors(eb, eb.tol)
    groups = frequency_groups(eb.levels, eb.tol)
    i, j = np.divmod(np.arange(eb.dim ** 2), eb.dim)
    ours, _ = transition_codes(eb.levels, eb.level_labels, groups, i, j)
    theirs = bohr.frequency_codes(sec, i, j)
    # the same partition of the transitions (labels may differ): a bijection between the codes
    pairs = np.unique(np.stack([ours, theirs]), axis=1)
    assert np.unique(pairs[0]).size == np.unique(pairs[1]).size == pairs.shape[1]
    assert np.array_equal(ours == 0, theirs == 0) and np.array_equal(ours > 0, theirs > 0)


@pytest.mark.parametrize("case", ["random", "wide", "one point", "none"])
def test_bohr_group_lookup_equals_a_plain_search(case):
    """BohrGroups.find (a table of cells, then a binary search for the gaps in marked cells) equals
    the plain search over every group: gaps on the bounds, inside, between and outside the groups,
    groups spanning many cells, all groups at one frequency, no group."""
    from detbal.generators.davies.bohr_groups import BohrGroups

    rng = np.random.default_rng(11)
    if case == "none":
        lo = hi = np.zeros(0)
    elif case == "one point":
        lo = hi = np.array([0.75])
    else:
        lo = np.sort(rng.uniform(0.1, 20.0, 3000))
        width = rng.uniform(0, 1e-9, lo.size)
        if case == "wide":
            width[::50] = rng.uniform(0, 0.05, width[::50].size)
        hi = lo + width
        keep = np.r_[True, lo[1:] > hi[:-1] + 1e-12]        # disjoint, as chained groups are
        lo, hi = lo[keep], np.maximum.accumulate(hi[keep])
        keep = np.r_[True, lo[1:] > hi[:-1]]
        lo, hi = lo[keep], hi[keep]
    gaps = np.concatenate([lo, hi, (lo + hi) / 2, np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf),
                           rng.uniform(0, 25, 20000), [0.0, 1e-300]])
    k = np.searchsorted(lo, gaps, side="right") - 1
    ref = np.where((k >= 0) & (gaps <= hi[np.maximum(k, 0)] if lo.size else False), k, -1)
    assert np.array_equal(BohrGroups(lo, hi).find(gaps), ref)
    assert case == "none" or np.all(ref[: 2 * lo.size] >= 0)


def test_lamb_shift_is_refused_without_tables(monkeypatch):
    n = 5
    H, Q = chain(n, "random", 1), magnetisation(n)
    cps = couplings(n, False)
    monkeypatch.setattr(config, "memory_budget", 0.6 * davies_bytes(2 ** n, 1, True, False))
    L = db.davies(H, cps, lamb_shift=True, conserved=Q)
    assert L.uses_blockwise
    with pytest.raises(InputError, match="Lamb shift"):
        L.structured_balance(log_gibbs_populations(L.eigenbasis, 1.0), 0.5)


def test_blockwise_budget_counts_what_the_generator_already_holds(monkeypatch):
    # a budget above the stored transitions alone but below them plus the eigenvectors, the Pauli
    # matrix, the Bohr groups and the coupling's sector-pair blocks the generator holds at that
    # moment refuses them
    _, Lb = _block(7, "uniform", False, monkeypatch)
    form = Lb._blockwise()
    c = form.data[0]
    stored = float(sum(a.nbytes for a in c.special))
    held = blockwise.held_bytes(Lb.eigenbasis, c.W, *form.groups)
    assert held > 0 and stored > 0
    _, fresh = _block(7, "uniform", False, monkeypatch)
    coupling = fresh._blockwise().data[0]          # its Pauli matrix is built, its transitions are not
    fresh._blockwise().groups  # noqa: B018          # nor are its Bohr groups: built before the budget is lowered
    blocks = float(sum(a.nbytes for a in coupling.held_arrays()))   # ... but its blocks are kept for them
    assert blocks > 0
    monkeypatch.setattr(config, "memory_budget", stored + 0.5 * held)
    with pytest.raises(MemoryBudgetError, match="already holds") as err:
        coupling.special  # noqa: B018
    assert err.value.required == pytest.approx(stored + held + blocks, rel=1e-12)
    assert coupling.held_arrays() == []           # refused: the blocks are not kept (rotated again on a retry)


def test_bohr_groups_budget_counts_what_the_couplings_hold(monkeypatch):
    """The sorted level gaps (13 B per level pair with the merge buffer) are checked together with the
    eigenvectors, Pauli matrix and sector-pair blocks the blockwise couplings already hold."""
    _, Lb = _block(7, "uniform", False, monkeypatch)
    coupling = Lb._blockwise().data[0]
    held = blockwise.held_bytes(Lb.eigenbasis, coupling.W, *coupling.held_arrays())
    nL = Lb.eigenbasis.levels.shape[0]
    gaps = 13.0 * (nL * (nL - 1) // 2)
    monkeypatch.setattr(config, "memory_budget", gaps + 0.5 * held)
    with pytest.raises(MemoryBudgetError, match="with what the generator holds") as err:
        Lb._blockwise().groups  # noqa: B018
    assert err.value.required == pytest.approx(gaps + held, rel=1e-12)


@pytest.mark.parametrize("tol", [0.02, 0.06])
def test_link_sums_with_groups_wider_than_the_tolerance(tol, monkeypatch):
    """A coarse ``bohr_tol`` chains Bohr frequencies into groups wider than tol; two transitions of
    such a group can join coherences of different sectors, which is no entry of the generator. The
    certificate's Gram sums count those pairs and subtract them one by one. The levels themselves
    spread over up to tol, so −i[H, ·] does not vanish on the ν = 0 coherences. The numbers still
    equal the dense path's (two baths, different temperatures: far from detailed balance)."""
    n = 6
    H, Q, cps = chain(n, "random", 3), magnetisation(n), couplings(n, True)
    dense = db.davies(H, cps, conserved=Q, bohr_tol=tol)
    ref = {(beta, inner): db.detailed_balance(dense, beta=beta, inner=inner) for beta in (0.7, 2.0)
           for inner in ("kms", "gns")}                       # before the budget is lowered: the dense path
    gap, kdim = dense.structured_gap(), dense._kernel_dim()
    assert not dense.uses_blockwise
    monkeypatch.setattr(config, "memory_budget", 0.95 * davies_bytes(2 ** n, len(cps), False, False))
    block = db.davies(H, cps, conserved=Q, bohr_tol=tol)
    assert block.uses_blockwise
    monkeypatch.undo()                                        # built blockwise, it stays so
    assert block.uses_blockwise
    lo, hi = frequency_groups(block.eigenbasis.levels, block.eigenbasis.tol)
    assert np.any(hi - lo > block.eigenbasis.tol)                # wide groups exist
    for (beta, inner), a in ref.items():
        b = db.detailed_balance(block, beta=beta, inner=inner)
        assert a.holds == b.holds
        assert b.holds is False
        for x, y in ((a.residual, b.residual), (a.dissipative_residual, b.dissipative_residual),
                     (a.hamiltonian_residual, b.hamiltonian_residual), (a.symmetric_residual, b.symmetric_residual)):
            assert abs(x - y) <= 1e-12 * max(1.0, abs(x)), (beta, inner, x, y)
    assert block._blockwise().zero_coherent is not None     # the levels' spread is kept in the ν = 0 block
    assert abs(block.structured_gap() - gap) <= 1e-12 * gap
    assert block._kernel_dim() == kdim


@pytest.mark.parametrize("beta", [1.0, 1000.0])
def test_link_sums_keep_a_balanced_generator_balanced(beta, monkeypatch):
    """Two baths at one β on both ends of a chain with degenerate Bohr frequencies across sectors
    (uniform field): the Gram sums of the links cancel to round-off, also at β·ΔE ≈ 10⁴ (log domain),
    and the numbers equal the dense path's."""
    n = 6
    H, Q = chain(n, "uniform", 2), magnetisation(n)
    cps = [(site("X", 0, n), db.Bath.ohmic(0.05, 8.0, beta=beta, name="left")),
           (site("X", n - 1, n) + 0.4 * site("Z", n - 1, n), db.Bath.ohmic(0.02, 8.0, beta=beta, name="right"))]
    dense = db.davies(H, cps, conserved=Q)
    ref = {inner: db.detailed_balance(dense, beta=beta, inner=inner) for inner in ("kms", "gns")}
    monkeypatch.setattr(config, "memory_budget", 0.95 * davies_bytes(2 ** n, len(cps), False, False))
    block = db.davies(H, cps, conserved=Q)
    assert block.uses_blockwise
    monkeypatch.undo()
    G = len(frequency_groups(block.eigenbasis.levels, block.eigenbasis.tol))
    assert G > 0                                             # links exist
    for inner, a in ref.items():
        b = db.detailed_balance(block, beta=beta, inner=inner)
        assert a.holds and b.holds
        assert b.residual <= 1e-14 and abs(a.residual - b.residual) <= 1e-14
        assert [c.name for c in a.channels] == [c.name for c in b.channels]
        assert all(c.residual <= 1e-14 for c in b.channels)


@pytest.mark.parametrize("s", [0.5, 1.0, 0.2])
def test_link_gram_sums_of_a_balanced_generator_are_round_off_group_by_group(s, monkeypatch):
    """Per group, before any clipping: the antisymmetric Gram sum of a balanced generator is
    round-off relative to the group's norm for the whole σ-family (written with P − Q and Y − Z after
    normalising P and Q; unnormalised, the GNS terms ±(e^{−βω/2} − 1)² would cancel to ~1e-16 only)."""
    n = 6
    H, Q = chain(n, "uniform", 2), magnetisation(n)
    cps = [(site("X", 0, n), db.Bath.ohmic(0.05, 8.0, beta=1.0, name="left")),
           (site("X", n - 1, n) + 0.4 * site("Z", n - 1, n), db.Bath.ohmic(0.02, 8.0, beta=1.0, name="right"))]
    monkeypatch.setattr(config, "memory_budget", 0.95 * davies_bytes(2 ** n, len(cps), False, False))
    block = db.davies(H, cps, conserved=Q)
    assert block.uses_blockwise
    monkeypatch.undo()
    f = block._blockwise()
    lp = log_gibbs_populations(block.eigenbasis, 1.0)
    seen = []
    original = link_sums._chunk_sums

    def spy(*args):
        c, norm, anti = original(*args)
        seen.append((norm, anti))
        return c, norm, anti

    monkeypatch.setattr(link_sums, "_chunk_sums", spy)
    f.balance_norms(lp, s)
    norm, anti = (np.concatenate(x) for x in zip(*seen))
    assert norm.size > 0 and np.all(norm > 0)
    assert np.max(np.abs(anti) / norm) <= 1e-24


@pytest.mark.parametrize("kind", ["random", "uniform"])
def test_gap_after_a_certificate_reuses_its_scan_only_without_links(kind, monkeypatch):
    """The certificate's scan of the scalar coherences counts linked ones as scalars; the gap takes its
    maximum only when nothing is linked (random fields), else scans again (uniform field: linked
    level pairs, which belong to blocks). Either way the gap is the dense path's."""
    n = 6
    H, Q, cps = chain(n, kind, 4), magnetisation(n), couplings(n, False)
    gap = db.davies(H, cps, conserved=Q).structured_gap()
    monkeypatch.setattr(config, "memory_budget", 0.95 * davies_bytes(2 ** n, len(cps), False, False))
    block = db.davies(H, cps, conserved=Q)
    assert block.uses_blockwise
    monkeypatch.undo()
    db.detailed_balance(block, beta=1.3)
    form = block._blockwise()
    assert form._scalar_top_all is not None and form.scalar_top is None
    scans = []
    original = form.scalar_chunks
    monkeypatch.setattr(form, "scalar_chunks", lambda *a, **k: scans.append(1) or original(*a, **k))
    assert abs(block.structured_gap() - gap) <= 1e-12 * gap
    assert (len(scans) == 0) == (kind == "random")


@pytest.mark.parametrize("n,kind,boundary", [(6, "flip", True), (6, "random", False), (7, "uniform", False)])
def test_population_residual_is_the_applied_generator_norm(n, kind, boundary, monkeypatch):
    """‖𝓛(ρ)‖_F for a state diagonal in the eigenbasis, computed in the eigenbasis (Pauli matrix, the
    ν = 0 block of degenerate levels, or blockwise), equals the norm of 𝓛 applied in the original basis;
    p is not stationary, so the residual is far from round-off."""
    dense, block = _block(n, kind, boundary, monkeypatch)
    p = np.random.default_rng(n).random(2 ** n)
    p /= p.sum()
    ref = float(np.linalg.norm(dense.apply(dense.eigenbasis.from_populations(p))))
    assert ref > 1e-3
    for L in (dense, block):
        assert abs(L.population_residual(p) - ref) <= 1e-12 * ref
    plain = db.davies(chain(n, kind, 10 * n + len(kind)), couplings(n, boundary))   # dense eigenbasis
    assert plain.eigenbasis.is_degenerate == (kind == "flip")
    ref = float(np.linalg.norm(plain.apply(plain.eigenbasis.from_populations(p))))
    assert abs(plain.population_residual(p) - ref) <= 1e-12 * ref


@pytest.mark.parametrize("symmetric_pattern", [True, False])
def test_sparse_block_norms_equal_the_dense_sums(symmetric_pattern):
    """_add_sparse (row chunks of Â and Â†; a structurally symmetric A takes Â − Â† from the data of
    both) gives the dense sums of :meth:`_ScaledSums.add` to round-off, for a complex A whose
    pattern is symmetric or not, on units |i⟩⟨k| with σ-exponents spanning e^{±40}."""
    from detbal.eigenbasis import sigma_exponent
    from detbal.generators.davies.sector_balance import _ScaledSums

    rng = np.random.default_rng(5)
    d, n = 12, 30
    rows, cols = rng.integers(0, d, n), rng.integers(0, d, n)
    rows[:d] = cols[:d] = np.arange(d)
    mask = rng.random((n, n)) < 0.3
    if symmetric_pattern:
        mask |= mask.T
    else:
        mask[0, 1], mask[1, 0] = True, False
    A = np.where(mask, rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n)), 0)
    lp = rng.uniform(-40, 0, d)
    for s in (0.0, 0.5, 1.0):
        x = sigma_exponent(lp, s, rows[:, None], cols[:, None], rows[None, :], cols[None, :])
        ref, got = _ScaledSums(), _ScaledSums()
        ref.add(A[None], A[None], x[None])
        blockwise._add_sparse(got, sp.csr_array(A), lp, s, rows, cols, ("hat", "dis"), 0.0)
        for key, group in _ScaledSums._GROUP.items():
            a = ref.sums[key] * np.exp(2 * ref.scale[group])
            b = got.sums[key] * np.exp(2 * got.scale[group])
            assert abs(a - b) <= 1e-12 * a, (s, key)
