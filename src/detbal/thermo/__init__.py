"""Thermodynamics of open systems: heat currents, entropy production and Spohn's inequality (:mod:`.currents`),
the second-law check (:mod:`.clausius`), full counting statistics and fluctuation theorems (:mod:`.fcs`)."""

# heat machines: the second-law (Clausius/Spohn) check
from .clausius import SecondLaw, second_law
from .currents import (
    EntropyProduction,
    RelativeEntropyDecay,
    bath_channels,
    entropy_production,
    heat_currents,
    relative_entropy_decay,
)
from .fcs import (
    CountingStatistics,
    GallavottiCohen,
    counting_statistics,
    gallavotti_cohen,
    joint_covariance,
    scgf,
    tur_ratio,
)

__all__ = [
    "CountingStatistics",
    "EntropyProduction",
    "GallavottiCohen",
    "RelativeEntropyDecay",
    "bath_channels",
    "counting_statistics",
    "entropy_production",
    "gallavotti_cohen",
    "heat_currents",
    "joint_covariance",
    "relative_entropy_decay",
    "scgf",
    "tur_ratio",
    "EntropyProduction",
    "RelativeEntropyDecay",
    "SecondLaw",
    "bath_channels",
    "entropy_production",
    "heat_currents",
    "relative_entropy_decay",
    "second_law",
]
