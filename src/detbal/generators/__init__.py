"""Generators of quantum dynamical semigroups (GKSL, Davies, Redfield, Gibbs samplers)."""
from .base import DenseGenerator, Generator, SumGenerator, as_generator
from .lindblad import Lindbladian

__all__ = ["Generator", "DenseGenerator", "SumGenerator", "as_generator", "Lindbladian"]
