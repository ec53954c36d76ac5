"""Conserved quantities: the sector-by-sector eigenbasis against the dense one.

The models are U(1)-symmetric spin chains (Q = Σ_k Z_k): XXZ with random bonds and no field
(spin flip maps sector M to −M: exactly degenerate levels across sectors), with a uniform field
(levels split, but E_a(M) − E_b(M) = E_a(−M) − E_b(−M): degenerate Bohr frequencies across
sectors) and with random fields (generic). Everything that does not depend on the choice of
eigenvectors inside degenerate levels must agree with the dense path to 1e-12.
"""

from __future__ import annotations

import dataclasses
from functools import reduce
from math import comb

import numpy as np
import pytest
import scipy.sparse as sp
from systems import random_density_matrix

import detbal as db
from detbal import config
from detbal.app.analysis import analyze
from detbal.baths import Bath
from detbal.eigenbasis import eigenbasis
from detbal.errors import InputError, MemoryBudgetError
from detbal.io import ModelFileError, dumps, loads_model
from detbal.models.spec import build

_P = {"X": np.array([[0.0, 1.0], [1.0, 0.0]]), "Y": np.array([[0.0, -1j], [1j, 0.0]]),
      "Z": np.diag([1.0, -1.0])}


def site(p: str, k: int, n: int) -> np.ndarray:
    return reduce(np.kron, [_P[p] if j == k else np.eye(2) for j in range(n)])


def chain(n: int, kind: str, seed: int) -> np.ndarray:
    """U(1)-symmetric chain: ``kind`` "flip" (random bonds, no field), "uniform" (+ uniform field),
    "random" (+ random fields)."""
    rng = np.random.default_rng(seed)
    H = np.zeros((2 ** n, 2 ** n))
    for k in range(n - 1):
        J, Delta = rng.uniform(0.5, 1.5), rng.uniform(-1, 1)
        hop = site("X", k, n) @ site("X", k + 1, n) + (site("Y", k, n) @ site("Y", k + 1, n)).real
        H += J * hop + Delta * site("Z", k, n) @ site("Z", k + 1, n)
    if kind == "uniform":
        H += 0.3 * sum(site("Z", k, n) for k in range(n))
    elif kind == "random":
        H += sum(rng.uniform(-1, 1) * site("Z", k, n) for k in range(n))
    return H


def magnetisation(n: int) -> np.ndarray:
    return sum(site("Z", k, n) for k in range(n))


def couplings(n: int, boundary: bool):
    if boundary:
        return [(site("X", 0, n), Bath.ohmic(0.05, 8.0, beta=0.7, name="left")),
                (site("X", n - 1, n) + 0.5 * site("Z", n - 1, n), Bath.ohmic(0.03, 8.0, beta=2.0, name="right"))]
    return [(site("X", 0, n) + 0.3 * site("Z", 1, n), Bath.ohmic(0.05, 8.0, beta=1.3, name="bath"))]


CASES = [(4, "flip", False), (5, "uniform", True), (6, "random", False), (6, "flip", True),
         (7, "uniform", False), (8, "random", True), (8, "uniform", False)]


