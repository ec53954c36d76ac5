"""Quantum detailed balance: the KMS/GNS certificates (:mod:`.api`), the reference state, the one
σ-transform (:mod:`.sigma_transform`), the exact operator-sum and random-probe certificates,
channels and blame (:mod:`.channels`) and time reversal (:mod:`.reversal`)."""

from .api import detailed_balance
from .reference import ReferenceState, inner_parameter, reference_state
from .reversal import TimeReversal, gns_dual, kms_dual, sigma_dual

__all__ = ["ReferenceState", "TimeReversal", "detailed_balance", "gns_dual", "inner_parameter", "kms_dual",
           "reference_state", "sigma_dual"]
