"""detbal — quantum detailed balance for open quantum systems.

ħ = k_B = 1, column-stacking vectorisation (QuTiP's), Schrödinger-picture generators. The
documentation (``mkdocs serve`` in the repository) states every formula and convention.
"""

from . import config
from . import models
from .app.analysis import Analysis, analyze
from .balance.api import detailed_balance
from .baths.bath import Bath
from .classical.rate_matrix import KolmogorovResult, RateMatrix
from .generators.pauli import pauli_rate_matrix
from .dynamics import Evolution, SpectralGap, Spectrum, SteadyState, evolve, spectral_gap, spectrum, steady_state
from .eigenbasis import Eigenbasis, eigenbasis
from .io.model_file import load_model, save_model
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
from .balance.reversal import TimeReversal, gns_dual, kms_dual
from .thermo.currents import EntropyProduction, RelativeEntropyDecay, entropy_production, heat_currents, relative_entropy_decay
# full counting statistics, fluctuation theorems and linear transport (issue 13)
from .thermo.fcs import (CountingStatistics, GallavottiCohen, counting_statistics, gallavotti_cohen,
                         joint_covariance, scgf, tur_ratio)
from .thermo.transport import OnsagerMatrix, green_kubo, onsager_matrix
from .states import Thermodynamics, gibbs_state, relative_entropy, thermodynamics, von_neumann_entropy
# exact quantum Gibbs samplers (CKG, DLL)
from .generators.samplers import GibbsSampler, gibbs_sampler
# parameter sweeps (Dask and xarray are imported only when a sweep runs: extra `sweep`)
from .app.observables import Observable, register as register_observable
from .app.sweep import sweep
from .app.sweep_spec import SweepSpec, sweep_spec
# heat machines: the second-law check and machine performance (maser, LPS refrigerator, Otto)
from .thermo.clausius import SecondLaw, second_law
from .models.machines import MachinePerformance, carnot_bound, machine_performance
from .models.otto import otto_cycle, otto_quasi_static

# conserved quantities (block eigenbasis, issue 17)
from .eigenbasis import SectorBlocks

# several inner products in one detailed-balance call, sharing the dense eigenframes (issue 12, round-off)
from .balance.api import detailed_balance_inners

# module paths of detbal 0.1 that moved into subpackages keep working
import sys as _sys

from .app import analysis as _analysis_module
from .balance import reversal as _reversal_module
from .app import plots as _plots_module
from .models import expressions as _expressions_module

for _old, _module in (("analysis", _analysis_module), ("reversal", _reversal_module),
                      ("expressions", _expressions_module), ("plots", _plots_module)):
    _sys.modules[f"{__name__}.{_old}"] = _module
    globals()[_old] = _module
del _old, _module

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
    # full counting statistics, fluctuation theorems and linear transport (issue 13)
    "CountingStatistics",
    "GallavottiCohen",
    "counting_statistics",
    "gallavotti_cohen",
    "joint_covariance",
    "scgf",
    "tur_ratio",
    "OnsagerMatrix",
    "onsager_matrix",
    "green_kubo",
    # exact quantum Gibbs samplers (CKG, DLL)
    "GibbsSampler",
    "gibbs_sampler",
    # parameter sweeps
    "sweep",
    "sweep_spec",
    "SweepSpec",
    "Observable",
    "register_observable",
    # heat machines: the second-law check and machine performance (maser, LPS refrigerator, Otto)
    "SecondLaw",
    "second_law",
    "MachinePerformance",
    "machine_performance",
    "carnot_bound",
    "otto_cycle",
    "otto_quasi_static",
    # conserved quantities (block eigenbasis, issue 17)
    "SectorBlocks",
    # several inner products in one detailed-balance call, sharing the dense eigenframes (issue 12, round-off)
    "detailed_balance_inners",
]
