# %% [markdown]
# # Tutorial (d) — time reversal: a qubit in a magnetic field
#
# A spin ½ in a field B has H(B) = (B/2)·(n·σ). Spin time reversal Θ = iσ_y K flips every Pauli
# matrix, 𝚯(σ) = −σ, so 𝚯(H(B)) = H(−B): a magnetic field is odd under time reversal. Detailed
# balance with time reversal (Agarwal) asks 𝓛̃_s = 𝚯∘𝓛∘𝚯⁻¹ with respect to a Θ-invariant σ;
# a field breaks that (𝚯 maps σ_β(B) to σ_β(−B)). The correct microreversibility statement
# relates the model to its mirror image in the reversed field:
#
#     𝓛̃_s(B) = 𝚯 ∘ 𝓛(−B) ∘ 𝚯⁻¹.
#
# The dissipative part alone (Davies, one bath, coupling σ_x) satisfies it in every case.
#
# Run it as a script: `python examples/d_time_reversal.py` (a second).

# %%
import matplotlib.pyplot as plt
import numpy as np

import detbal as db

X = np.array([[0, 1], [1, 0]], complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)
beta = 1.0
bath = db.Bath.ohmic(alpha=0.05, cutoff=10.0, beta=beta)


def qubit(field):
    """Davies generator of H = (B/2)·(n·σ) with a bath coupled through σ_x."""
    bx, by, bz = field
    H = 0.5 * (bx * X + by * Y + bz * Z)
    return db.davies(H, couplings=[(X, bath)])


spin_flip = db.TimeReversal(1j * Y)          # Θ = iσ_y K, Θ² = −1 (Kramers)
print(f"Θ = iσ_y K squares to {spin_flip.square}")
B = (0.3, 0.0, 1.0)
L = qubit(B)

# %% [markdown]
# ## 1. Plain detailed balance (no reversal) holds
#
# The field term commutes with σ_β: Alicki's K is H.

# %%
rep = db.detailed_balance(L, beta=beta)
print(f"plain KMS-DB:            holds = {rep.holds}  (residual {rep.residual:.1e})")
assert rep.holds

# %% [markdown]
# ## 2. The field is odd under Θ
#
# 𝚯(H(B)) = H(−B), so the Gibbs state itself is not Θ-invariant, Θσ_β(B)Θ⁻¹ = σ_β(−B) ≠ σ_β(B),
# and "detailed balance with time reversal" with respect to σ_β(B) cannot even be posed: detbal
# refuses it.

# %%
H = L.hamiltonian
H_minus = qubit(tuple(-b for b in B)).hamiltonian
print(f"‖𝚯(H(B)) − H(−B)‖ = {np.linalg.norm(spin_flip.apply(H) - H_minus):.1e},  "
      f"‖𝚯(H(B)) − H(B)‖ = {np.linalg.norm(spin_flip.apply(H) - H):.2f}")
try:
    db.detailed_balance(L, beta=beta, reversal=spin_flip)
    raise AssertionError("expected detbal to refuse a reference state that Θ does not leave invariant")
except db.InputError as exc:
    print(f"DB with Θ = iσ_y K:      refused — {exc}")

# %% [markdown]
# ## 3. Microreversibility with the field reversed: 𝓛̃_KMS(B) = 𝚯 𝓛(−B) 𝚯⁻¹

# %%
sigma = db.gibbs_state(L.hamiltonian, beta)
lhs = db.kms_dual(L, sigma).to_dense()
rhs = spin_flip.conjugate(qubit(tuple(-b for b in B))).to_dense()
err = np.linalg.norm(lhs - rhs) / np.linalg.norm(lhs)
print(f"‖𝓛̃(B) − 𝚯𝓛(−B)𝚯⁻¹‖/‖𝓛̃‖ = {err:.1e}   (reversing the field restores microreversibility)")
assert err < 1e-8
err_same = np.linalg.norm(lhs - spin_flip.conjugate(L).to_dense()) / np.linalg.norm(lhs)
print(f"‖𝓛̃(B) − 𝚯𝓛(+B)𝚯⁻¹‖/‖𝓛̃‖ = {err_same:.2f}   (without reversing it: violated)")
assert err_same > 0.1

# %% [markdown]
# Over a range of field strengths along the same direction: the reversed-field statement holds to
# round-off everywhere, the same-field one fails as soon as B ≠ 0.

# %%
strengths = np.linspace(0.0, 2.0, 21)
mirror, same = [], []
for s in strengths:
    field = tuple(s * c for c in B)
    Ls = qubit(field)
    dual = db.kms_dual(Ls, db.gibbs_state(Ls.hamiltonian, beta)).to_dense()
    norm = np.linalg.norm(dual)
    mirror.append(np.linalg.norm(dual - spin_flip.conjugate(qubit(tuple(-c for c in field))).to_dense()) / norm)
    same.append(np.linalg.norm(dual - spin_flip.conjugate(Ls).to_dense()) / norm)
assert max(mirror) < 1e-8
fig, ax = plt.subplots(figsize=(5.5, 3.4))
ax.semilogy(strengths, np.maximum(mirror, 1e-17), "o-", label=r"$\Theta\,\mathcal{L}(-B)\,\Theta^{-1}$")
ax.semilogy(strengths, np.maximum(same, 1e-17), "s-", label=r"$\Theta\,\mathcal{L}(+B)\,\Theta^{-1}$")
ax.set(xlabel="|B|", ylabel=r"relative distance to $\tilde{\mathcal{L}}_{KMS}(B)$",
       title="microreversibility needs B → −B")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Spinless time reversal Θ = K (U = I) conjugates matrix elements
#
# A field in the x–z plane gives a real H, a Θ-invariant Gibbs state and detailed balance with
# reversal; a field with a y component (an imaginary H) does not.

# %%
rep = db.detailed_balance(qubit((0.3, 0.0, 1.0)), beta=beta, reversal=db.TimeReversal(np.eye(2)))
print(f"Θ = K, B in the x–z plane: holds = {rep.holds}  (residual {rep.residual:.1e})")
assert rep.holds
try:
    db.detailed_balance(qubit((0.0, 0.3, 1.0)), beta=beta, reversal=db.TimeReversal(np.eye(2)))
except db.InputError as exc:
    print(f"Θ = K, B with a y component: refused — {exc}")
