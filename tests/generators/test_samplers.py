"""Exact quantum Gibbs samplers (CKG, DLL): KMS detailed balance, trace preservation, stationarity of
the Gibbs state and complete positivity, each tested separately (a KMS residual can pass while trace
preservation fails), for random complex Hamiltonians including degenerate spectra and degenerate
Bohr frequencies, every kind and every weight."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import unitary_group
from systems import random_hermitian, random_matrix

import detbal as db
from detbal.generators.samplers import gibbs_sampler

CASES = [("ckg", w) for w in ("metropolis", "glauber", "gaussian")] + [("dll", w) for w in ("gaussian", "metropolis", "glauber")]


def _system(kind: str, seed: int = 3):
    """(H, jumps): 'generic' a random complex H (d = 5); 'degenerate' H = U diag(0, 1, 1, 2, 3.5) U†
    (a doubly degenerate level and the Bohr frequency 1 occurring four times) with a random unitary U.
    Jumps: a random Hermitian one and a random non-Hermitian A together with A†."""
    rng = np.random.default_rng(seed)
    d = 5
    if kind == "generic":
        H = random_hermitian(rng, d)
    else:
        U = unitary_group.rvs(d, random_state=seed)
        H = (U * np.array([0.0, 1.0, 1.0, 2.0, 3.5])) @ U.conj().T
    A = random_matrix(rng, d)
    return H, [random_hermitian(rng, d), A, A.conj().T]


def _vec(X):
    return X.reshape(-1, order="F")


def _checks(G, H, beta):
    """(KMS symmetric residual, trace-preservation error, ‖𝓛(σ)‖, min Choi eigenvalue, GNS residual),
    the last four relative to ‖𝓛‖_F."""
    L = G.to_dense()
    norm = np.linalg.norm(L)
    d = G.dim
    sigma = db.gibbs_state(H, beta)
    kms = db.detailed_balance(G, beta=beta, method="dense")
    gns = db.detailed_balance(G, beta=beta, method="dense", inner="gns")
    tp = np.linalg.norm(_vec(np.eye(d)).conj() @ L) / norm
    stat = np.linalg.norm(L @ _vec(sigma)) / norm
    return kms.symmetric_residual, tp, stat, db.complete_positivity(L) / norm, gns.residual


@pytest.mark.parametrize("spectrum", ["generic", "degenerate"])
@pytest.mark.parametrize("kind,weight", CASES)
def test_samplers_are_kms_balanced_trace_preserving_stationary_and_cp(kind, weight, spectrum):
    """Every kind and weight: KMS-self-adjoint (K = 0) to 1e-10, and separately trace preserving,
    ‖𝓛(σ)‖ ≤ 1e-10 and completely positive; not GNS-detailed-balanced."""
    H, jumps = _system(spectrum)
    beta = 0.8
    G = gibbs_sampler(H, beta, jumps, kind=kind, weight=weight)
    kms, tp, stat, choi, gns = _checks(G, H, beta)
    assert kms <= 1e-10
    assert tp <= 1e-10
    assert stat <= 1e-10
    assert choi >= -1e-12
    assert gns > 1e-2


@pytest.mark.parametrize("kind", ["ckg", "dll"])
def test_structured_certificate_reports_symmetric_and_blames_nothing(kind):
    """detailed_balance(G, beta) takes the operator-sum path (no d²×d² matrix) when the quadrature
    jumps are few enough (DLL always), reports symmetric=True and splits the rows into the transition
    part and the loss + coherent part, each KMS-self-adjoint on its own."""
    H, jumps = _system("generic")
    G = gibbs_sampler(H, 1.0, jumps, kind=kind)
    rep = db.detailed_balance(G, beta=1.0, method="structured")
    assert rep.method == "structured"
    assert rep.holds and rep.symmetric and rep.symmetric_residual <= 1e-12
    assert rep.stationary_residual <= 1e-12
    assert {c.name for c in rep.channels} == {"transition", "loss + coherent"}
    assert all(c.residual <= 1e-10 for c in rep.channels)
    gns = db.detailed_balance(G, beta=1.0, method="structured", inner="gns")
    assert not gns.holds


@pytest.mark.parametrize("kind", ["ckg", "dll"])
def test_matrix_free_apply_equals_dense(kind):
    """apply/adjoint (CKG: the symmetric ω-quadrature at quadrature_tol = 1e-14) equal the dense
    closed-form generator to 1e-12 (relative to ‖𝓛‖_F)."""
    H, jumps = _system("degenerate")
    rng = np.random.default_rng(11)
    G = gibbs_sampler(H, 1.3, jumps, kind=kind, quadrature_tol=1e-14)
    L = G.to_dense()
    X = random_matrix(rng, G.dim)
    scale = np.linalg.norm(L) * np.linalg.norm(X)
    assert np.linalg.norm(_vec(G.apply(X)) - L @ _vec(X)) <= 1e-12 * scale
    assert np.linalg.norm(_vec(G.adjoint(X)) - L.conj().T @ _vec(X)) <= 1e-12 * scale
    assert np.linalg.norm(sum(c.to_dense() for c in G.channels) - L) <= 1e-12 * np.linalg.norm(L)


# -- helpers: independent constructions in the eigenbasis and in the original basis -------------------
def _eigen(H):
    E, V = np.linalg.eigh(H)
    return E, V, E[:, None] - E[None, :]


def _lindblad_matrix(jumps, Hc, d):
    """Column-stacked matrix of ρ ↦ −i[Hc, ρ] + Σ_k (F ρ F† − ½{F†F, ρ}) (QuTiP's layout)."""
    eye = np.eye(d)
    L = -1j * (np.kron(eye, Hc) - np.kron(Hc.T, eye))
    for F in jumps:
        FF = F.conj().T @ F
        L += np.kron(F.conj(), F) - 0.5 * np.kron(eye, FF) - 0.5 * np.kron(FF.T, eye)
    return L


def _kms_symmetric_residual(L, H, beta):
    return db.detailed_balance(db.as_generator(L, hamiltonian=H), beta=beta, method="dense").symmetric_residual


def _ckg_from_h(H, beta, jumps, sigma, h):
    """CKG generator (original basis, dense) from a smoothed weight h(μ): T with α = G·h, M = T†(I),
    B by the tanh rule — built entrywise in the eigenbasis by O(d⁴) sums, then rotated."""
    E, V, nu = _eigen(H)
    d = len(E)
    A_e = [V.conj().T @ A @ V for A in jumps]
    alpha = np.exp(-(nu[:, :, None, None] - nu[None, None]) ** 2 / (8 * sigma ** 2)) * \
        h((nu[:, :, None, None] + nu[None, None]) / 2)  # [i, j, k, l] = α(ν_ij, ν_kl)
    T4 = sum(alpha * A[:, :, None, None] * A.conj()[None, None] for A in A_e)  # T(ρ)_ik ← ρ_jl
    T = T4.transpose(0, 2, 1, 3).reshape(d * d, d * d, order="F")
    Tdag_I = (T.conj().T @ _vec(np.eye(d))).reshape(d, d, order="F")  # M = T†(I)
    M = (Tdag_I + Tdag_I.conj().T) / 2
    B = 0.5j * np.tanh(beta * nu / 4) * M
    eye = np.eye(d)
    J = M / 2 + 1j * B
    Le = T - np.kron(eye, J) - np.kron(J.conj(), eye)
    U = np.kron(V.conj(), V)
    return U @ Le @ U.conj().T, (T, M, B, V)


def _ckg_shifted_metropolis_h(beta, sigma):
    from scipy.special import log_ndtr, ndtr

    def h(mu):
        s = beta * sigma ** 2 / 2
        return ndtr(-(mu + s) / sigma) + np.exp(-beta * mu + log_ndtr((mu - s) / sigma))
    return h


# -- physics ------------------------------------------------------------------------------------------
def test_ckg_closed_form_matches_an_independent_eigenbasis_construction():
    """to_dense() equals the d⁴ construction with α = exp(−(ν1−ν2)²/8σ²) h((ν1+ν2)/2) and M = T†(I)
    (the index order of M fixed by trace preservation, not by the formula's reading) to 1e-12."""
    H, jumps = _system("degenerate")
    beta, sigma = 0.7, 0.6
    L_ref, _ = _ckg_from_h(H, beta, jumps, sigma, _ckg_shifted_metropolis_h(beta, sigma))
    G = gibbs_sampler(H, beta, jumps, kind="ckg", filter_width=sigma)
    assert np.linalg.norm(G.to_dense() - L_ref) <= 1e-12 * np.linalg.norm(L_ref)


def test_negative_controls_fail_kms_minus_b_no_b_and_unshifted_weights():
    """−B, no B and the unshifted Metropolis / Glauber weights break KMS detailed balance (THEORY's
    trap: the KMS residual alone is not enough, so ‖𝓛(σ)‖ is checked too)."""
    from scipy.integrate import quad
    from scipy.special import ndtr

    H, jumps = _system("generic")
    beta, sigma = 1.0, 0.5
    d = H.shape[0]
    G = gibbs_sampler(H, beta, jumps, kind="ckg", filter_width=sigma)
    L = G.to_dense()
    coherent = next(c for c in G.channels if c.name == "coherent").to_dense()
    sigma_vec = _vec(db.gibbs_state(H, beta))
    assert np.linalg.norm(L @ sigma_vec) <= 1e-14 * np.linalg.norm(L)
    for bad in (L - 2 * coherent, L - coherent):
        assert _kms_symmetric_residual(bad, H, beta) > 1e-2
        assert np.linalg.norm(bad @ sigma_vec) > 1e-6 * np.linalg.norm(L)  # σ no longer stationary

    def h_unshifted_metropolis(mu):  # E[min(1, e^{−βω})], ω ~ N(μ, σ²), no KMS shift
        return ndtr(-mu / sigma) + np.exp(-beta * mu + beta ** 2 * sigma ** 2 / 2) * ndtr((mu - beta * sigma ** 2) / sigma)

    assert h_unshifted_metropolis(-1.0) / h_unshifted_metropolis(1.0) == pytest.approx(2.420, abs=1e-3)  # ≠ e

    glauber = np.vectorize(lambda mu: quad(lambda w: np.exp(-np.logaddexp(0, beta * w) - (w - mu) ** 2 / (2 * sigma ** 2)),
                                           mu - 12 * sigma, mu + 12 * sigma, epsabs=1e-14, epsrel=1e-13)[0]
                           / (sigma * np.sqrt(2 * np.pi)))
    for h in (h_unshifted_metropolis, glauber):
        L_bad, _ = _ckg_from_h(H, beta, jumps, sigma, h)
        assert np.linalg.norm(_vec(np.eye(d)).conj() @ L_bad) <= 1e-12 * np.linalg.norm(L_bad)  # still TP
        assert _kms_symmetric_residual(L_bad, H, beta) > 1e-3
        assert np.linalg.norm(L_bad @ sigma_vec) > 1e-6 * np.linalg.norm(L_bad)


def test_dll_wrong_tilt_is_refused_and_breaks_kms():
    """q̂(ν) = exp(−β²ν²/8 − βν/2) (tilt e^{−βν/2} instead of e^{−βν/4}) fails the KMS relation: the
    builder refuses it (InputError naming `filter`), and the generator built anyway is not KMS-DB."""
    H, jumps = _system("generic")
    beta = 1.0
    wrong = lambda nu: np.exp(-beta ** 2 * nu ** 2 / 8 - beta * nu / 2)
    with pytest.raises(db.InputError, match="`filter`"):
        gibbs_sampler(H, beta, jumps, kind="dll", filter=wrong)
    _E, V, nu = _eigen(H)
    K = [V @ (wrong(nu) * (V.conj().T @ A @ V)) @ V.conj().T for A in jumps]
    M = sum(k.conj().T @ k for k in K)
    M_e = V.conj().T @ M @ V
    B = V @ (0.5j * np.tanh(beta * nu / 4) * M_e) @ V.conj().T
    L_bad = _lindblad_matrix(K, B, H.shape[0])
    assert _kms_symmetric_residual(L_bad, H, beta) > 1e-2


def test_complex_dll_filter_and_several_filters_at_once():
    """q̂(ν) = u(ν)e^{−βν/4} with complex u(−ν) = conj(u(ν)), alone and together with DLL's Gaussian
    filter (one filtered jump per jump and filter): KMS, trace preserving, σ stationary, CP."""
    H, jumps = _system("degenerate")
    beta = 1.2
    complex_u = lambda nu: np.exp(-beta ** 2 * nu ** 2 / 8 + 0.7j * nu - beta * nu / 4)
    gauss = lambda nu: np.exp(-beta ** 2 * nu ** 2 / 8 - beta * nu / 4)
    for filt in (complex_u, [gauss, complex_u]):
        G = gibbs_sampler(H, beta, jumps, kind="dll", filter=filt)
        assert not G.real_form
        kms, tp, stat, choi, gns = _checks(G, H, beta)
        assert kms <= 1e-10 and tp <= 1e-10 and stat <= 1e-10 and choi >= -1e-12 and gns > 1e-2
    assert G.eigenbasis_jump_count() == 2 * len(jumps)


@pytest.mark.parametrize("n,beta", [(2, 0.5), (3, 1.0), (4, 2.0), (6, 1.0)])
def test_dll_gap_of_free_fermions_with_majorana_jumps_is_analytic(n, beta):
    """Open free-fermion chain H = −Σ (a_i†a_{i+1} + h.c.) (Jordan–Wigner), jumps the 2n Majorana
    operators a_k† + a_k and i(a_k† − a_k), DLL Gaussian filter: the gap is 2e^{−β²c²}cosh(βc),
    c = cos(π/(n + 1)) (the closed form quoted by Šmíd, Meister, Berta and Bondesan, whose DLL filter
    and coherent term have detbal's normalisation). n = 6 (d = 64) runs the Lanczos path."""
    Zp, eye, lower = np.diag([1.0, -1.0]), np.eye(2), np.array([[0.0, 1.0], [0.0, 0.0]])
    a = [_kron_all([Zp] * k + [lower] + [eye] * (n - k - 1)) for k in range(n)]
    H = -sum(a[i].T @ a[i + 1] + a[i + 1].T @ a[i] for i in range(n - 1))
    majoranas = [op for k in range(n) for op in (a[k].T + a[k], 1j * (a[k].T - a[k]))]
    G = gibbs_sampler(H, beta, majoranas, kind="dll")
    c = np.cos(np.pi / (n + 1))
    gap = db.spectral_gap(G)
    assert gap.method == ("lanczos" if 2 ** n > 32 else "dense-eigh")
    assert float(gap) == pytest.approx(2 * np.exp(-(beta * c) ** 2) * np.cosh(beta * c), rel=1e-10)


def _kron_all(ops):
    out = np.eye(1)
    for op in ops:
        out = np.kron(out, op)
    return out


def _time_filtered(H, A, ts, weights, f):
    """Σ_t w_t f(t) e^{iHt} A e^{−iHt} (time quadrature with expm)."""
    from scipy.linalg import expm

    out = np.zeros(A.shape, complex)
    for t, w in zip(ts, weights):
        U = expm(1j * H * t)
        out += w * f(t) * (U @ A @ U.conj().T)
    return out


@pytest.mark.parametrize("n_qubits", [2, 3])
def test_dll_equals_time_domain_construction(n_qubits):
    """DLL from K = ∫ q(t) e^{iHt} A e^{−iHt} dt with q the inverse Fourier transform of
    q̂(ν) = exp(−β²ν²/8 − βν/4) (a Gaussian of ν + 1/β; trapezoid in t, spectrally accurate for the
    Gaussian integrand), Hamiltonian G by the tanh rule: equals gibbs_sampler(kind="dll") to 1e-10."""
    rng = np.random.default_rng(5 + n_qubits)
    d = 2 ** n_qubits
    H = random_hermitian(rng, d, 0.5)
    jumps = [random_hermitian(rng, d, 0.5)]
    beta = 1.0
    a, nu0 = beta ** 2 / 8, -1 / beta  # q̂(ν) = e^{1/8} exp(−a(ν − ν0)²)

    def q(t):  # (1/2π) ∫ q̂(ν) e^{−iνt} dν
        return np.exp(1 / 8) / (2 * np.pi) * np.sqrt(np.pi / a) * np.exp(-t * t / (4 * a)) * np.exp(-1j * nu0 * t)

    ts = np.linspace(-40 * np.sqrt(a), 40 * np.sqrt(a), 1601)
    w = np.full(ts.size, ts[1] - ts[0])
    K = [_time_filtered(H, A, ts, w, q) for A in jumps]
    _E, V, nu = _eigen(H)
    M = sum(k.conj().T @ k for k in K)
    B = V @ (0.5j * np.tanh(beta * nu / 4) * (V.conj().T @ M @ V)) @ V.conj().T
    L_ref = _lindblad_matrix(K, B, d)
    G = gibbs_sampler(H, beta, jumps, kind="dll")
    assert np.linalg.norm(G.to_dense() - L_ref) <= 1e-10 * np.linalg.norm(L_ref)


@pytest.mark.parametrize("n_qubits", [2, 3])
def test_ckg_equals_time_and_frequency_quadrature(n_qubits):
    """CKG from its definition: Â(ω) = (2π)^{−1/2} ∫ e^{−iωt} f(t) e^{iHt}Ae^{−iHt} dt (f the Gaussian
    whose unitary Fourier transform is f̂; trapezoid in t with expm), then
    ∫ dω γ(ω) Â(ω)ρÂ(ω)† by Gauss–Legendre split at the Metropolis kink ω = −βσ²/2, M = ∫ γ Â†Â,
    B by the tanh rule: equals gibbs_sampler(kind="ckg").to_dense() (closed-form α) to 1e-10."""
    from scipy.linalg import expm

    rng = np.random.default_rng(11 + n_qubits)
    d = 2 ** n_qubits
    H = random_hermitian(rng, d, 0.5)
    jumps = [random_hermitian(rng, d, 0.5)]
    beta, sigma = 1.0, 1.0
    c = (2 * np.pi * sigma ** 2) ** -0.25

    def f(t):  # f̂(x) = c exp(−x²/4σ²)  ⇔  f(t) = c √2 σ exp(−σ²t²)
        return c * np.sqrt(2) * sigma * np.exp(-(sigma * t) ** 2)

    ts = np.linspace(-8 / sigma, 8 / sigma, 801)
    dt = ts[1] - ts[0]
    A_t = []
    for A in jumps:
        stack = []
        for t in ts:
            U = expm(1j * H * t)
            stack.append(f(t) * (U @ A @ U.conj().T))
        A_t.append(np.array(stack))
    E = np.linalg.eigvalsh(H)
    W = E[-1] - E[0]
    kink = -beta * sigma ** 2 / 2
    x, wx = np.polynomial.legendre.leggauss(120)
    nodes, weights = [], []
    for lo, hi in ((kink - W - 14 * sigma, kink), (kink, kink + W + 14 * sigma)):
        nodes.append((hi - lo) / 2 * x + (hi + lo) / 2)
        weights.append((hi - lo) / 2 * wx)
    nodes, weights = np.concatenate(nodes), np.concatenate(weights)
    gamma = np.minimum(1.0, np.exp(-beta * (nodes - kink)))
    eye = np.eye(d)
    T = np.zeros((d * d, d * d), complex)
    M = np.zeros((d, d), complex)
    for om, w, g in zip(nodes, weights, gamma):
        phase = np.exp(-1j * om * ts) * dt / np.sqrt(2 * np.pi)
        for At in A_t:
            Ahat = np.tensordot(phase, At, axes=1)
            T += w * g * np.kron(Ahat.conj(), Ahat)
            M += w * g * (Ahat.conj().T @ Ahat)
    _, V, nu = _eigen(H)
    B = V @ (0.5j * np.tanh(beta * nu / 4) * (V.conj().T @ M @ V)) @ V.conj().T
    J = M / 2 + 1j * B
    L_ref = T - np.kron(eye, J) - np.kron(J.conj(), eye)
    G = gibbs_sampler(H, beta, jumps, kind="ckg", filter_width=sigma)
    assert np.linalg.norm(G.to_dense() - L_ref) <= 1e-10 * np.linalg.norm(L_ref)


def test_small_filter_width_population_block_and_davies_limit():
    """The CKG population block is exactly h(ν_ij)|A_ij|² at every σ_E and tends to the Metropolis
    rates min(1, e^{−βν}); the full generator approaches the Metropolis-weighted Davies dissipator at
    first order in βσ_E (measured: the distance halves when σ_E halves, h(0) = 2Φ(−βσ_E/2))."""
    rng = np.random.default_rng(2)
    d = 4
    E0 = np.array([0.0, 0.9, 2.1, 3.6])  # Bohr frequencies distinct and ≥ 0.3 apart
    U = unitary_group.rvs(d, random_state=3)
    H = (U * E0) @ U.conj().T
    A = random_hermitian(rng, d)
    beta = 1.0
    _, V, nu = _eigen(H)
    A_e = V.conj().T @ A @ V
    bath = db.Bath(spectral_density=lambda w: -np.expm1(-beta * w) / (2 * np.pi), beta=beta)  # γ = min(1, e^{βω})
    D = db.davies(H, couplings=[(A, bath)]).to_dense()
    eye = np.eye(d)
    D -= -1j * (np.kron(eye, H) - np.kron(H.T, eye))  # the dissipator alone
    dist = []
    for sigma in (0.5, 0.1, 0.02, 0.01, 0.005):
        G = gibbs_sampler(H, beta, [A], kind="ckg", filter_width=sigma)
        Le = G.eigenbasis_dense()
        pops = np.arange(d) * (d + 1)
        block = Le[np.ix_(pops, pops)]
        h = _ckg_shifted_metropolis_h(beta, sigma)(nu)
        off = ~np.eye(d, dtype=bool)
        assert np.allclose(block[off], (h * np.abs(A_e) ** 2)[off], rtol=1e-12, atol=1e-15)
        metropolis = np.minimum(1.0, np.exp(-beta * nu))
        if sigma <= 0.02:
            assert np.max(np.abs(h - metropolis)[off]) <= 2 * beta * sigma
        dist.append(np.linalg.norm(G.to_dense() - D) / np.linalg.norm(D))
    assert dist[-1] < 0.01
    assert dist[-2] / dist[-1] == pytest.approx(2.0, rel=0.1)  # O(βσ_E)


def test_adjoint_closure_is_made_and_reported():
    """A jump set that is not closed under adjoint gets the missing A† (named in adjoints_added)
    and the sampler is KMS-DB; with A and A† given nothing is added."""
    rng = np.random.default_rng(4)
    H = random_hermitian(rng, 4)
    A = random_matrix(rng, 4)
    G = gibbs_sampler(H, 1.0, [A], kind="dll")
    assert G.adjoints_added == ("jumps[0]†",)
    assert db.detailed_balance(G, beta=1.0).symmetric
    assert gibbs_sampler(H, 1.0, [A, A.conj().T], kind="dll").adjoints_added == ()


def test_quadrature_kernel_error_is_measured_and_bounds_the_transition_part():
    """The ω-quadrature (compressed filters) of apply: measured kernel error ≤ quadrature_tol, and
    every entry of its transition superoperator in the eigenbasis is within error·n·max|A|² of the
    closed form; the quadrature generator itself is exactly KMS (operator-sum certificate)."""
    H, jumps = _system("generic")
    for tol in (1e-6, 1e-10):
        G = gibbs_sampler(H, 0.9, jumps, kind="ckg", quadrature_tol=tol)
        q = G.quadrature
        assert q.error <= tol and q.size < q.nodes
        F, _ = G.eigenbasis_gksl()
        T_q = sum(np.kron(f.conj(), f) for f in F)
        T = G.eigenbasis_dense(("transition",))
        top = max(np.abs(A).max() for A in G._jumps) ** 2
        assert np.abs(T_q - T).max() <= q.error * len(jumps) * top
        rep = db.detailed_balance(G, beta=0.9, method="structured")
        assert rep.symmetric_residual <= 1e-12 and rep.stationary_residual <= 1e-12


def test_kms_transformed_operator_is_hermitian_and_matches_sigma_scaling():
    """𝓛̂ = Γ^{−1/2}𝓛Γ^{1/2} from kms_transformed equals the entrywise σ-scaling of the eigenbasis
    matrix and is Hermitian (real for real H and jumps)."""
    from detbal.states import log_gibbs_populations

    rng = np.random.default_rng(6)
    H = random_hermitian(rng, 6).real
    jumps = [random_hermitian(rng, 6).real]
    for kind in ("dll", "ckg"):
        G = gibbs_sampler(H, 1.0, jumps, kind=kind, quadrature_tol=1e-13)
        assert G.real_form
        lp = log_gibbs_populations(G.eigenbasis, 1.0)
        hat = G.kms_transformed(lp)
        X, Y = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
        assert abs(np.vdot(X, hat(Y)) - np.vdot(hat(X), Y)) <= 1e-12 * np.linalg.norm(hat(X)) * np.linalg.norm(Y)
        q = np.exp(lp / 4)
        Le = G.eigenbasis_dense()
        f = np.outer(q, q).reshape(-1, order="F")  # p_i^{1/4} p_j^{1/4} of |i⟩⟨j|
        L_hat = Le * f[None, :] / f[:, None]
        assert np.linalg.norm(_vec(hat(Y)) - L_hat @ _vec(Y)) <= 1e-10 * np.linalg.norm(L_hat) * np.linalg.norm(Y)


@pytest.mark.parametrize("kind", ["dll", "ckg"])
def test_lanczos_gap_beyond_the_dense_size_equals_the_dense_gap(kind):
    """d = 34 > 32: spectral_gap takes Lanczos on the Hermitian eigenbasis σ-transformed generator
    (real vectors for real H and jumps; CKG: its quadrature, kernel error ≤ 1e-10) and agrees with
    eigvalsh of the σ-scaled closed-form matrix (the gap is −(second eigenvalue))."""
    from detbal.states import log_gibbs_populations

    rng = np.random.default_rng(8)
    d = 34
    H = random_hermitian(rng, d, 1 / np.sqrt(d)).real
    jumps = [random_hermitian(rng, d, 1 / np.sqrt(d)).real]
    G = gibbs_sampler(H, 1.0, jumps, kind=kind)
    lan = db.spectral_gap(G)
    assert lan.method == "lanczos" and lan.details["operator"] == "eigenbasis GKSL form"
    f = np.exp(np.add.outer(*(2 * [log_gibbs_populations(G.eigenbasis, 1.0) / 4]))).reshape(-1, order="F")
    L_hat = G.eigenbasis_dense() * f[None, :] / f[:, None]
    assert np.linalg.norm(L_hat - L_hat.conj().T) <= 1e-12 * np.linalg.norm(L_hat)
    assert np.abs(L_hat.imag).max() <= 1e-12 * np.abs(L_hat).max()
    ev = np.linalg.eigvalsh((L_hat.real + L_hat.real.T) / 2)
    assert abs(ev[-1]) <= 1e-12 * np.abs(ev).max()
    assert float(lan) == pytest.approx(-ev[-2], rel=1e-8)


def test_large_samplers_never_build_the_superoperator():
    """With a memory budget below one d²×d² matrix (d = 40), detailed_balance (operator sums for DLL,
    probes for CKG) and spectral_gap (Lanczos) still run; to_dense raises MemoryBudgetError."""
    rng = np.random.default_rng(9)
    d = 40
    H = random_hermitian(rng, d, 1 / np.sqrt(d))
    jumps = [random_hermitian(rng, d, 1 / np.sqrt(d))]
    old = db.config.memory_budget
    db.config.memory_budget = 16 * 2 ** 20  # one dense superoperator needs 39 MiB
    try:
        for kind in ("dll", "ckg"):
            G = gibbs_sampler(H, 1.0, jumps, kind=kind)
            rep = db.detailed_balance(G, beta=1.0)
            assert rep.holds and rep.symmetric and rep.method in ("structured", "probe")
            assert not db.detailed_balance(G, beta=1.0, inner="gns").holds
            assert float(db.spectral_gap(G)) > 0
            with pytest.raises(db.MemoryBudgetError):
                G.to_dense()
    finally:
        db.config.memory_budget = old


def test_filter_values_are_flushed_without_breaking_kms():
    """Every transition far out in the filters' tails (|ν| ≥ 40 at β = 1, DLL rates ~e^{−190}): the
    flush is relative to the filtered jumps, so the rates survive, no subnormal value is stored, and the
    sampler stays KMS-DB (symmetric) and trace preserving."""
    for kind, E in (("dll", [0.0, 40.0, 90.0, 200.0]), ("ckg", [0.0, 30.0, 65.0])):
        H = np.diag(E)
        X = np.ones(H.shape) - np.eye(len(E))
        G = gibbs_sampler(H, 1.0, [X], kind=kind)
        stored = G._filtered if kind == "dll" else G._filter_table()
        tiny = np.abs(stored)[stored != 0]
        assert tiny.size and tiny.min() > np.finfo(float).tiny
        rep = db.detailed_balance(G, beta=1.0, method="dense")
        assert rep.holds and rep.symmetric
        L = G.to_dense()
        assert np.linalg.norm(_vec(np.eye(len(E))) @ L) <= 1e-12 * np.linalg.norm(L)


# -- bad input ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    ({"beta": 0.0}, "beta"), ({"beta": -1.0}, "beta"), ({"beta": float("inf")}, "beta"),
    ({"beta": float("nan")}, "beta"), ({"filter_width": 0.0}, "filter_width"),
    ({"filter_width": -1.0}, "filter_width"), ({"kind": "davies"}, "kind"),
    ({"weight": "heat-bath"}, "weight"), ({"quadrature_tol": 0.0}, "quadrature_tol"),
    ({"jumps": []}, "jumps"), ({"jumps": np.eye(2)}, "jumps"), ({"jumps": [np.eye(3)]}, r"jumps\[0\]"),
    ({"jumps": "X0"}, "jumps"), ({"kind": "ckg", "filter": lambda nu: np.exp(-nu / 4)}, "filter"),
    ({"kind": "dll", "weight": "gaussian", "filter": lambda nu: np.exp(-nu / 4)}, "filter"),
    ({"kind": "dll", "filter": 3.0}, "filter"), ({"kind": "dll", "filter": lambda nu: np.ones(2)}, "filter"),
    ({"kind": "dll", "weight": "glauber", "filter_width": 1.0}, "filter_width"),
    ({"kind": "dll", "weight": "ckg"}, "weight"), ({"H": np.array([[0, 1], [0, 0]])}, "H"),
])
def test_bad_input_raises_input_error_naming_the_argument(kwargs, match):
    args = {"H": np.diag([0.0, 1.0]), "beta": 1.0, "jumps": [np.array([[0, 1], [1, 0]])]}
    args.update(kwargs)
    H, beta, jumps = args.pop("H"), args.pop("beta"), args.pop("jumps")
    with pytest.raises(db.InputError, match=match):
        gibbs_sampler(H, beta, jumps, **args)
