"""Classical Markov jump processes: rate matrices (:mod:`.rate_matrix`), Kolmogorov cycles (:mod:`.cycles`).

The Pauli rate matrix of a quantum generator is built in :mod:`detbal.generators.pauli`
(classical never imports generators).
"""

from .cycles import KolmogorovResult
from .rate_matrix import RateMatrix, closed_classes

__all__ = ["KolmogorovResult", "RateMatrix", "closed_classes"]
