# %% [markdown]
# # Tutorial (c) — violate: two baths, the merry-go-round current, entropy production, Clausius
#
# Three levels 0 < E₁ < E₂; the hot bath drives 0 ↔ 2, the cold bath 0 ↔ 1 ↔ 2. The populations
# follow a 3-state ring. Around 0 → 2 → 1 → 0 the rates multiply to e^{(β_c − β_h)E₂} times the
# reverse ones: the Kolmogorov criterion fails, no state is detailed-balanced, and the steady state
# carries a ring current J. Each turn moves E₂ from the hot to the cold bath: J_hot = E₂·J =
# −J_cold, and the entropy production Π = −β_h J_hot − β_c J_cold = (β_c − β_h) J_hot ≥ 0
# (Clausius) equals the Schnakenberg form J·A with the cycle affinity A = (β_c − β_h)E₂.
#
# Run it as a script: `python examples/c_violate_merry_go_round.py` (a few seconds).

# %%
import matplotlib.pyplot as plt
import numpy as np

import detbal as db

m = db.models.merry_go_round(omega1=1.0, omega2=1.5, T_hot=4.0, T_cold=1.0)
L, H = m.generator, m.hamiltonian
hot, cold = m.baths
E2 = 2.5

# %% [markdown]
# ## 1. Detailed balance with respect to Gibbs at T_cold: broken, and the report says by whom

# %%
rep = db.detailed_balance(L, beta=cold.beta)
print(rep)
assert not rep.holds
broken = [c.name for c in rep.channels if not c.holds]
print(f"channels that break DB w.r.t. Gibbs at T = {cold.temperature:g}: {broken}")
assert "hot" in broken and "cold" not in broken

# %% [markdown]
# ## 2. The ring current from the Pauli rate matrix
#
# The edge currents J_mn = W_mn p_n − W_nm p_m of the steady-state populations are equal around
# the ring and match the spanning-tree (matrix-tree) formula J = (a₁a₂a₃ − b₁b₂b₃)/N, with the
# clockwise rates a, the counter-clockwise rates b and N the sum of the nine spanning-tree terms.

# %%
ss = db.steady_state(L)
rho = ss.state
W = db.pauli_rate_matrix(L)
p = np.real(np.diag(rho))
J = W.edge_currents(p)                               # J_mn = W_mn p_n − W_nm p_m (n → m)
ring = J[2, 0]                                       # 0 → 2 (hot absorption) ...
print(f"steady-state populations {np.round(p, 6)}; ring current 0→2→1→0: "
      f"{J[2, 0]:.6e}, {J[1, 2]:.6e}, {J[0, 1]:.6e}")
assert np.allclose([J[1, 2], J[0, 1]], ring, rtol=1e-8)
Wm = W.matrix                                        # clockwise 0→2→1→0: a = W(0→2), W(2→1), W(1→0)
a1, a2, a3 = Wm[2, 0], Wm[1, 2], Wm[0, 1]
b1, b2, b3 = Wm[0, 2], Wm[2, 1], Wm[1, 0]            # the reverse rates
N = (a2 * a3 + b1 * b2 + b1 * a3) + (a3 * a1 + b2 * b3 + a1 * b2) + (a1 * a2 + b3 * b1 + a2 * b3)
print(f"spanning-tree formula J = (a1a2a3 − b1b2b3)/N = {(a1 * a2 * a3 - b1 * b2 * b3) / N:.6e}")
assert np.isclose(ring, (a1 * a2 * a3 - b1 * b2 * b3) / N, rtol=1e-8)
A = np.log(a1 * a2 * a3 / (b1 * b2 * b3))
print(f"cycle affinity A = {A:.6f} = (β_c − β_h)E_2 = {(cold.beta - hot.beta) * E2:.6f}")
assert np.isclose(A, (cold.beta - hot.beta) * E2)

# %% [markdown]
# ## 3. Heat currents, the first law, Clausius

# %%
Jb = db.heat_currents(L, rho)
ep = db.entropy_production(L, rho)
print(f"heat currents into the system: {Jb}")
print(f"first law Σ J_b = {sum(Jb.values()):.1e};  J_hot = E_2·J? {Jb['hot']:.6e} vs {E2 * ring:.6e}")
clausius = -hot.beta * Jb["hot"] - cold.beta * Jb["cold"]
print(f"entropy production Π = {ep.total:.6e} = −Σ β_b J_b = {clausius:.6e}"
      f" = J·A = {ring * A:.6e}")
print(f"Spohn terms (each ≥ 0): {ep.spohn_terms}")
assert Jb["hot"] > 0 > Jb["cold"], "heat flows from hot to cold (Clausius)"
assert abs(sum(Jb.values())) < 1e-10 * abs(Jb["hot"]) + 1e-15
assert np.isclose(Jb["hot"], E2 * ring, rtol=1e-6)
assert np.isclose(ep.total, ring * A, rtol=1e-6) and ep.total > 0

# %% [markdown]
# ## 4. Equal temperatures: the current vanishes and detailed balance returns
#
# Sweeping T_hot down to T_cold = 1, the heat current and the entropy production fall to zero
# together, and at equal temperatures the generator is detailed-balanced again.

# %%
T_values = np.linspace(1.0, 4.0, 13)
currents, productions = [], []
for T_hot in T_values:
    mm = db.models.merry_go_round(T_hot=T_hot, T_cold=1.0)
    r = db.steady_state(mm.generator).state
    currents.append(db.heat_currents(mm.generator, r)["hot"])
    productions.append(db.entropy_production(mm.generator, r).total)
    if T_hot in (1.0, 2.0, 4.0):
        holds = db.detailed_balance(mm.generator, beta=1.0).holds
        print(f"T_hot = {T_hot:3.1f}: J_hot = {currents[-1]:+.3e}, Π = {productions[-1]:.3e}, "
              f"DB w.r.t. Gibbs(T = 1): {holds}")
        assert holds == (T_hot == 1.0)
assert abs(currents[0]) < 1e-12 and abs(productions[0]) < 1e-12

fig, ax = plt.subplots(figsize=(5.5, 3.4))
ax.plot(T_values, currents, "o-", label=r"heat current $J_{hot}$")
ax.plot(T_values, productions, "s-", label=r"entropy production $\Pi$")
ax.set(xlabel=r"$T_{hot}$ (with $T_{cold} = 1$)", title="merry-go-round: currents vanish at equal T")
ax.legend()
fig.tight_layout()
plt.show()
