"""The gap's components of linked level pairs without the list of links (link_components): the same
components as from the listed links, and the same block eigenvalues from sparse blocks (Lanczos, or
dense eigenvalues without a common β) as from the dense blocks of the listed route.

The streamed route is forced (``_link_list_fits`` False), with small chunks (groups split across
chunks and rows), a budget that leaves room for a few components per pass (many passes, a counting
pass), and a small ``_DENSE_UNITS`` so that most components are sparse blocks."""

import numpy as np
import pytest
from test_conserved import CASES, chain, couplings, magnetisation

import detbal as db
from detbal import config
from detbal.generators.davies import blockwise, link_components
from detbal.generators.davies.generator import davies_bytes
from detbal.generators.davies.link_components import forest_bytes

WIDE = [(6, "random", True, 0.02), (6, "random", True, 0.06), (6, "random", False, 0.06)]
LINKED = [(5, "uniform", True, None), (7, "uniform", False, None), (8, "uniform", False, None),
          (7, "uniform", True, None), WIDE[0]]        # (tol 0.06: a non-Hermitian block of 10³ units, 40 s)


def _generator(n, kind, boundary, tol, monkeypatch):
    H, Q, cps = chain(n, kind, 10 * n + len(kind)), magnetisation(n), couplings(n, boundary)
    kw = {} if tol is None else {"bohr_tol": tol}
    with monkeypatch.context() as m:
        m.setattr(config, "memory_budget", 0.95 * davies_bytes(2 ** n, len(cps), False, False))
        L = db.davies(H, cps, conserved=Q, **kw)
    assert L.uses_blockwise
    return L


def _stream(monkeypatch, chunk=7):
    monkeypatch.setattr(blockwise.BlockwiseForm, "_link_list_fits", lambda self: False)
    monkeypatch.setattr(link_components, "_CHUNK", chunk)


@pytest.mark.parametrize("n,kind,boundary,tol", [c + (None,) for c in CASES] + WIDE)
def test_streamed_components_equal_listed(n, kind, boundary, tol, monkeypatch):
    listed = _generator(n, kind, boundary, tol, monkeypatch)._blockwise()._components()
    _stream(monkeypatch)
    f = _generator(n, kind, boundary, tol, monkeypatch)._blockwise()
    keys, comp, ncomp = f._components()
    assert ncomp == listed[2]
    assert np.array_equal(keys, listed[0]) and np.array_equal(comp, listed[1])
    # the links streamed in chunks are the listed ones (as a set of entries)
    links = [np.concatenate(x) for x in zip(*(
        (ai, ak, ci, ck, f.data[b].special[2][a] * np.conj(f.data[b].special[2][bb]))
        for b, a, bb, ai, ak, ci, ck in link_components.link_chunks(f)))] if ncomp else None
    if links is not None:
        ref = f.links()
        o1, o2 = np.lexsort(links[3::-1]), np.lexsort(ref[3::-1])
        for x, y in zip(links, ref):
            assert np.array_equal(x[o1], y[o2])


def _dense_tops(form, log_p):
    """max Re λ of every dense block of the listed route, by the block's first unit."""
    from detbal.generators.davies.sector_kernel import stack_gap
    out = {}
    for st in form.blocks():
        for s in range(st.count):
            one = type(st)(st.rows[s:s + 1], st.cols[s:s + 1], st.frequencies[s:s + 1], st.matrices[s:s + 1],
                           st.dissipative[s:s + 1])
            out[int(st.rows[s, 0]), int(st.cols[s, 0]), st.size] = -stack_gap(one, log_p)
    return out


