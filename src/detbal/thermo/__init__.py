"""Thermodynamics of open systems: heat currents, entropy production and Spohn's inequality (:mod:`.currents`),
the second-law check (:mod:`.clausius`)."""

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

__all__ = [
    "EntropyProduction",
    "RelativeEntropyDecay",
    "SecondLaw",
    "bath_channels",
    "entropy_production",
    "heat_currents",
    "relative_entropy_decay",
    "second_law",
]
