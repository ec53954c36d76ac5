"""Classical Markov jump processes: rate matrices (:mod:`.rate_matrix`), Kolmogorov cycles (:mod:`.cycles`)."""

from .cycles import KolmogorovResult
from .rate_matrix import RateMatrix, pauli_rate_matrix

__all__ = ["KolmogorovResult", "RateMatrix", "pauli_rate_matrix"]
