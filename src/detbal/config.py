"""Run-time configuration of detbal.

``detbal.config.memory_budget`` (bytes, default 2 GiB) bounds every dense allocation whose
size grows faster than d² (a d²×d² superoperator is the typical case). Set it to change the
budget for the whole process::

    import detbal
    detbal.config.memory_budget = 8 * 2**30
"""

from __future__ import annotations

from .errors import InputError, MemoryBudgetError

__all__ = ["memory_budget", "check_memory"]

memory_budget: int = 2 * 2**30


def _format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_memory(nbytes: float, what: str, alternative: str | None = None) -> None:
    """Raise :class:`MemoryBudgetError` if allocating ``nbytes`` for ``what`` exceeds the budget.

    Args:
        nbytes: bytes the allocation needs.
        what: description of the object, e.g. ``"dense d²×d² superoperator (d = 1024)"``.
        alternative: the matrix-free option that avoids the allocation, named in the message.
    """
    budget = memory_budget
    if not isinstance(budget, (int, float)) or budget <= 0:
        raise InputError(f"detbal.config.memory_budget must be a positive number of bytes, got {budget!r}")
    if nbytes > budget:
        msg = (
            f"{what} needs {_format_bytes(nbytes)}, more than detbal.config.memory_budget = "
            f"{_format_bytes(budget)}"
        )
        if alternative:
            msg += f"; use {alternative} instead"
        raise MemoryBudgetError(msg, required=int(nbytes), budget=int(budget))


def superoperator_bytes(d: int, itemsize: int = 16) -> int:
    """Bytes of a dense complex d²×d² matrix."""
    return int(d) ** 4 * itemsize
