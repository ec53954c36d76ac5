"""detbal — quantum detailed balance for open quantum systems.

ħ = k_B = 1, column-stacking vectorisation (QuTiP's), Schrödinger-picture generators; see
THEORY.md for every formula and convention.
"""

from . import config, models
from .analysis import Analysis, analyze
from .balance import detailed_balance
from .baths import Bath
from .classical import KolmogorovResult, RateMatrix, pauli_rate_matrix
from .dynamics import Evolution, SpectralGap, Spectrum, SteadyState, evolve, spectral_gap, spectrum, steady_state
from .eigenbasis import Eigenbasis, eigenbasis
from .io import load_model, save_model
from .errors import (
    ConvergenceError,
    DetbalError,
    InputError,
    MemoryBudgetError,
    NonUniqueSteadyStateError,
    NotFaithfulError,
)
from .generators import (
    DaviesGenerator,
    DenseGenerator,
    Generator,
    Lindbladian,
    RedfieldGenerator,
    SumGenerator,
    as_generator,
    complete_positivity,
    davies,
    redfield,
)
from .reports import BalanceReport, ChannelBalance
from .reversal import TimeReversal, gns_dual, kms_dual
from .thermo import EntropyProduction, RelativeEntropyDecay, entropy_production, heat_currents, relative_entropy_decay
from .states import Thermodynamics, gibbs_state, relative_entropy, thermodynamics, von_neumann_entropy

__version__ = "0.1.0"
__all__ = [
    "config",
    "models",
    "Analysis",
    "analyze",
    "load_model",
    "save_model",
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
    "davies",
    "DaviesGenerator",
    "redfield",
    "RedfieldGenerator",
    "complete_positivity",
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
    "steady_state",
    "SteadyState",
    "spectrum",
    "Spectrum",
    "spectral_gap",
    "SpectralGap",
    "evolve",
    "Evolution",
    "heat_currents",
    "entropy_production",
    "EntropyProduction",
    "relative_entropy_decay",
    "RelativeEntropyDecay",
]
