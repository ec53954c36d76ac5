"""Generators of quantum dynamical semigroups (GKSL, Davies, Redfield)."""
from .base import DenseGenerator, Generator, SumGenerator, as_generator
from .davies.generator import DaviesGenerator, davies
from .lindblad import Lindbladian
from .pauli import pauli_rate_matrix
from .redfield import RedfieldGenerator, complete_positivity, redfield
# exact Gibbs samplers (CKG, DLL)
from .samplers import GibbsSampler, gibbs_sampler

__all__ = ["Generator", "DenseGenerator", "SumGenerator", "as_generator", "Lindbladian",
           "DaviesGenerator", "davies", "RedfieldGenerator", "redfield", "complete_positivity", "pauli_rate_matrix",
           "GibbsSampler", "gibbs_sampler"]