@pytest.mark.parametrize("n,kind,boundary,tol", LINKED)
def test_sparse_blocks_equal_dense_blocks(n, kind, boundary, tol, monkeypatch):
    Ld = _generator(n, kind, boundary, tol, monkeypatch)
    ref_gap = Ld.structured_gap()
    lp = Ld._log_gibbs() if Ld.beta is not None else None
    ref = _dense_tops(Ld._blockwise(), lp)
    _stream(monkeypatch, chunk=500)
    monkeypatch.setattr(blockwise, "_DENSE_UNITS", 3)
    L = _generator(n, kind, boundary, tol, monkeypatch)
    f = L._blockwise()
    f.zero_sector()
    ncomp = f._components()[2]
    assert ncomp > 0
    passes, sparse = [], []
    batches, top = link_components.component_batches, link_components.sparse_block_top

    def count_batches(form, keys, comp, labels, nlinks, cost, room, dtype):   # a few components per pass
        for b in batches(form, keys, comp, labels, nlinks, cost, 8 * float(np.median(cost)), dtype):
            passes.append(b[:2])
            yield b

    def record(rows, cols, *args):
        t = top(rows, cols, *args)
        sparse.append((int(rows[0]), int(cols[0]), rows.shape[0], t))
        return t

    monkeypatch.setattr(link_components, "component_batches", count_batches)
    monkeypatch.setattr(link_components, "sparse_block_top", record)
    gaps = list(f.block_gaps(lp))
    monkeypatch.undo()
    assert len(passes) > 1 and passes[-1][1] == ncomp
    assert sparse
    for i, k, size, t in sparse:
        r = ref[i, k, size]
        assert abs(t - r) <= 1e-12 * abs(r), (i, k, size, t, r)
    assert abs(-min(gaps) - max(ref.values())) <= 1e-12 * abs(max(ref.values()))
    assert abs(L.structured_gap() - ref_gap) <= 1e-12 * ref_gap


def test_streamed_gap_refuses_what_does_not_fit(monkeypatch):
    _stream(monkeypatch)
    L = _generator(7, "uniform", False, None, monkeypatch)
    f = L._blockwise()
    f.zero_sector()
    assert all(c.special for c in f.data)          # the transitions are stored before the budget is lowered
    monkeypatch.setattr(config, "memory_budget", f._held_bytes() + 0.5 * forest_bytes(f.levels.shape[0]))
    with pytest.raises(db.errors.MemoryBudgetError, match="union–find forest"):
        f._components()


@pytest.mark.parametrize("n,kind,boundary,tol", LINKED[:3])
def test_link_counts_per_component(n, kind, boundary, tol, monkeypatch):
    _stream(monkeypatch)
    f = _generator(n, kind, boundary, tol, monkeypatch)._blockwise()
    keys, comp, ncomp = f._components()
    nL = f.levels.shape[0]
    ai, ak = f.links()[:2]
    ref = np.bincount(comp[np.searchsorted(keys, f.lab[ai].astype(np.int64) * nL + f.lab[ak])], minlength=ncomp)
    assert np.array_equal(link_components.link_counts(f, f._labels, ncomp), ref)


@pytest.mark.parametrize("listed", [True, False])
@pytest.mark.parametrize("n,kind,boundary,tol", [(7, "uniform", False, None), (7, "uniform", True, None), WIDE[0]])
def test_gap_of_either_route_equals_the_dense_path(n, kind, boundary, tol, listed, monkeypatch):
    """The gap from the listed links and from the streamed ones (large components sparse) against the
    dense-table path."""
    H, Q, cps = chain(n, kind, 10 * n + len(kind)), magnetisation(n), couplings(n, boundary)
    kw = {} if tol is None else {"bohr_tol": tol}
    ref = db.davies(H, cps, conserved=Q, **kw)
    assert not ref.uses_blockwise
    monkeypatch.setattr(blockwise.BlockwiseForm, "_link_list_fits", lambda self: listed)
    monkeypatch.setattr(blockwise, "_DENSE_UNITS", 4)
    L = _generator(n, kind, boundary, tol, monkeypatch)
    assert abs(L.structured_gap() - ref.structured_gap()) <= 1e-12 * ref.structured_gap()
    assert (getattr(L._blockwise(), "_labels", None) is None)        # the forest is not kept after the gap
