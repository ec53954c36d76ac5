"""Dynamics of generators: spectra and gaps (:mod:`.spectrum`), time evolution (:mod:`.evolve`).

Steady states are solved in :mod:`detbal.linalg.steady` and re-exported here.
"""

from ..linalg.steady import SteadyState, steady_state
from .evolve import Evolution, evolve
from .spectrum import SpectralGap, Spectrum, spectral_gap, spectrum

__all__ = ["Evolution", "SpectralGap", "Spectrum", "SteadyState", "evolve", "spectral_gap", "spectrum",
           "steady_state"]
