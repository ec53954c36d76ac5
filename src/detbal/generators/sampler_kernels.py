"""Energy filters, transition weights and the ω-quadrature of the exact quantum Gibbs samplers.

Conventions: ν = E_i − E_j is the energy the system **gains** in the jump j → i (the entry (i, j)
of an operator in the energy eigenbasis); σ_E is the energy width of the CKG filter.

**CKG** (Chen–Kastoryano–Gilyén). Gaussian filter f̂(x) = (2πσ_E²)^{−1/4} exp(−x²/(4σ_E²))
(∫|f̂|² = 1); transition weight γ(ω) with the KMS shift; the ω-integral of
γ(ω) f̂(ω − ν1) f̂(ω − ν2) is the kernel

    α(ν1, ν2) = exp(−(ν1 − ν2)²/(8σ_E²)) · h((ν1 + ν2)/2),   h(μ) = E_{ω∼N(μ, σ_E²)} γ(ω).

Every weight is written with u = ω + βσ_E²/2 as γ(ω) = e^{−βu/2} g(u) with g even:
    metropolis  γ = min(1, e^{−β(ω + βσ_E²/2)}),        g(u) = e^{−β|u|/2};
    glauber     γ = 1/(1 + e^{β(ω + βσ_E²/2)}),         g(u) = 1/(2 cosh(βu/2));
    gaussian    γ = exp(−(ω + ω_γ)²/(2σ_γ²)), ω_γ = β(σ_E² + σ_γ²)/2,  g(u) = e^{−u²/(2σ_γ²) − β²σ_γ²/8}
(σ_γ = σ_E here). Then h(μ) = e^{−βμ/2 − β²σ_E²/8} ∫ g(u) N(u; μ, σ_E²) du and the integral is even
in μ, which is the KMS identity h(−μ) = e^{βμ} h(μ).

**Quadrature.** A rule with nodes u_k symmetric about u = 0 and equal weights at ±u_k keeps the
smoothed weight even *exactly*, so the quadrature kernel α_q(ν1, ν2) = Σ_k c_k f̂(ω_k − ν1) f̂(ω_k − ν2),
c_k = w_k γ(ω_k) ≥ 0, is itself an exact KMS kernel (and a sum of rank-one positive terms): the
generator it defines is KMS-detailed-balanced, trace preserving and completely positive for any
number of nodes; only its distance to the closed-form α depends on the nodes. Gauss–Legendre
panels of width 3σ_E on [0, U] are mirrored to [−U, 0] (the Metropolis kink at u = 0 is a panel end).

**DLL** (Ding–Li–Lin). One filtered jump per A, K = Σ_ν q̂(ν) A_ν, with q̂(−ν) = e^{βν/2} conj(q̂(ν)):
    gaussian    q̂(ν) = exp(−(ν + βσ²/2)²/(4σ²) + β²σ²/16)  (q̂(0) = 1; σ = √2/β gives DLL's
                exp(−β²ν²/8 − βν/4));
    metropolis  q̂(ν) = exp(−√(1 + β²ν²)/4 − βν/4) · bump(ν/S)  (S = filter width; no cut-off when None;
                bump(x) = exp(−0.2/(1 − x²)) for |x| < 1, else 0, the cut-off of Šmíd et al.'s code);
    glauber     q̂(ν) = e^{−βν/4}/√(2 cosh(βν/2))  (|q̂|² = 1/(1 + e^{βν})).

Filter values below FLUSH times the largest are set to zero (subnormal numbers make every later
product about ten times slower). The last section holds the sampler's operator algebra: the
compressed CKG rule, the coherent term of the tanh rule and the batched sums Σ_r F_r Y F_r†.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import log_ndtr, ndtr

from ..errors import InputError

__all__ = ["CKG_WEIGHTS", "DLL_FILTERS", "FLUSH", "OmegaQuadrature", "SmoothedWeight", "check_kms_filter",
           "ckg_filter", "ckg_quadrature", "coherent_term", "compressed_filters", "dll_filter", "flush",
           "gaussian_factor", "omega_quadrature", "sandwich_sum"]

#: filter values below FLUSH·max are set to zero
FLUSH = 1e-40
CKG_WEIGHTS = ("metropolis", "glauber", "gaussian")
DLL_FILTERS = ("gaussian", "metropolis", "glauber")
_GL_PANEL = 3.0     # panel width of the sampler quadrature, in units of σ_E
_REF_PANEL = 0.5    # panel width of the reference rule for the Glauber smoothing, in units of σ_E
_REF_ORDER = 20
_TAIL = 9.0         # Gaussian tail kept beyond the frequency range, in σ_E (e^{−81/2} ≈ 3e-18)


def flush(values: np.ndarray, nu: np.ndarray, beta: float, envelope: np.ndarray) -> np.ndarray:
    """Filter values a(ν) (shape (..., d, d)) with the entries set to exactly zero whose filtered jump
    |a(ν_ij)|·envelope_ij is below FLUSH times the largest one, both as it is and σ-transformed
    (times e^{βν/4}); in place, returns ``values``. Relative to the filtered jumps, not to the filter
    alone, so a spectrum whose every transition is far out in the filter's tail keeps its (tiny but
    representable) rates; the σ-transformed condition keeps the flushed set symmetric under ν → −ν for a
    KMS filter (|a(−ν)|e^{−βν/4} = |a(ν)|e^{βν/4}), so flushing never breaks detailed balance."""
    with np.errstate(divide="ignore"):
        log_mag = np.log(np.abs(values)) + np.log(envelope)
    top = float(np.max(log_mag, initial=-np.inf))
    if top == -np.inf:
        return values
    shifted = log_mag + beta * nu / 4
    cut = math.log(FLUSH)
    values[(log_mag < cut + top) & (shifted < cut + float(np.max(shifted)))] = 0.0
    return values


def ckg_filter(x, sigma: float) -> np.ndarray:
    """f̂(x) = (2πσ²)^{−1/4} exp(−x²/(4σ²)), the normalised (∫|f̂|² = 1) Gaussian filter."""
    x = np.asarray(x, dtype=float)
    return (2 * math.pi * sigma * sigma) ** -0.25 * np.exp(-x * x / (4 * sigma * sigma))


def gaussian_factor(diff, sigma: float) -> np.ndarray:
    """G(ν1 − ν2) = exp(−(ν1 − ν2)²/(8σ²)), the off-diagonal factor of α."""
    diff = np.asarray(diff, dtype=float)
    return np.exp(-diff * diff / (8 * sigma * sigma))


@dataclass(frozen=True)
class SmoothedWeight:
    """A CKG transition weight γ at inverse temperature β with filter width σ (module docstring)."""

    kind: str
    beta: float
    sigma: float

    @property
    def sigma_gamma(self) -> float:
        """Width σ_γ of the Gaussian weight (= σ_E)."""
        return self.sigma

    def even_part(self, u) -> np.ndarray:
        """g(u) of γ(ω) = e^{−βu/2} g(u), u = ω + βσ²/2 (even in u)."""
        u = np.asarray(u, dtype=float)
        b = self.beta
        if self.kind == "metropolis":
            return np.exp(-b * np.abs(u) / 2)
        if self.kind == "glauber":
            return 0.5 / np.cosh(b * u / 2)
        sg = self.sigma_gamma
        return np.exp(-u * u / (2 * sg * sg) - b * b * sg * sg / 8)

    def gamma(self, omega) -> np.ndarray:
        """γ(ω) (module docstring), evaluated as e^{−βu/2} g(u) without overflow."""
        omega = np.asarray(omega, dtype=float)
        b, s = self.beta, self.sigma
        u = omega + b * s * s / 2
        if self.kind == "metropolis":
            return np.exp(-b * np.maximum(u, 0.0))
        if self.kind == "glauber":
            return np.exp(-np.logaddexp(0.0, b * u))
        return np.exp(-(omega + b * (s * s + self.sigma_gamma ** 2) / 2) ** 2 / (2 * self.sigma_gamma ** 2))

    def smoothed(self, mu) -> np.ndarray:
        """h(μ) = E_{ω∼N(μ, σ²)} γ(ω): closed form for Metropolis and Gaussian weights; for Glauber a
        Gauss–Legendre rule (panels σ/2, 20 nodes each) converged to round-off."""
        mu = np.asarray(mu, dtype=float)
        b, s = self.beta, self.sigma
        if self.kind == "metropolis":
            shift = b * s * s / 2
            return ndtr(-(mu + shift) / s) + np.exp(-b * mu + log_ndtr((mu - shift) / s))
        if self.kind == "gaussian":
            sg = self.sigma_gamma
            var = s * s + sg * sg
            return sg / math.sqrt(var) * np.exp(-(mu + b * var / 2) ** 2 / (2 * var))
        flat = mu.reshape(-1)
        if flat.size == 0:
            return mu.copy()
        lo, hi = float(flat.min()) - 14 * s, float(flat.max()) + 14 * s
        u, w = _panels(lo, hi, _REF_PANEL * s, _REF_ORDER)
        gw = w * self.even_part(u)
        out = np.empty(flat.shape)
        step = max(1, (1 << 22) // u.size)
        for a in range(0, flat.size, step):
            m = flat[a:a + step]
            out[a:a + step] = _normal(u[None, :], m[:, None], s) @ gw
        return (np.exp(-b * flat / 2 - b * b * s * s / 8) * out).reshape(mu.shape)

    def kernel(self, nu1, nu2) -> np.ndarray:
        """α(ν1, ν2) = exp(−(ν1 − ν2)²/(8σ²)) h((ν1 + ν2)/2) (broadcasting)."""
        nu1, nu2 = np.asarray(nu1, dtype=float), np.asarray(nu2, dtype=float)
        return gaussian_factor(nu1 - nu2, self.sigma) * self.smoothed((nu1 + nu2) / 2)


def _normal(x, mu, s):
    return np.exp(-(x - mu) ** 2 / (2 * s * s)) / (s * math.sqrt(2 * math.pi))


def _panels(lo: float, hi: float, width: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights of ``order`` points on panels of about ``width`` over [lo, hi]."""
    x, w = np.polynomial.legendre.leggauss(order)
    n = max(1, math.ceil((hi - lo) / width))
    edges = np.linspace(lo, hi, n + 1)
    half = (edges[1:] - edges[:-1]) / 2
    mid = (edges[1:] + edges[:-1]) / 2
    return (mid[:, None] + half[:, None] * x[None, :]).ravel(), (half[:, None] * w[None, :]).ravel()


