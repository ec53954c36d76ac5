"""Baths (THEORY.md §5): KMS-consistent rates, ω → 0 limits, overflow-free evaluation, correlation
functions against closed forms, KMS through the Fourier pair, Lamb shifts, and the QuTiP mapping."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.special import expi, gamma as gamma_fn

from detbal.baths import Bath, principal_value_shift
from detbal.errors import InputError

INF = float("inf")


def all_kinds(beta):
    return [
        Bath.ohmic(alpha=0.1, cutoff=10.0, beta=beta),
        Bath.power_law(alpha=0.2, s=0.5, cutoff=3.0, beta=beta),
        Bath.power_law(alpha=0.2, s=3.0, cutoff=3.0, beta=beta),
        Bath.drude_lorentz(lam=0.4, gamma=1.5, beta=beta),
        Bath(lambda w: 0.1 * w * np.exp(-w / 10.0), beta=beta, name="custom"),
    ]


# ---------------------------------------------------------------------------------------------
# closed forms used as references


def thermal_sum(a, beta, p, K=400):
    """Σ_{k≥1} (a + kβ)^{−p} (complex a, Re a > 0): K terms + Euler–Maclaurin tail."""
    k = np.arange(1, K)
    head = np.sum((a[..., None] + k * beta) ** (-p), axis=-1)
    z = a + K * beta
    tail = (z ** (1 - p) / (beta * (p - 1)) + z ** (-p) / 2 + p * beta * z ** (-p - 1) / 12
            - p * (p + 1) * (p + 2) * beta**3 * z ** (-p - 3) / 720)
    return head + tail


def correlation_power_law(alpha, s, c, beta, t):
    """C(t) for J = α c^{1−s} ω^s e^{−ω/c}: coth = 1 + 2Σ_k e^{−kβω}, ∫ω^s e^{−aω} = Γ(s+1)/a^{s+1}."""
    a = 1 / c + 1j * np.asarray(t, float)
    pref = alpha * c ** (1 - s) * gamma_fn(s + 1)
    zero_t = pref * a ** (-(s + 1))
    if math.isinf(beta):
        return zero_t                      # T = 0: α c² Γ(s+1)/(1 + i c t)^{s+1}
    return zero_t + pref * (thermal_sum(a, beta, s + 1) + thermal_sum(a.conj(), beta, s + 1))


def correlation_drude_lorentz(lam, g, beta, t, K=2000):
    """Matsubara series for t > 0 (our C has no 1/π: it is π × the HEOM-literature expression)."""
    nu = 2 * np.pi * np.arange(1, K) / beta
    t = np.asarray(t, float)
    mats = np.sum(nu * np.exp(-nu * t[..., None]) / (nu**2 - g**2), axis=-1)
    return np.pi * lam * g * ((1 / np.tan(beta * g / 2) - 1j) * np.exp(-g * t) + 4 / beta * mats)


def lamb_shift_ohmic(alpha, c, beta, w, K=100_000):
    """S(ω) for J = α ω e^{−ω/c}: S = P∫_0^∞ J(x)[(1+n)/(ω−x) + n/(ω+x)] dx with n = Σ_k e^{−kβx};
    each term is a closed form in Ei. T = 0: α[−c + ω e^{−ω/c} Ei(ω/c)]."""
    w = np.asarray(w, float)
    if np.any(w == 0):                     # every ω-term vanishes like ω log|ω|: S(0) = −αc at any T
        out = np.full(w.shape, -alpha * c)
        out[w != 0] = lamb_shift_ohmic(alpha, c, beta, w[w != 0], K)
        return out
    s0 = alpha * (-c + w * np.exp(-w / c) * expi(w / c))
    if math.isinf(beta):
        return s0
    y = np.abs(w[..., None] * (1 / c + np.arange(1, K + 1) * beta))
    ys = np.minimum(y, 300.0)              # f(y) = e^{−y}Ei(y) + e^{y}Ei(−y), asymptotic for y > 300
    f = np.where(y > 300, 2 / y**2 + 12 / y**4 + 240 / y**6,
                 np.exp(-ys) * expi(ys) + np.exp(ys) * expi(-ys))
    tail = 2 / (w**2 * beta * (1 / c + (K + 0.5) * beta))
    return s0 + alpha * w * (np.sum(f, axis=-1) + tail)


# ---------------------------------------------------------------------------------------------
# rates


@pytest.mark.parametrize("beta", [0.37, 1.0, 2.0])
def test_rates_obey_kms_exactly_for_every_kind(beta):
    w = np.linspace(1e-3, 50.0, 2001)
    for bath in all_kinds(beta):
        ratio = bath.rate(-w) / bath.rate(w)
        assert np.max(np.abs(ratio / np.exp(-beta * w) - 1)) < 1e-14, bath


def test_ohmic_rates_near_zero_frequency():
    bath = Bath.ohmic(alpha=0.1, cutoff=10.0, beta=2.0)
    assert round(float(bath.rate(1e-12)), 7) == 0.3141593            # π·0.1
    assert round(float(bath.rate(1e-6)), 7) == 0.3141595
    assert round(float(bath.rate(-1e-6)), 7) == 0.3141589
    for w in (1e-12, 1e-9, 1e-6, 1e-3):                               # series and expm1 branches
        exact = 2 * np.pi * 0.1 * w * np.exp(-w / 10) / -np.expm1(-2 * w)
        assert bath.rate(w) == pytest.approx(exact, rel=1e-13)


def test_zero_frequency_limits():
    T = 0.5
    assert Bath.ohmic(0.1, 10.0, 1 / T).rate(0.0) == pytest.approx(2 * np.pi * 0.1 * T, rel=1e-15)
    assert Bath.power_law(0.1, 2.0, 10.0, 1 / T).rate(0.0) == 0.0
    dl = Bath.drude_lorentz(lam=0.3, gamma=2.0, beta=1 / T)
    assert dl.rate(0.0) == pytest.approx(4 * np.pi * 0.3 * T / 2.0, rel=1e-15)
    for bath in (Bath.ohmic(0.1, 10.0, 1 / T), dl):                   # continuity at ω = 0
        assert bath.rate(1e-9) == pytest.approx(bath.rate(0.0), rel=1e-8)
    with pytest.raises(InputError, match="sub-ohmic"):
        Bath.power_law(0.1, 0.5, 10.0, 1 / T).rate([1.0, 0.0])
    assert Bath.power_law(0.1, 0.5, 10.0, 1 / T).rate(1e-3) > 0          # ω ≠ 0 is fine


def test_zero_frequency_limit_of_custom_spectral_density_is_numerical_slope():
    T = 0.5
    ohmic_like = Bath(lambda w: 0.1 * w * np.exp(-w / 10.0), beta=1 / T)
    assert ohmic_like.rate(0.0) == pytest.approx(2 * np.pi * 0.1 * T, rel=1e-10)
    lorentz = Bath(lambda w: 0.3 * w / (1 + w * w), beta=1 / T)
    assert lorentz.rate(0.0) == pytest.approx(2 * np.pi * 0.3 * T, rel=1e-10)
    assert Bath(lambda w: w**2 / (1 + w**4), beta=1 / T).rate(0.0) == 0.0
    with pytest.raises(InputError, match="sub-ohmic"):
        Bath(lambda w: 0.1 * np.sqrt(w), beta=1 / T).rate(0.0)


def test_extreme_beta_omega_is_overflow_free():
    bath = Bath.ohmic(alpha=0.1, cutoff=10.0, beta=2.0)
    with warnings.catch_warnings(), np.errstate(all="warn"):
        warnings.simplefilter("error")                                # any FP warning would fail
        up, down = bath.rate(5000.0), bath.rate(-5000.0)
        far = bath.rate(np.array([1e4, -1e4, 1e6, -1e6]))
        # J underflows (e^{−800}) but γ does not: built-in kinds recompute γ from log J
        huge = Bath.ohmic(alpha=1e100, cutoff=1.0, beta=2.0).rate(800.0)
        # β|ω| = 800 > 700: the absorption rate is formed as exp(log γ(|ω|) − β|ω|)
        strong = Bath.ohmic(alpha=1e300, cutoff=1e6, beta=2.0)
        em, ab = strong.rate(400.0), strong.rate(-400.0)
        dl_far = Bath.drude_lorentz(0.3, 2.0, 1.0).rate([1e200, -1e200])
    assert up == pytest.approx(2 * np.pi * 0.1 * 5000 * np.exp(-500.0), rel=1e-12)
    assert f"{up:.3e}" == "2.238e-214" and down == 0.0
    assert np.all(far == 0.0)
    assert huge == pytest.approx(np.exp(np.log(2 * np.pi * 1e100 * 800) - 800), rel=1e-12)
    assert ab > 0 and ab == pytest.approx(np.exp(np.log(em) - 800.0), rel=1e-12)
    assert dl_far[0] == pytest.approx(2 * np.pi * 2 * 0.3 * 2.0 / 1e200, rel=1e-12) and dl_far[1] == 0.0


def test_zero_temperature_rates():
    bath = Bath.ohmic(alpha=0.1, cutoff=10.0, beta=INF)
    w = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    expected = np.where(w > 0, 2 * np.pi * 0.1 * w * np.exp(-w / 10), 0.0)
    np.testing.assert_allclose(bath.rate(w), expected, rtol=1e-15, atol=0)
    assert bath.temperature == 0.0 and bath.beta == INF
    assert Bath.power_law(0.1, 0.5, 1.0, INF).rate(0.0) == 0.0         # J(0+) = 0 at T = 0


def test_rates_are_vectorized_and_do_not_mutate_input():
    bath = Bath.drude_lorentz(0.4, 1.5, 1.3)
    w = np.array([[-1.0, 0.0, 2.0], [3.0, -4.0, 0.5]])
    before = w.copy()
    r = bath.rate(w)
    assert r.shape == (2, 3) and r.dtype == np.float64
    np.testing.assert_array_equal(w, before)
    np.testing.assert_array_equal(r.ravel(), [float(bath.rate(x)) for x in w.ravel()])
    assert isinstance(bath.rate(1.0), np.floating) and np.ndim(bath.rate(1.0)) == 0
    assert bath.rate([1.0, 2.0]).shape == (2,)
    assert bath.rate(np.zeros((0,))).shape == (0,)
    assert bath.correlation(np.ones((2, 2))).shape == (2, 2)
    assert bath.correlation(np.ones((2, 2))).dtype == np.complex128
    assert bath.lamb_shift([[0.5], [1.0]]).shape == (2, 1)
    np.testing.assert_allclose(bath.spectral_density([-2.0, 0.0, 2.0]),
                               [-bath.spectral_density(2.0), 0.0, bath.spectral_density(2.0)])


def test_scalar_only_spectral_density_is_vectorized_automatically():
    custom = Bath(lambda w: 0.1 * w * math.exp(-w / 10.0), beta=2.0)    # math.exp fails on arrays
    ohmic = Bath.ohmic(0.1, 10.0, 2.0)
    w = np.array([-3.0, 0.0, 1e-7, 2.0, 40.0])
    np.testing.assert_allclose(custom.rate(w), ohmic.rate(w), rtol=1e-10)


def test_bath_is_immutable_and_serializable():
    bath = Bath.power_law(alpha=0.2, s=3.0, cutoff=3.0, beta=2.0, name="hot")
    assert bath.kind == "power_law" and bath.params == {"alpha": 0.2, "s": 3.0, "cutoff": 3.0}
    bath.params["alpha"] = 99.0
    assert bath.params["alpha"] == 0.2
    assert bath.to_dict() == {"kind": "power_law", "params": {"alpha": 0.2, "s": 3.0, "cutoff": 3.0},
                              "temperature": 0.5, "name": "hot"}
    assert repr(bath) == "Bath.power_law(alpha=0.2, s=3.0, cutoff=3.0, beta=2.0, name='hot')"
    assert bath == Bath.power_law(0.2, 3.0, 3.0, 2.0, name="hot") != Bath.ohmic(0.2, 3.0, 2.0)
    with pytest.raises(AttributeError):
        bath.beta = 3.0
    assert "Bath(spectral_density=" in repr(Bath(lambda w: w * np.exp(-w), beta=1.0))


BAD = {
    "negative alpha": (lambda: Bath.ohmic(alpha=-0.1, cutoff=1.0, beta=1.0), "alpha"),
    "zero cutoff": (lambda: Bath.ohmic(alpha=0.1, cutoff=0.0, beta=1.0), "cutoff"),
    "infinite cutoff": (lambda: Bath.ohmic(alpha=0.1, cutoff=INF, beta=1.0), "cutoff"),
    "negative beta": (lambda: Bath.ohmic(0.1, 1.0, beta=-1.0), "beta"),
    "nan beta": (lambda: Bath.ohmic(0.1, 1.0, beta=float("nan")), "beta"),
    "zero beta": (lambda: Bath.ohmic(0.1, 1.0, beta=0.0), "beta"),
    "string beta": (lambda: Bath.ohmic(0.1, 1.0, beta="hot"), "beta"),
    "zero s": (lambda: Bath.power_law(0.1, s=0.0, cutoff=1.0, beta=1.0), "`s`"),
    "negative s": (lambda: Bath.power_law(0.1, s=-1.0, cutoff=1.0, beta=1.0), "`s`"),
    "negative lam": (lambda: Bath.drude_lorentz(lam=-1.0, gamma=1.0, beta=1.0), "lam"),
    "zero gamma": (lambda: Bath.drude_lorentz(lam=1.0, gamma=0.0, beta=1.0), "gamma"),
    "J negative": (lambda: Bath(lambda w: -w, beta=1.0), "spectral_density"),
    "J nan": (lambda: Bath(lambda w: np.full_like(w, np.nan), beta=1.0), "spectral_density"),
    "J complex": (lambda: Bath(lambda w: (1 + 1j) * w, beta=1.0), "spectral_density"),
    "J not callable": (lambda: Bath(0.1, beta=1.0), "spectral_density"),
    "name not a string": (lambda: Bath.ohmic(0.1, 1.0, 1.0, name=3), "name"),
    "J negative beyond the check grid": (
        lambda: Bath(lambda w: np.where(w < 5e3, w, -1.0), beta=1.0).rate(6e3), "spectral_density"),
    "nan omega": (lambda: Bath.ohmic(0.1, 1.0, 1.0).rate(float("nan")), "omega"),
    "non-callable rate_fn": (lambda: principal_value_shift(1.0, 0.5), "rate_fn"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_raises_input_error_naming_the_argument(case):
    make, name = BAD[case]
    with pytest.raises(InputError, match=name):
        make()


# ---------------------------------------------------------------------------------------------
# correlation function

T_GRID = np.array([0.0, 0.05, 0.3, 1.0, -1.0, 4.0, 20.0])


@pytest.mark.parametrize("s,beta", [(1.0, INF), (1.0, 0.7), (0.5, INF), (0.5, 2.0), (0.5, 0.3),
                                    (3.0, 1.0), (3.0, INF)])
def test_correlation_matches_closed_form_for_power_law_baths(s, beta):
    bath = Bath.power_law(alpha=0.2, s=s, cutoff=3.0, beta=beta)
    C = bath.correlation(T_GRID)
    ref = correlation_power_law(0.2, s, 3.0, beta, T_GRID)
    # errors are measured against C(0), the scale of C; quad reaches ~1e-14 here
    assert np.max(np.abs(C - ref)) < 1e-12 * abs(ref[0])
    assert C[0].imag == 0.0 and C[0].real > 0
    assert C[4] == np.conj(C[3])                                       # C(−t) = conj C(t)


def test_correlation_ohmic_zero_temperature_closed_form():
    bath = Bath.ohmic(alpha=0.1, cutoff=10.0, beta=INF)
    t = np.array([0.0, 0.01, 0.1, 1.0, 100.0])
    ref = 0.1 * 100 / (1 + 10j * t) ** 2                              # α ω_c²/(1 + i ω_c t)²
    # quadrature error is absolute, ~1e-16 of the scale C(0) = α ω_c² = 10
    np.testing.assert_allclose(bath.correlation(t), ref, rtol=1e-12, atol=1e-14 * abs(ref[0]))


def test_correlation_at_zero_time_is_integral_of_j_coth():
    bath = Bath.ohmic(alpha=0.1, cutoff=2.0, beta=1.5)
    # ∫ α ω e^{−ω/c} coth(βω/2) dω = α[c² + 2 Σ_k (1/c + kβ)^{−2}]
    a = np.array(1 / 2.0 + 0j)
    expected = 0.1 * (4.0 + 2 * thermal_sum(a, 1.5, 2).real)
    assert bath.correlation(0.0) == pytest.approx(expected, rel=1e-13)


def test_correlation_drude_lorentz_matsubara_series_and_divergent_origin():
    bath = Bath.drude_lorentz(lam=0.4, gamma=1.5, beta=1.3)
    t = np.array([0.05, 0.3, 1.0, 4.0, 20.0])
    ref = correlation_drude_lorentz(0.4, 1.5, 1.3, t)
    # heavy 1/ω tail (QAWF): absolute error against the scale |C(0.05)|
    assert np.max(np.abs(bath.correlation(t) - ref)) < 1e-12 * abs(ref[0])
    assert bath.correlation(0.0).real == INF                          # log divergence of ∫J coth


def test_kms_through_the_fourier_pair():
    """γ(ω) = ∫dt e^{iωt} C(t) from the numerical C(t); then γ(−ω)/γ(ω) = e^{−βω}.

    Trapezoid on t ∈ [−80, 80], dt = 0.2 (spectrally accurate for the smooth, even-extended
    integrand; aliasing ~ γ(2π/dt) is negligible). The error is the truncation of the t^{−4} tail of
    C(t) for s = 3 (|C(80)| ~ 1e-8): observed ≤ 1.2e-6 relative, so the tolerance is 5e-6.
    """
    beta, dt = 1.0, 0.2
    bath = Bath.power_law(alpha=0.05, s=3.0, cutoff=1.0, beta=beta)
    t = dt * np.arange(401)
    C = bath.correlation(t)
    for w in (0.5, 1.0, 2.0, 3.0):
        emit, absorb = (dt * (C[0].real + 2 * np.sum((np.exp(1j * sg * w * t[1:]) * C[1:]).real))
                        for sg in (1, -1))
        assert emit == pytest.approx(bath.rate(w), rel=5e-6)
        assert absorb == pytest.approx(bath.rate(-w), rel=5e-6)
        assert absorb / emit == pytest.approx(np.exp(-beta * w), rel=5e-6)


# ---------------------------------------------------------------------------------------------
# Lamb shift


def test_principal_value_shift_of_lorentzian_test_function():
    g0, kappa = 1.3, 0.7
    w = np.array([0.4, -1.1, 2.5, 0.0])
    S = principal_value_shift(lambda x: g0 * kappa**2 / (x * x + kappa**2), w)
    np.testing.assert_allclose(S, g0 * kappa / 2 * w / (w**2 + kappa**2), rtol=1e-10, atol=1e-14)


def test_lamb_shift_ohmic_matches_closed_form():
    w = np.array([-3.0, -0.7, 0.0, 0.4, 1.0, 2.5, 9.0])
    for beta, rtol in ((INF, 1e-12), (1.0, 1e-12)):
        bath = Bath.ohmic(alpha=0.1, cutoff=4.0, beta=beta)
        np.testing.assert_allclose(bath.lamb_shift(w), lamb_shift_ohmic(0.1, 4.0, beta, w), rtol=rtol)
    # the window is an implementation detail: another scale gives the same S
    bath = Bath.ohmic(alpha=0.1, cutoff=4.0, beta=1.0)
    np.testing.assert_allclose(principal_value_shift(bath.rate, w, scale=0.3), bath.lamb_shift(w),
                               rtol=1e-10)


def test_lamb_shift_is_finite_for_all_kinds():
    for bath in all_kinds(1.0):
        S = bath.lamb_shift([-2.0, 0.3, 5.0])
        assert np.all(np.isfinite(S)), bath


# ---------------------------------------------------------------------------------------------
# QuTiP mapping


def test_qutip_bloch_redfield_tensor_uses_bath_rate_as_spectrum():
    qutip = pytest.importorskip("qutip")
    bath = Bath.ohmic(alpha=0.1, cutoff=5.0, beta=1.0)
    spectrum = lambda w: float(bath.rate(w))  # noqa: E731  (QuTiP needs the argument name `w`)
    H = qutip.sigmaz() / 2                    # eigenbasis order: E0 = −1/2, E1 = +1/2, ω = 1
    R, ekets = qutip.bloch_redfield_tensor(H, [(qutip.sigmax(), spectrum)], sec_cutoff=0.1)
    R = R.full()                              # eigenbasis (fock_basis=False), column stacking
    S01 = (ekets.full().conj().T @ qutip.sigmax().full() @ ekets.full())[0, 1]
    decay, excite = bath.rate(1.0) * abs(S01) ** 2, bath.rate(-1.0) * abs(S01) ** 2
    i00, i11 = 0, 3                           # vec index of |a⟩⟨a| is a + 2a
    assert R[i00, i11] == pytest.approx(decay, rel=1e-14)            # 1 → 0, emits ω
    assert R[i11, i00] == pytest.approx(excite, rel=1e-14)           # 0 → 1, absorbs ω
    assert R[i00, i00] == pytest.approx(-excite, rel=1e-14)
    assert R[1, 1].real == pytest.approx(-(decay + excite) / 2, rel=1e-14)   # T₂ = 2T₁