# -- the eigenbasis ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n,kind", [(4, "flip"), (6, "uniform"), (7, "random")])
def test_block_eigenbasis_reproduces_h_and_dense_energies(n, kind):
    H, Q = chain(n, kind, n), magnetisation(n)
    eb, ed = eigenbasis(H, conserved=Q), eigenbasis(H)
    assert eb.sectors is not None and ed.sectors is None
    assert np.max(np.abs(eb.energies - ed.energies)) <= 1e-12 * np.max(np.abs(ed.energies))
    assert np.array_equal(eb.degeneracies, ed.degeneracies)
    V = eb.vectors
    assert np.max(np.abs(V.conj().T @ V - np.eye(2 ** n))) < 1e-13
    assert np.max(np.abs(eb.operator() - H)) < 1e-12
    # every eigenvector lies in one sector: Q V = V diag(q)
    q = eb.sectors.sector_values[eb.sectors.sector_of]
    assert np.max(np.abs(Q @ V - V * q)) == 0.0
    rng = np.random.default_rng(1)
    X = rng.normal(size=V.shape) + 1j * rng.normal(size=V.shape)
    assert np.max(np.abs(eb.to_eigen(X) - V.conj().T @ X @ V)) < 1e-12
    assert np.max(np.abs(eb.to_eigen(sp.csr_array(X)) - V.conj().T @ X @ V)) < 1e-12
    assert np.max(np.abs(eb.from_eigen(X) - V @ X @ V.conj().T)) < 1e-12
    p = rng.random(2 ** n)
    assert np.max(np.abs(eb.from_populations(p) - (V * p) @ V.conj().T)) < 1e-13


def test_block_pairs_are_the_nonzero_blocks_of_the_rotation():
    n = 6
    eb = eigenbasis(chain(n, "random", 3), conserved=magnetisation(n))
    S = site("X", 0, n)
    full = eb.vectors.T @ S @ eb.vectors
    pairs = eb.rotate_block_pairs(sp.csr_array(S))
    # X_0 changes Σ Z by ±2: only neighbouring magnetisation sectors, in both orders
    assert sorted(pairs) == sorted([(a, a + 1) for a in range(n)] + [(a + 1, a) for a in range(n)])
    covered = np.zeros(full.shape, dtype=bool)
    for rows, cols, block in pairs.values():
        assert np.max(np.abs(full[np.ix_(rows, cols)] - block)) < 1e-13
        covered[np.ix_(rows, cols)] = True
    assert np.all(full[~covered] == 0)


def test_labels_equal_operator_and_tolerance_regrouping():
    n = 5
    H, Q = chain(n, "uniform", 2), magnetisation(n)
    a = eigenbasis(H, conserved=Q)
    b = eigenbasis(H, conserved=np.diagonal(Q).tolist())
    assert a.same_as(b)
    c = eigenbasis(a, tol=1e-6)
    assert c.sectors is a.sectors and c.tol == 1e-6


def test_diagonal_h_is_detected_and_never_diagonalised():
    E = np.array([0.5, -1.0, 0.5, 2.0, -1.0])
    eb = eigenbasis(np.diag(E))
    assert eb.sectors is not None and eb.sectors.blocks == ()
    assert eb.energies.tolist() == sorted(E.tolist())
    V = eb.vectors
    assert np.all((V == 0) | (V == 1)) and np.array_equal(V.sum(axis=0), np.ones(5))
    assert np.array_equal((V * eb.energies) @ V.T, np.diag(E))
    assert eigenbasis(sp.diags_array(E)).same_as(eb)


# -- Davies: dense vs block ----------------------------------------------------------------------------
def _pair(n, kind, boundary):
    H, Q = chain(n, kind, 10 * n + len(kind)), magnetisation(n)
    cps = couplings(n, boundary)
    return db.davies(H, cps), db.davies(H, cps, conserved=Q), H


