"""detbal — quantum detailed balance for open quantum systems.

ħ = k_B = 1, column-stacking vectorisation (QuTiP's), Schrödinger-picture generators; see
THEORY.md for every formula and convention.
"""

from . import config
from .balance import detailed_balance
from .baths import Bath
from .classical import KolmogorovResult, RateMatrix, pauli_rate_matrix
from .eigenbasis import Eigenbasis, eigenbasis
from .errors import (
    ConvergenceError,
    DetbalError,
    InputError,
    MemoryBudgetError,
    NonUniqueSteadyStateError,
    NotFaithfulError,
)
from .generators import DenseGenerator, Generator, Lindbladian, SumGenerator, as_generator
from .reports import BalanceReport, ChannelBalance
from .reversal import TimeReversal, gns_dual, kms_dual
from .states import Thermodynamics, gibbs_state, relative_entropy, thermodynamics, von_neumann_entropy

__version__ = "0.1.0"
__all__ = [
    "config",
    "DetbalError",
    "InputError",
    "NotFaithfulError",
    "MemoryBudgetError",
    "ConvergenceError",
    "NonUniqueSteadyStateError",
    "Eigenbasis",
    "eigenbasis",
    "gibbs_state",
    "thermodynamics",
    "Thermodynamics",
    "von_neumann_entropy",
    "relative_entropy",
    "Generator",
    "DenseGenerator",
    "SumGenerator",
    "Lindbladian",
    "as_generator",
    "detailed_balance",
    "Bath",
    "TimeReversal",
    "kms_dual",
    "gns_dual",
    "RateMatrix",
    "KolmogorovResult",
    "pauli_rate_matrix",
    "BalanceReport",
    "ChannelBalance",
]
