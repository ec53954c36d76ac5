"""Thermal baths: spectral densities and KMS rates (:mod:`.bath`), principal values (:mod:`.quadrature`)."""

from .bath import Bath, principal_value_shift

__all__ = ["Bath", "principal_value_shift"]