@pytest.mark.parametrize("n,kind,boundary", CASES)
def test_davies_block_equals_dense(n, kind, boundary):
    Ld, Lb, H = _pair(n, kind, boundary)
    assert Lb.eigenbasis.sectors is not None
    d = 2 ** n
    rng = np.random.default_rng(n)
    scale = float(np.max(np.abs(Ld.apply(np.eye(d) / d)))) + float(np.max(np.abs(H)))
    for _ in range(2):
        X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        assert np.max(np.abs(Ld.apply(X) - Lb.apply(X))) <= 1e-12 * scale * np.max(np.abs(X)) * d
        assert np.max(np.abs(Ld.adjoint(X) - Lb.adjoint(X))) <= 1e-12 * scale * np.max(np.abs(X)) * d
    if d <= 32:
        assert np.max(np.abs(Ld.to_dense() - Lb.to_dense())) <= 1e-12 * scale
    # steady state and gap
    sd, sb = db.steady_state(Ld), db.steady_state(Lb)
    assert sd.kernel_dim == sb.kernel_dim
    assert np.max(np.abs(sd.state - sb.state)) <= 1e-12
    gd, gb = db.spectral_gap(Ld).gap, db.spectral_gap(Lb).gap
    assert abs(gd - gb) <= 1e-12 * max(gd, 1e-300) + 1e-14 * scale
    # detailed-balance verdicts w.r.t. Gibbs at the first bath's β
    beta = Ld.baths[0].beta
    for inner in ("kms", "gns"):
        rd, rb = db.detailed_balance(Ld, beta=beta, inner=inner), db.detailed_balance(Lb, beta=beta, inner=inner)
        assert rd.holds == rb.holds
        for attr in ("residual", "dissipative_residual", "hamiltonian_residual", "stationary_residual"):
            assert abs(getattr(rd, attr) - getattr(rb, attr)) <= 1e-12, (inner, attr)
    # heat currents at the steady state (and at a random state)
    for rho in (sd.state, random_density_matrix(rng, d)):
        jd, jb = db.heat_currents(Ld, rho), db.heat_currents(Lb, rho)
        assert set(jd) == set(jb)
        for k in jd:
            assert abs(jd[k] - jb[k]) <= 1e-12 * scale


@pytest.mark.parametrize("n,kind", [(4, "flip"), (5, "uniform")])
def test_davies_block_spectrum_and_evolution_equal_dense(n, kind):
    Ld, Lb, _ = _pair(n, kind, True)
    d = 2 ** n
    ed, eb_ = Ld.structured_spectrum(), Lb.structured_spectrum()
    key = lambda v: np.lexsort((np.round(v.imag, 9), np.round(v.real, 9)))
    assert np.max(np.abs(ed[key(ed)] - eb_[key(eb_)])) < 1e-12
    rho0 = random_density_matrix(np.random.default_rng(5), d)
    t = np.linspace(0.0, 20.0, 5)
    assert np.max(np.abs(Ld.structured_evolve(rho0, t) - Lb.structured_evolve(rho0, t))) < 1e-12


def test_entropy_production_equal():
    Ld, Lb, _ = _pair(6, "uniform", True)
    rho = db.steady_state(Ld).state
    pd, pb = db.entropy_production(Ld, rho), db.entropy_production(Lb, rho)
    assert abs(pd.total - pb.total) <= 1e-12 * max(1.0, abs(pd.total))


# -- bad input -------------------------------------------------------------------------------------------
def test_non_commuting_q_rejected():
    n = 4
    H = chain(n, "random", 0)
    with pytest.raises(InputError, match="conserved.*does not commute"):
        eigenbasis(H, conserved=site("Z", 0, n))
    with pytest.raises(InputError, match="does not commute"):
        db.davies(H, couplings(n, False), conserved=np.arange(2 ** n))


def test_non_diagonal_q_rejected():
    n = 3
    H = chain(n, "flip", 0)
    F = sum(site("X", k, n) for k in range(n))   # commutes with nothing here, but is rejected for its form
    with pytest.raises(InputError, match="diagonal in the computational basis"):
        eigenbasis(H, conserved=F)
    with pytest.raises(InputError, match="diagonal in the computational basis"):
        eigenbasis(H, conserved=sp.csr_array(F))


@pytest.mark.parametrize("labels,match", [
    (np.arange(7), "one label per basis state"),
    (np.r_[np.arange(7), np.nan], "NaN or infinite"),
    (np.arange(8) * (1 + 1j), "must be real"),
    (np.zeros((2, 2, 2)), "operator or 8 sector labels"),
    (np.zeros((4, 4)), "operator or 8 sector labels"),
    (["a"] * 8, "numeric"),
])
def test_bad_labels(labels, match):
    with pytest.raises(InputError, match=match):
        eigenbasis(chain(3, "flip", 0), conserved=labels)