@dataclass(frozen=True)
class OmegaQuadrature:
    """Nodes ω_k and non-negative weights c_k = w_k γ(ω_k) of α_q(ν1, ν2) = Σ_k c_k f̂(ω_k − ν1) f̂(ω_k − ν2),
    optionally compressed to R filters F_r(ν) = Σ_k mix[r, k] √c_k f̂(ω_k − ν) (α_q = Σ_r F_r(ν1) F_r(ν2)).

    Attributes:
        omega, coef: (K,) nodes and weights; the nodes are symmetric about ω = −βσ²/2.
        error: the measured error max |α_q − α|(ν1, ν2)·w(ν1)w(ν2) over the Bohr frequencies of the
            jumps, w(ν) = a(ν)·max(1, e^{βν/4}), a(ν) = max_{a, ν_ij ≈ ν} |A^a_ij| / max |A|: the error of
            any entry of the transition superoperator (plain or σ-transformed) in the eigenbasis is
            ≤ error·max|A|² per jump.
        half_range: U, the nodes cover u = ω + βσ²/2 ∈ [−U, U]; order: Gauss–Legendre points per panel.
        mix: (R, K) compression (:func:`compressed_filters`), None for the plain rule.
    """

    omega: np.ndarray
    coef: np.ndarray
    error: float
    half_range: float
    order: int
    mix: np.ndarray | None = None

    @property
    def nodes(self) -> int:
        """K, the number of ω-nodes."""
        return int(self.omega.size)

    @property
    def size(self) -> int:
        """The number of filters per jump: R when compressed, else K."""
        return int(self.omega.size if self.mix is None else self.mix.shape[0])

    def filters(self, nu: np.ndarray, sigma: float) -> np.ndarray:
        """(size, *nu.shape) filter values F_r(ν) (or √c_k f̂(ω_k − ν)), in chunks of ≤ 2²² numbers."""
        flat = np.asarray(nu, dtype=float).reshape(-1)
        out = np.empty((self.size, flat.size))
        step = max(1, (1 << 22) // self.nodes)
        root = np.sqrt(self.coef)[:, None]
        for a in range(0, flat.size, step):
            phi = root * ckg_filter(self.omega[:, None] - flat[None, a:a + step], sigma)
            out[:, a:a + step] = phi if self.mix is None else self.mix @ phi
        return out.reshape((self.size,) + np.shape(nu))


def _symmetric_rule(weight: SmoothedWeight, U: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    s = weight.sigma
    u, w = _panels(0.0, U, _GL_PANEL * s, order)
    u = np.concatenate([-u[::-1], u])
    w = np.concatenate([w[::-1], w])
    omega = u - weight.beta * s * s / 2
    return omega, w * weight.gamma(omega)


def omega_quadrature(weight: SmoothedWeight, nu: np.ndarray, envelope: np.ndarray, tol: float) -> OmegaQuadrature:
    """The cheapest symmetric Gauss–Legendre rule whose measured kernel error is ≤ ``tol``.

    Args:
        weight: the CKG weight; nu: (d, d) Bohr frequencies; envelope: (d, d) max_a |A^a_ij| (any scale).
        tol: bound on max |α_q − α|·a(ν1)a(ν2) (see :class:`OmegaQuadrature`).

    The error is measured on frequency bins of width σ/4 (a(ν) the largest envelope in a bin and its
    neighbours, the Gaussian factor at the bins' closest distance) against h on a grid of spacing σ/20
    (h_q − h varies on the node spacing, ≥ 3σ/20 here). Candidates: half-ranges U where the envelope
    falls below 10^{−k}, orders 6…20; the rule with fewest nodes that meets ``tol`` is returned, else
    InputError naming ``quadrature_tol``.
    """
    s = weight.sigma
    if float(np.max(envelope, initial=0.0)) == 0:
        om, c = _symmetric_rule(weight, _TAIL * s, 6)
        return OmegaQuadrature(om, c, 0.0, _TAIL * s, 6)
    W = float(np.abs(nu).max(initial=0.0))
    width = s / 4
    centers, a = _binned_envelope(nu, envelope, width)
    live = np.flatnonzero(a > 1e-3 * tol)
    c_live, a_live = centers[live], a[live]
    dist = np.maximum(np.abs(c_live[:, None] - c_live[None, :]) - 2 * width, 0.0)
    mu_pair = (c_live[:, None] + c_live[None, :]) / 2
    pair = gaussian_factor(dist, s) * a_live[:, None] * a_live[None, :] * _transform_weight(weight.beta * mu_pair / 2)
    grid = np.arange(-W - width, W + width + s / 20, s / 20)
    exact = weight.smoothed(grid)
    # the u-range where the envelope matters: a(ν) ≥ 10^{−k}
    cuts = sorted({min(W, float(np.abs(c_live[a_live >= 10.0 ** -k]).max(initial=0.0))) for k in range(1, 17)}
                  | {W})
    candidates = sorted((math.ceil((U + _TAIL * s) / (_GL_PANEL * s)) * p, U, p)
                        for U in cuts for p in (6, 8, 10, 12, 16, 20))
    best = None
    for _, U0, p in candidates:
        U = U0 + _TAIL * s
        om, c = _symmetric_rule(weight, U, p)
        hq = _normal(om[None, :], grid[:, None], s) @ c
        err = _weighted_error(np.abs(hq - exact), grid, mu_pair, pair, width)
        if best is None or err < best[2]:
            best = (om, c, err, U, p)
        if err <= tol:
            return OmegaQuadrature(om, c, float(err), float(U), p)
    raise InputError(f"`quadrature_tol` = {tol:.1e} is not reached by the symmetric Gauss–Legendre ω-rules "
                     f"(best measured kernel error {best[2]:.1e} with {best[0].size} nodes); use a larger tolerance")


def compressed_filters(weight: SmoothedWeight, rule: OmegaQuadrature, nu: np.ndarray, envelope: np.ndarray,
                       tol: float) -> OmegaQuadrature:
    """A low-rank rotation of the node filters that keeps the kernel exactly KMS (``rule`` with ``mix``).

    The σ-transformed node filters φ̂_k(ν) = √c_k f̂(ω_k − ν) e^{βν/4} are Gaussians centred at u_k with
    φ̂_k(−ν) = φ̂_k̄(ν) (k̄ the mirror node), so the kernel Σ_k φ̂_k(ν1)φ̂_k(ν2) is the sum of an even and
    an odd family, e_k = (φ̂_k + φ̂_k̄)/√2 and o_k = (φ̂_k − φ̂_k̄)/√2 (k over one half of the nodes). Each
    family is rotated by the left singular vectors of its values on the frequency bins weighted by
    w(ν) = a(ν)·max(1, e^{βν/4}) (so the truncation error is bounded in both pictures, α and α̂), and
    singular values with s² ≤ tol/4 are dropped: linear combinations of even
    (odd) functions stay even (odd), so the truncated kernel keeps the symmetry under
    (ν1, ν2) → (−ν1, −ν2) that is the KMS identity, and stays a sum of squares (CP).

    Returns:
        ``rule`` with mix (R, K): the filters F_r(ν) = Σ_k mix[r, k] √c_k f̂(ω_k − ν) (the same
        combination in both pictures), and error: the measured max |α_r − α|(ν1, ν2)·w(ν1)w(ν2) on a
        grid of spacing σ/8 covering the Bohr frequencies (α_r the compressed kernel, α the closed form).
    """
    s, b = weight.sigma, weight.beta
    grid, a = _binned_envelope(nu, envelope, s / 8)
    K = rule.size
    half = K // 2
    phi = np.sqrt(rule.coef)[:, None] * ckg_filter(rule.omega[:, None] - grid[None, :], s)  # untransformed
    w = a * _transform_weight(b * grid / 4)
    mixes = []
    for sign in (1.0, -1.0):
        basis = np.zeros((half, K))
        basis[np.arange(half), half + np.arange(half)] = 1 / math.sqrt(2)
        basis[np.arange(half), half - 1 - np.arange(half)] += sign / math.sqrt(2)
        U, S, _ = np.linalg.svd((basis @ phi) * w[None, :], full_matrices=False)
        keep = max(1, int(np.count_nonzero(S * S > tol / 4)))
        mixes.append(U[:, :keep].T @ basis)
    mix = np.vstack(mixes)
    F = mix @ phi
    approx = F.T @ F
    exact = weight.kernel(grid[:, None], grid[None, :])
    error = float(np.max(np.abs(approx - exact) * w[:, None] * w[None, :]))
    return replace(rule, mix=mix, error=error)


def _transform_weight(x) -> np.ndarray:
    """max(1, e^x): an error weighted by it bounds the kernel error in both pictures, α and the
    σ-transformed α̂(ν1, ν2) = α(ν1, ν2) e^{β(ν1 + ν2)/4}."""
    return np.exp(np.clip(x, 0.0, 700.0))


def _binned_envelope(nu: np.ndarray, envelope: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """(grid, a): bin centres of spacing ``width`` over the Bohr frequencies and a(ν), the largest
    normalised envelope in each bin and its neighbours."""
    env = np.asarray(envelope, dtype=float)
    env = env / max(float(env.max(initial=0.0)), np.finfo(float).tiny)
    nb = math.ceil(float(np.abs(nu).max(initial=0.0)) / width) + 1
    grid = np.arange(-nb, nb + 1) * width
    idx = np.clip(np.rint(nu / width).astype(int) + nb, 0, 2 * nb)
    a = np.zeros(grid.size)
    np.maximum.at(a, idx.ravel(), env.ravel())
    return grid, np.maximum(a, np.maximum(np.roll(a, 1), np.roll(a, -1)))


def _weighted_error(dh: np.ndarray, grid: np.ndarray, mu_pair: np.ndarray, pair: np.ndarray, width: float) -> float:
    """max over bin pairs of pair-weight × max |h_q − h| over the μ-window of the pair."""
    step = grid[1] - grid[0]
    k = math.ceil(width / step)
    # running maximum over windows of ±width
    padded = np.pad(dh, k, constant_values=0.0)
    win = np.max(np.lib.stride_tricks.sliding_window_view(padded, 2 * k + 1), axis=1)
    pos = np.clip(np.rint((mu_pair - grid[0]) / step).astype(int), 0, grid.size - 1)
    return float(np.max(pair * win[pos], initial=0.0))


# -- DLL filters ------------------------------------------------------------------------------------
def dll_filter(kind: str, beta: float, width: float | None) -> Callable[[np.ndarray], np.ndarray]:
    """q̂(ν) of DLL's filter family ``kind`` (module docstring); ``width``: σ (gaussian, default √2/β),
    S (metropolis cut-off, default none); glauber takes none."""
    b = beta
    if kind == "gaussian":
        s = math.sqrt(2) / b if width is None else width
        return lambda nu: np.exp(-(nu + b * s * s / 2) ** 2 / (4 * s * s) + b * b * s * s / 16)
    if kind == "metropolis":
        def q(nu):
            base = np.exp(-np.sqrt(1 + (b * nu) ** 2) / 4 - b * nu / 4)
            if width is None:
                return base
            x = np.asarray(nu, dtype=float) / width
            inside = np.abs(x) < 1
            bump = np.zeros_like(x)
            bump[inside] = np.exp(-0.2 / (1 - x[inside] ** 2))
            return base * bump
        return q
    if width is not None:
        raise InputError("`filter_width`: the DLL Glauber filter e^{−βν/4}/√(2cosh(βν/2)) has no width; pass None")
    return lambda nu: np.exp(-b * nu / 4) / np.sqrt(2 * np.cosh(b * nu / 2))


def check_kms_filter(q: Callable, beta: float, nu: np.ndarray, name: str) -> None:
    """Require q̂(−ν) = e^{βν/2} conj(q̂(ν)) on the Bohr frequencies ``nu`` (relative 1e-10), else
    InputError naming ``name`` and the worst frequency."""
    nu = np.unique(np.asarray(nu, dtype=float).ravel())
    nu = nu[np.abs(beta * nu) <= 2800]  # e^{±βν/4} finite; beyond, the rates are not representable anyway
    try:
        plus = np.asarray(q(nu), dtype=complex)
        minus = np.asarray(q(-nu), dtype=complex)
    except Exception as exc:  # a user callable: any failure is an input error
        raise InputError(f"`{name}` must be a vectorised function of the Bohr frequency ν; calling it on an "
                         f"array failed: {exc}") from exc
    if plus.shape != nu.shape or minus.shape != nu.shape or not (np.all(np.isfinite(plus)) and np.all(np.isfinite(minus))):
        raise InputError(f"`{name}` must return one finite value per frequency (shape {nu.shape})")
    # compare q̂(−ν)e^{−βν/4} with conj(q̂(ν))e^{βν/4}: both are u(∓ν)-like and O(1) for a KMS filter
    lhs = minus * np.exp(-beta * nu / 4)
    rhs = np.conj(plus) * np.exp(beta * nu / 4)
    scale = max(float(np.max(np.abs(lhs))), float(np.max(np.abs(rhs))), np.finfo(float).tiny)
    bad = np.abs(lhs - rhs) / scale
    k = int(np.argmax(bad))
    if bad[k] > 1e-10:
        raise InputError(f"`{name}` violates the KMS relation q̂(−ν) = e^{{βν/2}}·conj(q̂(ν)) at ν = {nu[k]:.6g} "
                         f"(relative mismatch {bad[k]:.2e}); e.g. q̂(ν) = u(ν)e^{{−βν/4}} with u(−ν) = conj(u(ν))")


# -- the sampler's operators -------------------------------------------------------------------------
def ckg_quadrature(weight: SmoothedWeight, nu: np.ndarray, jumps: list, tol: float) -> OmegaQuadrature:
    """The compressed symmetric ω-rule of a CKG sampler with measured kernel error ≤ ``tol``: the rule is
    chosen for tol/2 and tightened (×1/10, up to three times) until the compressed kernel meets ``tol``."""
    envelope = np.max([np.abs(A) for A in jumps], axis=0)
    target = tol / 2
    for _ in range(4):
        rule = compressed_filters(weight, omega_quadrature(weight, nu, envelope, target), nu, envelope, target)
        if rule.error <= tol:
            return rule
        target /= 10
    raise InputError(f"`quadrature_tol` = {tol:.1e} is not reached (measured kernel error {rule.error:.1e} with "
                     f"{rule.nodes} ω-nodes); use a larger tolerance")


def coherent_term(M: np.ndarray, nu: np.ndarray, beta: float) -> np.ndarray:
    """B_ij = (i/2) tanh(βν_ij/4) M_ij, ν_ij = E_i − E_j: with it, −½{M, ·} − i[B, ·] is
    KMS-self-adjoint (σ^{−1/4}(M/2 + iB)σ^{1/4} is Hermitian). Returns (d, d) Hermitian ndarray."""
    return 0.5j * np.tanh(beta * nu / 4) * M


def sandwich_sum(stacks, Y: np.ndarray, real: bool, adjoint: bool) -> np.ndarray:
    """Σ_r F_r Y F_r† (or Σ_r F_r† Y F_r) over stacks (c, d, d) of F_r: per stack one batched product
    P_r = Y R_r and one product [L_1 … L_c]·[P_1; …; P_c], which sums inside BLAS. Real F with complex
    Y: the real and imaginary parts go through the same real products."""
    d = Y.shape[0]
    if real and np.iscomplexobj(Y):
        Ys = np.stack([Y.real, Y.imag])  # (2, d, d)
        acc = np.zeros((2, d, d))
        for F in stacks:
            left, right = (F.transpose(0, 2, 1), F) if adjoint else (F, F.transpose(0, 2, 1))
            wide = left.transpose(1, 0, 2).reshape(d, -1)          # [L_1 … L_c]
            for part in range(2):
                acc[part] += wide @ np.matmul(Ys[part], right).reshape(-1, d)
        return acc[0] + 1j * acc[1]
    acc = np.zeros((d, d), np.result_type(Y, float if real else complex))
    for F in stacks:
        Fh = F.conj().transpose(0, 2, 1)
        left, right = (Fh, F) if adjoint else (F, Fh)
        acc += left.transpose(1, 0, 2).reshape(d, -1) @ np.matmul(Y, right).reshape(-1, d)
    return acc
