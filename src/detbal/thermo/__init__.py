"""Thermodynamics of open systems: heat currents, entropy production and Spohn's inequality (:mod:`.currents`)."""

from .currents import (
    EntropyProduction,
    RelativeEntropyDecay,
    bath_channels,
    entropy_production,
    heat_currents,
    relative_entropy_decay,
)

__all__ = ["EntropyProduction", "RelativeEntropyDecay", "bath_channels", "entropy_production", "heat_currents",
           "relative_entropy_decay"]