def test_conserved_on_existing_dense_eigenbasis_rejected():
    n = 3
    ed = eigenbasis(chain(n, "flip", 0))
    with pytest.raises(InputError, match="existing dense Eigenbasis"):
        db.davies(ed, couplings(n, False), conserved=magnetisation(n))


def test_memory_budget_checked_before_sectors_are_diagonalised(monkeypatch):
    n = 6
    monkeypatch.setattr(config, "memory_budget", 10_000)
    with pytest.raises(MemoryBudgetError, match="sector-by-sector eigenvectors"):
        eigenbasis(chain(n, "random", 0), conserved=magnetisation(n))


def test_dense_vectors_of_a_block_eigenbasis_are_budget_checked(monkeypatch):
    n = 6
    eb = eigenbasis(chain(n, "random", 0), conserved=magnetisation(n))
    monkeypatch.setattr(config, "memory_budget", 4 * 4 ** n)
    with pytest.raises(MemoryBudgetError, match="dense eigenvectors"):
        eb.vectors  # noqa: B018


def test_rotated_blocks_of_a_coupling_are_budget_checked_with_the_eigenvectors(monkeypatch):
    """X_0 connects neighbouring sectors: its rotated blocks hold Σ n_a·n_b numbers. A budget that
    holds the eigenvectors but not the eigenvectors plus those blocks refuses before rotating."""
    n = 8
    eb = eigenbasis(chain(n, "random", 0), conserved=magnetisation(n))
    X0 = site("X", 0, n)
    blocks_bytes = 8.0 * sum(blk.size for _, _, blk in eb.rotate_block_pairs(X0).values())
    monkeypatch.setattr(config, "memory_budget", eb.sectors.nbytes() + 0.9 * blocks_bytes)
    with pytest.raises(MemoryBudgetError, match="rotated sector blocks") as err:
        eb.rotate_block_pairs(X0)
    assert err.value.required >= eb.sectors.nbytes() + blocks_bytes
    monkeypatch.setattr(config, "memory_budget", eb.sectors.nbytes() + 1.1 * blocks_bytes + 2e6)
    assert len(eb.rotate_block_pairs(X0)) == 2 * n          # fits: the 2n pairs of neighbouring sectors


# -- model files and the zoo ----------------------------------------------------------------------------
_FILE = """
[system]
sites = 3
hamiltonian = "X0*X1 + Y0*Y1 + X1*X2 + Y1*Y2 + 0.3*Z0*Z1 + 0.1*Z2"
conserved = "{q}"

[[bath]]
temperature = 1.0
coupling = "X0"
spectral_density = {{ kind = "ohmic", alpha = 0.05, cutoff = 8.0 }}
"""


def test_model_file_conserved_round_trip():
    m = loads_model(_FILE.format(q="Z0 + Z1 + Z2"))
    assert m.generator.eigenbasis.sectors is not None
    assert m.info.spec.conserved == "Z0 + Z1 + Z2"
    again = loads_model(dumps(m.info.spec))
    assert again.info.spec == m.info.spec


@pytest.mark.parametrize("q,match", [("Z0", "does not commute"), ("X0 + X1 + X2", "diagonal"),
                                     ("Q7", "unknown operator")])
def test_model_file_bad_conserved_names_the_key(q, match):
    with pytest.raises(ModelFileError, match=match) as info:
        loads_model(_FILE.format(q=q))
    assert "system.conserved" in str(info.value)


