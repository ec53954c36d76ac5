# %% [markdown]
# # Tutorial (a) — apply: Davies generators and relaxation to the Gibbs state
#
# A system weakly coupled to one thermal bath (Born–Markov and secular approximations) evolves
# under the Davies generator. Its jumps A(ω) lower the energy by ω and its rates obey KMS,
# γ(−ω) = e^{−βω} γ(ω), so it is detailed-balanced with respect to σ_β = e^{−βH}/Z: every initial
# state relaxes to σ_β, and the relative entropy S(ρ_t‖σ_β) decreases monotonically (Spohn).
#
# Run it as a script: `python examples/a_apply_relaxation.py` (a few seconds).

# %%
import matplotlib.pyplot as plt
import numpy as np

import detbal as db

# %% [markdown]
# ## 1. A qubit coupled to an ohmic bath through σ_x
#
# H = diag(0, ω). The Davies generator is detailed-balanced with respect to the Gibbs state in
# both the KMS and the GNS inner product.

# %%
omega, beta = 1.0, 1.0
H = np.diag([0.0, omega])
X = np.array([[0, 1], [1, 0]])
bath = db.Bath.ohmic(alpha=0.05, cutoff=10.0, beta=beta, name="bath")
D = db.davies(H, couplings=[(X, bath)])

print(db.detailed_balance(D, beta=beta))
assert db.detailed_balance(D, beta=beta).holds
assert db.detailed_balance(D, beta=beta, inner="gns").holds

# %% [markdown]
# Start in the excited state and evolve. The analytic solution: the excited population relaxes at
# Γ = γ(ω) + γ(−ω) to p_∞ = γ(−ω)/Γ = 1/(1 + e^{βω}), and S(ρ_t‖σ) never increases.

# %%
rho0 = np.diag([0.0, 1.0]).astype(complex)
times = np.linspace(0.0, 40.0, 81)
ev = db.evolve(D, rho0, times)
sigma = db.gibbs_state(H, beta)

gamma_down, gamma_up = float(bath.rate(omega)), float(bath.rate(-omega))
Gamma = gamma_down + gamma_up
p_inf = gamma_up / Gamma
print(f"qubit: γ(ω) = {gamma_down:.4f}, γ(−ω) = {gamma_up:.4f}, p_∞ = {p_inf:.6f} "
      f"(Gibbs {1 / (1 + np.exp(beta * omega)):.6f})")
print(f"{'t':>6} {'p_excited':>10} {'analytic':>10} {'S(ρ_t‖σ)':>10}")
populations, exact_curve, entropies = [], [], []
worst = 0.0
previous = np.inf
for t, rho in zip(times, ev.states):
    p = rho[1, 1].real
    exact = p_inf + (1 - p_inf) * np.exp(-Gamma * t)
    worst = max(worst, abs(p - exact))
    s = db.relative_entropy(rho, sigma)
    assert s <= previous + 1e-12, "Spohn: S(ρ_t‖σ) never increases"
    previous = s
    populations.append(p)
    exact_curve.append(exact)
    entropies.append(s)
    if t % 10 == 0:
        print(f"{t:6.1f} {p:10.6f} {exact:10.6f} {s:10.3e}")
print(f"largest deviation from the analytic curve: {worst:.1e}")
assert worst < 1e-8

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
ax1.plot(times, populations, "o", ms=3, label="detbal evolve")
ax1.plot(times, exact_curve, "-", label=r"$p_\infty + (1 - p_\infty)e^{-\Gamma t}$")
ax1.axhline(p_inf, color="gray", ls=":", label="Gibbs")
ax1.set(xlabel="t", ylabel="excited population", title="qubit relaxation")
ax1.legend()
ax2.semilogy(times[1:], entropies[1:])
ax2.set(xlabel="t", ylabel=r"$S(\rho_t\,\|\,\sigma_\beta)$", title="Spohn: monotone decay")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. A truncated harmonic oscillator: degenerate Bohr sectors
#
# H = ω a†a on 8 levels, coupling S = a + a†, from the model zoo. All Bohr frequencies are
# multiples of ω, so the Davies generator is block diagonal in sectors ν = kω with dense blocks.
# The mean occupation relaxes to its Gibbs value, and the steady state is the Gibbs state.

# %%
m = db.models.oscillator(omega=1.0, levels=8, temperature=0.8, alpha=0.05)
L, H = m.generator, m.hamiltonian
beta = m.baths[0].beta
n_op = np.diag(np.arange(8.0))
rho0 = np.zeros((8, 8), complex)
rho0[3, 3] = 1.0                                     # Fock state |3⟩
times = np.linspace(0.0, 60.0, 61)
ev = db.evolve(L, rho0, times, e_ops=[n_op])
n_gibbs = np.trace(n_op @ db.gibbs_state(H, beta)).real
print(f"oscillator ({m.info.description})")
print(f"{'t':>6} {'<n>(t)':>10}   → Gibbs <n> = {n_gibbs:.6f}")
for t, n in list(zip(times, np.real(ev.expect[0])))[::10]:
    print(f"{t:6.1f} {n:10.6f}")
ss = db.steady_state(L)
print(f"steady state = Gibbs: ‖ρ_ss − σ_β‖ = {np.linalg.norm(ss.state - db.gibbs_state(H, beta)):.1e}, "
      f"spectral gap {db.spectral_gap(L).gap:.4f}")
assert np.allclose(ss.state, db.gibbs_state(H, beta), atol=1e-8)

# %%
fig, ax = plt.subplots(figsize=(5, 3.4))
ax.plot(times, np.real(ev.expect[0]), label=r"$\langle n\rangle(t)$ from $|3\rangle$")
ax.axhline(n_gibbs, color="gray", ls=":", label=r"Gibbs $\langle n\rangle$")
ax.set(xlabel="t", ylabel=r"$\langle a^\dagger a\rangle$", title="oscillator relaxation")
ax.legend()
fig.tight_layout()
plt.show()
