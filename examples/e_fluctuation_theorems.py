# %% [markdown]
# # Tutorial (e) — fluctuation theorems follow from detailed balance, and break when it breaks
#
# Count the energy N_t that flows from the hot bath into a small system between two baths. Its
# statistics are encoded in the scaled cumulant generating function θ(s), E[e^{sN_t}] ~ e^{θ(s)t}:
# the top eigenvalue of the tilted generator 𝓛_s, in which every jump carrying energy ν is weighted
# by e^{sν}. When each bath obeys detailed balance at its own temperature, the probabilities of a
# trajectory and of its time reverse differ by e^{entropy flow}, which gives the Gallavotti–Cohen
# symmetry
#
#     θ(s) = θ(−s − A),   A = β_cold − β_hot,
#
# and, expanding around equilibrium, the fluctuation–dissipation relation (noise/2 = response) and
# the thermodynamic uncertainty relation c₂Π/c₁² ≥ 2. A bath that does not obey detailed balance at
# any single temperature has no such A, and the symmetry is gone.
#
# Run it as a script: `python examples/e_fluctuation_theorems.py` (a few seconds).

# %%
import matplotlib.pyplot as plt
import numpy as np

import detbal as db

E = np.array([0.0, 1.0, 2.5])                          # three levels: transitions 1.0, 1.5 and 2.5
H = np.diag(E)
S = np.array([[0, 1, 0.6], [1, 0, 1], [0.6, 1, 0]])   # couples every pair of levels


def model(beta_hot=0.4, beta_cold=1.5):
    """Davies generator: the same three levels between a hot and a cold ohmic bath."""
    hot = db.Bath.ohmic(alpha=0.05, cutoff=5.0, beta=beta_hot, name="hot")
    cold = db.Bath.ohmic(alpha=0.05, cutoff=5.0, beta=beta_cold, name="cold")
    return db.davies(H, [(S, hot), (S, cold)])


# %% [markdown]
# ## 1. Cumulants of the energy taken from the hot bath
#
# `counting_statistics` runs the recursive Drazin scheme (bordered linear solves, no inverse). The
# counted quantity flows *from* the bath *into* the system, so the mean is the heat current J_hot.

# %%
L = model()
cs = db.counting_statistics(L, {"hot": "energy"}, order=3)
J = db.heat_currents(L, db.steady_state(L).state)["hot"]
print(f"⟨N⟩/t = {cs.mean:.6f} (the heat current J_hot = {J:.6f}), noise c₂ = {cs.noise:.6f}, "
      f"skewness c₃ = {cs.skewness:.6f}, Fano c₂/c₁ = {cs.fano:.4f}")
assert abs(cs.mean - J) < 1e-12 and cs.mean > 0

# %% [markdown]
# ## 2. Gallavotti–Cohen: the affinity is read off the two bath temperatures

# %%
gc = db.gallavotti_cohen(L, {"hot": "energy"})
print(f"Gallavotti–Cohen: A = {gc.affinity:.3f}, max_s |θ(s) − θ(−s − A)| = {gc.residual:.1e}, "
      f"θ(−A) = {gc.theta_at_minus_affinity:.1e}")
assert gc.residual < 1e-12 and abs(gc.theta_at_minus_affinity) < 1e-12

# %% [markdown]
# ## 3. TUR and fluctuation–dissipation
#
# The noise-to-signal ratio times the entropy production is at least 2 (classical jumps) and tends to
# 2 when the temperatures approach each other. At equal temperatures the equilibrium noise fixes the
# response: ∂⟨J⟩/∂A = c₂/2 with A = β_cold − β_hot (the family below biases the hot bath).

# %%
for eps in (0.5, 0.1, 0.02):
    ratio = db.tur_ratio(model(1 - eps, 1 + eps), {"hot": "energy"})
    print(f"  β_hot, β_cold = 1 ∓ {eps:<4}: TUR ratio c₂Π/c₁² = {ratio:.5f}")
assert 2 <= db.tur_ratio(model(0.98, 1.02), {"hot": "energy"}) < 2.001

om = db.onsager_matrix(lambda A: model(beta_hot=1.0 - A[0], beta_cold=1.0), {"hot": "energy"})
print(f"FDT: response ∂J/∂A = {om.response[0, 0]:.10f}, equilibrium noise/2 = {om.noise[0, 0]:.10f} "
      f"(relative difference {om.fdt_residual:.1e}, central differences with step {om.step:g})")
assert om.fdt_residual < 1e-9

# %% [markdown]
# ## 4. Break detailed balance of the hot bath
#
# Its rates on the three transitions now correspond to three different temperatures (a non-thermal,
# e.g. filtered or driven, reservoir). Same levels, same cold bath; the hot bath is a Lindbladian
# with jumps |i⟩⟨j| between eigenstates. It still heats the system, but no affinity A restores the
# symmetry.

# %%
cold = model().channels[1]
T_eff = {(0, 1): 2.5, (1, 2): 0.6, (0, 2): 4.0}       # a different "temperature" on every transition
jumps, rates = [], []
for (i, j), T in T_eff.items():
    down = np.zeros((3, 3))
    down[i, j] = 1.0                                    # j → i lowers the energy by E_j − E_i
    jumps += [down, down.T]
    rates += [0.3, 0.3 * np.exp(-(E[j] - E[i]) / T)]
hot = db.Lindbladian(0 * H, jumps, rates, name="hot", beta=1 / 2.5)
broken = hot + cold
rep = db.detailed_balance(hot, beta=1 / 2.5)
print(f"non-thermal hot bath: detailed balance at T = 2.5 holds = {rep.holds} (residual {rep.residual:.2f})")
grid = np.linspace(-1.5, 1.5, 13)
residuals = [db.gallavotti_cohen(broken, {"hot": "energy"}, affinity=A, s=grid).residual
             for A in np.linspace(-1.0, 2.0, 61)]
mean = db.counting_statistics(broken, {"hot": "energy"}).mean
print(f"⟨N⟩/t = {mean:.4f}, but min_A max_s |θ(s) − θ(−s − A)| = {min(residuals):.1e}")
assert not rep.holds and min(residuals) > 1e-3

# %% [markdown]
# θ(s) and its mirror for both: the thermal pair overlap, the non-thermal one does not (mirror
# drawn with the temperature label of the hot bath, A = β_cold − 1/2.5).

# %%
s = np.linspace(-2.5, 1.5, 81)
A_broken = 1.5 - 1 / 2.5
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
for ax, gen, A, title in ((axes[0], L, gc.affinity, "thermal baths"),
                          (axes[1], broken, A_broken, "non-thermal hot bath")):
    ax.plot(s, db.scgf(gen, {"hot": "energy"}, s), lw=2, label="θ(s)")
    ax.plot(s, db.scgf(gen, {"hot": "energy"}, -s - A), "--", label="θ(−s − A)")
    ax.set(title=title, xlabel="s")
axes[0].set_ylabel("SCGF")
axes[0].legend()
plt.show()