@pytest.mark.parametrize("zoo", [db.models.xxz_chain, db.models.heisenberg_chain])
def test_zoo_chains_declare_magnetisation_and_analysis_is_unchanged(zoo):
    m = zoo(n=5, baths="boundary")
    assert m.info.spec.conserved == "Z0 + Z1 + Z2 + Z3 + Z4"
    assert m.generator.channels[0].eigenbasis.sectors is not None
    plain = build(dataclasses.replace(m.info.spec, conserved=None))
    a, b = analyze(m), analyze(plain)
    for va, vb in zip(a.verdicts, b.verdicts):
        assert va.holds == vb.holds
        assert abs((va.residual or 0) - (vb.residual or 0)) <= 1e-12
    assert abs(a.spectral_gap - b.spectral_gap) <= 1e-12 * a.spectral_gap
    assert abs(a.entropy_production - b.entropy_production) <= 1e-12 * max(1.0, abs(b.entropy_production))
    for ca, cb in zip(a.channels, b.channels):
        assert abs(ca.heat_current - cb.heat_current) <= 1e-12
    assert np.max(np.abs(np.array(a.energies) - np.array(b.energies))) <= 1e-12
    assert a.conclusion == b.conclusion


# -- degenerate levels: the ν = 0 gap by Lanczos on the KMS-symmetrised sparse block ----------------------
@pytest.mark.parametrize("lamb_shift", [False, True])
def test_degenerate_zero_sector_gap_by_lanczos_equals_dense_eig(monkeypatch, lamb_shift):
    n = 4
    H, Q = chain(n, "flip", 3), magnetisation(n)
    L = db.davies(H, couplings(n, False), lamb_shift=lamb_shift, conserved=Q)
    assert L.eigenbasis.is_degenerate
    monkeypatch.setattr(config, "LANCZOS_MIN_DIM", 1)   # the Lanczos path at this small size
    ev = np.linalg.eigvals(L.to_dense())
    ev = ev[np.argsort(np.abs(ev))][1:]                  # kernel dimension 1
    assert L._kernel_dim() == 1
    ref = -float(np.max(ev.real))
    assert abs(L.structured_gap() - ref) <= 1e-10 * ref
    pop = np.linalg.eigvals(L.bohr_blocks.population)
    pop_ref = -float(np.max(pop[np.argsort(np.abs(pop))][1:].real))
    g = L._degenerate_population_gap(1)
    if lamb_shift:   # H_LS acts inside degenerate levels: not Hermitian after the scaling, dense eig used
        assert g is None
    else:
        assert abs(g - pop_ref) <= 1e-10 * pop_ref


# -- the sparse Pauli rate matrix ----------------------------------------------------------------------
@pytest.mark.parametrize("n,boundary", [(5, True), (6, False), (8, True)])
def test_sparse_pauli_equals_the_dense_one(n, boundary):
    H, Q = chain(n, "random", n), magnetisation(n)
    cps = couplings(n, boundary)
    Lb, Ld = db.davies(H, cps, conserved=Q), db.davies(H, cps)
    Wd = Lb.pauli_rate_matrix.matrix              # from the d×d tables, in the block eigenbasis
    Ws = Lb.sparse_pauli_rate_matrix()
    assert sp.issparse(Ws)
    assert np.max(np.abs(Ws.toarray() - Wd)) <= 1e-14 * np.max(np.abs(Wd))
    # the dense eigenbasis gives the same rates (non-degenerate: eigenvectors equal up to sign)
    Wdd = Ld.sparse_pauli_rate_matrix().toarray()
    assert np.max(np.abs(Wdd - Wd)) <= 1e-12 * np.max(np.abs(Wd))
    # X_0 + 0.3 Z_1 couples a magnetisation sector to itself and its neighbours only
    if not boundary:
        assert Ws.nnz == comb(2 * n, n) + 2 * comb(2 * n, n - 1) < 4 ** n


