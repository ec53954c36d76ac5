"""Exception hierarchy of detbal.

Every error raised by detbal derives from :class:`DetbalError`. Errors are raised at the
boundary and name the argument, the expected form and what was received.
"""

from __future__ import annotations

__all__ = [
    "DetbalError",
    "InputError",
    "NotFaithfulError",
    "MemoryBudgetError",
    "ConvergenceError",
    "NonUniqueSteadyStateError",
]


class DetbalError(Exception):
    """Base class of all detbal errors."""


class InputError(DetbalError, ValueError):
    """An argument has the wrong shape, type or value (the message names the argument)."""


class NotFaithfulError(DetbalError, ValueError):
    """The reference state is not full rank where the inner product needs it (σ⁻¹ appears)."""


class MemoryBudgetError(DetbalError, MemoryError):
    """An algorithm would allocate more than ``detbal.config.memory_budget`` bytes.

    Attributes:
        required: bytes the allocation would need.
        budget: the budget in force.
        what: the object that would be allocated (e.g. "dense 8192×8192 operator `hamiltonian`"), or "".
    """

    def __init__(self, message: str, required: int = 0, budget: int = 0, what: str = ""):
        super().__init__(message)
        self.required = int(required)
        self.budget = int(budget)
        self.what = str(what)


class ConvergenceError(DetbalError, RuntimeError):
    """An iterative solver did not converge.

    Attributes:
        residual: the last residual reached.
    """

    def __init__(self, message: str, residual: float = float("nan")):
        super().__init__(message)
        self.residual = float(residual)


class NonUniqueSteadyStateError(DetbalError):
    """The generator has more than one stationary state.

    Attributes:
        kernel_dim: dimension of the kernel of the generator.
        basis: tuple of (d, d) density matrices spanning the stationary states.
    """

    def __init__(self, message: str, kernel_dim: int, basis=()):
        super().__init__(message)
        self.kernel_dim = int(kernel_dim)
        self.basis = tuple(basis)
