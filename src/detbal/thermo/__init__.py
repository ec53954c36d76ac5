"""Thermodynamics of open systems: heat currents, entropy production and Spohn's inequality (:mod:`.currents`);
full counting statistics and fluctuation theorems (:mod:`.fcs`)."""

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
]