def test_sparse_pauli_of_complex_couplings_and_a_zero_temperature_bath():
    """Complex sector blocks (a Y_0 coupling: S̃ complex in the real eigenbasis), two baths, one at T = 0
    (absorption rates exactly 0): the sparse W, read a block and its mirror at once, equals the
    dense tables' W."""
    n = 6
    H, Q = chain(n, "random", 4), magnetisation(n)
    cps = [(site("X", 0, n) + 0.7 * site("Y", 0, n), Bath.ohmic(0.05, 8.0, beta=1.1, name="warm")),
           (site("X", n - 1, n) + 0.4 * site("Z", n - 1, n), Bath.ohmic(0.03, 8.0, beta=float("inf"), name="cold"))]
    L = db.davies(H, cps, conserved=Q)
    Wd = L.pauli_rate_matrix.matrix
    Ws = L.sparse_pauli_rate_matrix().toarray()
    assert np.max(np.abs(Ws - Wd)) <= 1e-14 * np.max(np.abs(Wd))
    assert np.max(np.abs(Ws.sum(axis=0))) <= 1e-14 * np.max(np.abs(Wd))


def test_sparse_pauli_kernel_and_gap_equal_the_structured_ones():
    n = 7
    H, Q = chain(n, "random", 1), magnetisation(n)
    L = db.davies(H, couplings(n, False), conserved=Q)
    W = L.sparse_pauli_rate_matrix()
    from detbal.generators.davies import sector_kernel as kern
    from detbal.generators.davies.sparse_pauli import sparse_components
    from detbal.states import log_gibbs_populations
    lp = log_gibbs_populations(L.eigenbasis, L.beta)
    assert sparse_components(W) == L._kernel_dim() == 1
    a = np.exp(lp / 2)
    What = sp.csr_array(sp.diags_array(1 / a) @ W @ sp.diags_array(a))
    assert np.max(np.abs((What - What.T).toarray())) <= 1e-13 * np.max(np.abs(What.toarray()))
    dense = kern.top_gap(L._symmetrized_pauli(), 1, lp)
    assert abs(kern.top_gap(What, 1, lp) - dense) <= 1e-10 * dense


def test_degenerate_spectrum_has_no_sparse_pauli():
    L = db.davies(chain(4, "flip", 0), couplings(4, False), conserved=magnetisation(4))
    with pytest.raises(InputError, match="non-degenerate"):
        L.sparse_pauli_rate_matrix()


def test_tables_that_do_not_fit_are_built_lazily(monkeypatch):
    n = 7
    H, Q = chain(n, "random", 2), magnetisation(n)
    ref = db.davies(H, couplings(n, False), conserved=Q).sparse_pauli_rate_matrix()
    monkeypatch.setattr(config, "memory_budget", 1_000_000)   # sector eigenvectors fit, d×d tables do not
    with pytest.raises(MemoryBudgetError):
        db.davies(H, couplings(n, False))
    L = db.davies(sp.csr_array(H), couplings(n, False), conserved=Q)
    assert (L.sparse_pauli_rate_matrix() != ref).nnz == 0
    with pytest.raises(MemoryBudgetError, match="rate tables of bath 'bath'"):
        L.coupling_operators  # noqa: B018


def test_lindbladian_with_conserved_quantity_equals_plain():
    n = 5
    H, Q = chain(n, "uniform", 4), magnetisation(n)
    sm = (site("X", 0, n) + 1j * site("Y", 0, n)) / 2
    jumps, rates = [sm, sm.conj().T], [0.3, 0.1]
    Lq, L = db.Lindbladian(H, jumps, rates, conserved=Q), db.Lindbladian(H, jumps, rates)
    assert L.eigenbasis is None and Lq.eigenbasis.sectors is not None
    for inner in ("kms", "gns"):
        a, b = db.detailed_balance(Lq, beta=1.0, inner=inner), db.detailed_balance(L, beta=1.0, inner=inner)
        assert a.holds == b.holds and abs(a.residual - b.residual) <= 1e-12
    with pytest.raises(InputError, match="does not commute"):
        db.Lindbladian(H, jumps, rates, conserved=site("Z", 0, n))
    R = db.redfield(H, couplings(n, False), conserved=Q)
    R0 = db.redfield(H, couplings(n, False))
    assert np.max(np.abs(R.to_dense() - R0.to_dense())) <= 1e-12 * np.max(np.abs(R0.to_dense()))


