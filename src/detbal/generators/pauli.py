"""Pauli (classical) rate matrix of a quantum generator in an orthonormal basis.

    W_mn = ⟨m|𝓛(|n⟩⟨n|)|m⟩   (m ≠ n),   W_nn = −Σ_{m≠n} W_mn,   dp/dt = W p,

the rate at which population flows from |n⟩ to |m⟩ once coherences in that basis are dephased.
Lives with the generators (it reads their structure); the result is a
:class:`~detbal.classical.RateMatrix`, so classical never imports generators.
"""

from __future__ import annotations

import numpy as np

from .._checks import _to_array
from ..classical.rate_matrix import RateMatrix
from ..eigenbasis import eigenbasis
from ..errors import InputError
from .base import Generator, as_generator
from .davies.generator import DaviesGenerator
from .lindblad import lindblad_terms

__all__ = ["pauli_rate_matrix"]


def pauli_rate_matrix(L: Generator | np.ndarray, basis: np.ndarray | None = None) -> RateMatrix:
    """Pauli (classical) rate matrix of a generator in an orthonormal basis {|n⟩}.

    W_mn = ⟨m|𝓛(|n⟩⟨n|)|m⟩ for m ≠ n: the rate at which population flows from |n⟩ to |m⟩ when
    coherences in this basis are dephased away (exact for a Davies generator in its eigenbasis
    with a non-degenerate spectrum; the population block of any generator otherwise).

    Args:
        L: a Generator (or d²×d² matrix).
        basis: (d, d) unitary whose columns are the basis vectors; default the eigenbasis of
            ``L.hamiltonian`` (energies ascending).

    Returns:
        RateMatrix (d×d real matrix, columns summing to zero: trace preservation of 𝓛).

    Raises:
        InputError: no ``basis`` and no Hamiltonian, a non-unitary ``basis``, or negative
            population transfer rates (the generator is not classical in that basis).

    Davies generators (default basis: their own eigenbasis) return their structured Pauli matrix,
    or the population block of the ν = 0 sector when degenerate levels couple populations and
    coherences; Lindbladians use
    W_mn = Σ_k γ_k |⟨m|A_k|n⟩|² (m ≠ n) from the rotated jumps (O(K d³)); other generators one
    application of 𝓛 per basis state.
    """
    gen = as_generator(L)
    d = gen.dim
    if basis is None and isinstance(gen, DaviesGenerator):
        try:
            return gen.pauli_rate_matrix
        except InputError:  # degenerate levels couple populations and coherences: their block
            W = np.array(gen.bohr_blocks.population[:d, :d].real)
            np.fill_diagonal(W, 0.0)
            np.fill_diagonal(W, -W.sum(axis=0))
            return RateMatrix.from_rates(W)
    if basis is None:
        if gen.hamiltonian is None:
            raise InputError("`basis` is needed: the generator has no Hamiltonian to take the eigenbasis of")
        U = eigenbasis(gen.hamiltonian).vectors
    else:
        U = np.array(_to_array(basis, "basis"), dtype=complex)
        if U.shape != (d, d) or not np.allclose(U.conj().T @ U, np.eye(d), atol=1e-10):
            raise InputError(f"`basis` must be a {d}×{d} unitary matrix (columns = basis vectors)")
    terms = lindblad_terms(gen)
    if terms is not None:
        W = np.zeros((d, d))
        for t in terms:
            for g, A in zip(t.rates, t.jumps):
                if g:
                    At = U.conj().T @ (A @ U)
                    W += g * (At.real ** 2 + At.imag ** 2)
        np.fill_diagonal(W, 0.0)
        np.fill_diagonal(W, -W.sum(axis=0))
    else:
        W = np.empty((d, d))
        for n in range(d):
            out = U.conj().T @ gen.apply(np.outer(U[:, n], U[:, n].conj())) @ U
            W[:, n] = np.diag(out).real
    off = ~np.eye(d, dtype=bool)
    W[off] = np.where(np.abs(W[off]) < 1e-14 * max(np.abs(W).max(), 1e-300), 0.0, W[off])
    if np.any(W[off] < 0):
        raise InputError("the generator has negative population transfer rates in this `basis` "
                         f"(min {W[off].min():.3e}): it is not a classical rate matrix there")
    return RateMatrix.from_rates(W)