@pytest.mark.parametrize("n,kind,lamb_shift", [(5, "uniform", False), (6, "flip", False), (5, "uniform", True)])
def test_bohr_block_gaps_by_eigvalsh_equal_eig(n, kind, lamb_shift):
    """One β: the Re λ of a Bohr block whose coherent part is −iν·I are the eigenvalues of the
    KMS-scaled (Hermitian) dissipative block; compared with ``eig`` of the block itself."""
    L = db.davies(chain(n, kind, 7), couplings(n, False), lamb_shift=lamb_shift, conserved=magnetisation(n))
    stacks = L.bohr_blocks.blocks
    assert stacks
    for st in stacks:
        ref = -float(np.max(np.linalg.eigvals(st.matrices).real))
        assert abs(L._stack_gap(st) - ref) <= 1e-12 * max(abs(ref), 1e-300) + 1e-15


# -- Gibbs samplers on the block eigenbasis --------------------------------------------------------------
def _sampler_jumps(n: int) -> list:
    """X_0 changes Q by ±2, Z_1 by 0, σ⁻_2 by −2; X_0 + Z_1 by ±2 and 0 (no fixed change: allowed)."""
    lower = (site("X", 2, n) - 1j * site("Y", 2, n)) / 2
    return [site("X", 0, n) + 0.4 * site("Z", 1, n), lower]


@pytest.mark.parametrize("kind", ["ckg", "dll"])
@pytest.mark.parametrize("n,chain_kind", [(3, "flip"), (4, "uniform"), (5, "random"), (6, "flip")])
def test_gibbs_sampler_block_equals_dense(kind, n, chain_kind):
    H, Q = chain(n, chain_kind, n + 1), magnetisation(n)
    beta = 1.3
    Gd = db.gibbs_sampler(H, beta, _sampler_jumps(n), kind=kind)
    Gb = db.gibbs_sampler(H, beta, _sampler_jumps(n), kind=kind, conserved=np.diag(Q))
    assert Gb.eigenbasis.sectors is not None and Gd.eigenbasis.sectors is None
    Ld, Lb = Gd.to_dense(), Gb.to_dense()      # CKG: the closed-form kernel; DLL: exact
    assert np.max(np.abs(Ld - Lb)) <= 1e-12 * np.max(np.abs(Ld))
    rho = random_density_matrix(np.random.default_rng(n), 2 ** n)
    ad, ab = Gd.apply(rho), Gb.apply(rho)
    # CKG apply uses the ω-quadrature, chosen from the jumps' envelope in the eigenbasis; inside
    # degenerate levels the envelope depends on the eigenvectors, so the two rules may differ (each
    # within quadrature_tol = 1e-10 of the closed form); DLL is exact
    tol = 1e-12 if kind == "dll" or Gd.quadrature.nodes == Gb.quadrature.nodes else 3e-10
    assert np.max(np.abs(ad - ab)) <= tol * np.max(np.abs(ad))
    assert np.max(np.abs(Gd.adjoint(rho) - Gb.adjoint(rho))) <= tol * np.max(np.abs(ad))
    vd, vb = db.detailed_balance(Gd, beta=beta), db.detailed_balance(Gb, beta=beta)
    # both exactly balanced: the residuals are round-off of two different factorisations, so they
    # are compared with the round-off scale, not with each other
    assert vb.holds and vd.holds
    assert max(vb.residual, vd.residual) <= 1e-10
    sigma = db.gibbs_state(H, beta)
    assert np.max(np.abs(Gb.apply(sigma))) <= 1e-12 * np.max(np.abs(ab))


def test_gibbs_sampler_conserved_is_checked():
    n = 4
    H = chain(n, "random", 0)
    with pytest.raises(InputError, match="conserved.*does not commute"):
        db.gibbs_sampler(H, 1.0, [site("X", 0, n)], conserved=site("Z", 0, n) + site("X", 1, n) * 0)
    with pytest.raises(InputError, match="diagonal in the computational basis"):
        db.gibbs_sampler(H, 1.0, [site("X", 0, n)], kind="dll", conserved=site("X", 0, n))


def test_sampler_model_file_uses_the_conserved_quantity():
    text = _FILE.format(q="Z0 + Z1 + Z2").split("[[bath]]")[0] + (
        '[sampler]\nkind = "dll"\nbeta = 1.0\njumps = ["X0", "Z1"]\n')
    m = loads_model(text)
    assert m.generator.eigenbasis.sectors is not None
    plain = build(dataclasses.replace(m.info.spec, conserved=None))
    assert plain.generator.eigenbasis.sectors is None
    assert np.max(np.abs(m.generator.to_dense() - plain.generator.to_dense())) <= 1e-12


# -- degenerate levels, several β: the ν = 0 kernel component by component --------------------------------
def _one_svd_state(D, k):
    """Reference: the stationary state from one SVD of the whole ν = 0 block (the kernel vector
    for k = 1, else the projection of I/d on the kernel along the left kernel)."""
    M0, sec, d = D._parts.zero_block, D._sec, D.dim
    U, _, Vh = np.linalg.svd(M0)
    R, L = Vh[-k:].conj().T, U[:, -k:]
    if k == 1:
        x = R[:, 0] * np.conj(np.sum(R[:d, 0]))
    else:
        v = np.zeros(M0.shape[0], complex)
        v[:d] = 1 / d
        x = R @ np.linalg.solve(L.conj().T @ R, L.conj().T @ v)
    X = np.zeros((d, d), complex)
    X[sec.zero_rows, sec.zero_cols] = x
    X = (X + X.conj().T) / 2
    return D.eigenbasis.from_eigen(X / np.trace(X).real)


@pytest.mark.parametrize("n", [4, 5])
def test_zero_sector_kernel_equals_one_svd(n):
    H, Q = chain(n, "flip", n), magnetisation(n)
    D = db.davies(H, couplings(n, True), conserved=Q)
    state, k, method = D.structured_steady_state()
    assert method == "davies-zero-sector-kernel" and k == 1
    assert np.max(np.abs(state - _one_svd_state(D, 1))) <= 1e-12
    dense = db.davies(H, couplings(n, True))
    assert np.max(np.abs(dense.apply(state))) <= 1e-12 * np.max(np.abs(dense.to_dense()))
    assert abs(np.trace(state) - 1) < 1e-14 and np.linalg.eigvalsh(state)[0] > -1e-14


def test_zero_sector_kernel_splits_into_components_with_conserved_q():
    """Flip chain, X_0 at two temperatures: spin-flip parity is conserved too (k = 2). In the block
    eigenbasis the ν = 0 block splits into components (coherences between the sectors M and −M never
    meet the populations); the projection of I/d on the kernel is basis independent, so the dense
    eigenbasis (where the block is one component) gives the same state."""
    from scipy.sparse.csgraph import connected_components

    n = 5
    H, Q = chain(n, "flip", n), magnetisation(n)
    cps = [(site("X", 0, n), Bath.ohmic(0.05, 8.0, beta=0.7, name="hot")),
           (site("X", 0, n), Bath.ohmic(0.03, 8.0, beta=2.0, name="cold"))]
    D, Dd = db.davies(H, cps, conserved=Q), db.davies(H, cps)
    assert connected_components(sp.csr_array(D._parts.zero_block != 0), directed=False)[0] > 1
    state, k, method = D.structured_steady_state()
    assert method == "davies-zero-sector-kernel" and k == 2
    assert np.max(np.abs(state - _one_svd_state(D, 2))) <= 1e-12
    plain, kd, _ = Dd.structured_steady_state()
    assert kd == 2 and np.max(np.abs(state - plain)) <= 1e-12
    assert np.max(np.abs(Dd.apply(state))) <= 1e-12 * np.max(np.abs(Dd.to_dense()))
