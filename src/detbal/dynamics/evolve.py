"""Time evolution ρ(t) = e^{t𝓛}ρ(0) of generators.

Exact propagation (error-controlled Krylov steps with dense output, scipy's action of the
exponential, or one eigendecomposition); never an ODE integrator. A Davies generator is stepped
sector by sector in its eigenbasis.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from .. import config
from .._checks import as_choice, as_operator, as_state, is_hermitian
from ..linalg.krylov import FactoredBlock
from ..linalg.propagate import choose_method, propagate
from .._serialize import JsonResult, html_table
from ..errors import InputError
from ..generators.base import Generator, as_generator


__all__ = ["Evolution", "evolve"]


# ==================================================================================================
# evolution
# ==================================================================================================
@dataclass(frozen=True)
class Evolution(JsonResult):
    """ρ(t) = e^{t𝓛}ρ(0) at the requested times.

    Attributes:
        times: (nt,) float ndarray (ρ0 is the state at t = 0; times ≥ 0, non-decreasing).
        states: (nt, d, d) complex ndarray, or None when ``e_ops`` were given.
        expect: (n_ops, nt) ndarray of Tr[O ρ(t)] (float when every O is Hermitian, else complex),
            or None.
        method: "structured", "eig", "krylov" or "expm-multiply" (note in ``details`` on fallbacks;
            "(matrix-free)" appended when the sparse matrix did not fit the memory budget).
        details: diagnostics (eigenvector condition number, grid type).
    """

    times: np.ndarray
    states: np.ndarray | None
    expect: np.ndarray | None
    method: str
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        what = (f"states {self.states.shape}" if self.states is not None else f"expect {self.expect.shape}")
        t = self.times
        return f"Evolution({t.size} times in [{t[0]:.4g}, {t[-1]:.4g}], {what}, method={self.method})"

    def _repr_html_(self) -> str:
        """Jupyter display: the facts of ``str()`` as a table."""
        t = self.times
        what = (("states", self.states.shape) if self.states is not None else ("expect", self.expect.shape))
        return html_table("evolution", [("times", f"{t.size} in [{t[0]:.4g}, {t[-1]:.4g}]"), what,
                                        ("method", self.method)])


def _as_times(times) -> np.ndarray:
    try:
        t = np.array(times, dtype=float, copy=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"`times` must be a 1-D array of real numbers, got {times!r}") from exc
    if t.ndim != 1 or t.size == 0:
        raise InputError(f"`times` must be a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise InputError("`times` must be finite (no NaN or inf)")
    if t[0] < 0:
        raise InputError(f"`times` must be ≥ 0 (rho0 is the state at t = 0), got {t[0]}")
    if np.any(np.diff(t) < 0):
        k = int(np.argmax(np.diff(t) < 0))
        raise InputError(f"`times` must be non-decreasing, times[{k + 1}] = {t[k + 1]} < times[{k}] = {t[k]}")
    return t


def _as_e_ops(e_ops, d: int):
    if e_ops is None:
        return None, True
    if (isinstance(e_ops, np.ndarray) and e_ops.ndim == 2) or hasattr(e_ops, "full") or hasattr(e_ops, "tocsr"):
        e_ops = [e_ops]
    ops = [as_operator(O, f"e_ops[{k}]", dim=d) for k, O in enumerate(e_ops)]  # sparse stays sparse
    if not ops:
        raise InputError("`e_ops` must contain at least one operator (or be None)")
    hermitian = all(is_hermitian(O) for O in ops)
    return ops, hermitian


EvolveMethod = Literal["auto", "eig", "krylov", "expm-multiply", "structured"]


def evolve(L: Generator | np.ndarray, rho0: np.ndarray, times: np.ndarray | list[float],
           e_ops: np.ndarray | list[np.ndarray] | None = None, *, method: EvolveMethod = "auto") -> Evolution:
    """Time evolution ρ(t) = e^{t𝓛}ρ0 of a constant generator.

    ``structured_evolve(rho0, times)`` is used when the generator has it (Davies), on chunks of
    64 times, and ``structured_expect(rho0, times, ops)`` → (n_ops, nt) when e_ops are given and
    the generator has it (no states in the original basis needed). Otherwise, on the sparse
    d²×d² matrix (or the matrix-free operator when that exceeds the memory budget):
    "eig" (one eigendecomposition, default for d ≤ 16 and ≥ 16 times; checked: cond(V) ≤ 1e5,
    else "expm-multiply"), "krylov" (Arnoldi steps with a-posteriori error control, all output
    times of a step read off one Krylov basis; default for ≥ 8 times) or "expm-multiply" (scipy's
    action of the exponential, interval mode on uniform grids; default for fewer times). No ODE
    integrator; accuracy ≈ 1e-11 against ``expm`` of the dense matrix.

    Args:
        L: Generator or d²×d² matrix.
        rho0: (d, d) density matrix at t = 0.
        times: 1-D non-decreasing times ≥ 0 (they need not include 0).
        e_ops: optional operator or sequence of operators O; then only Tr[O ρ(t)] is stored.
        method: "auto" | "eig" | "krylov" | "expm-multiply" | "structured".

    Returns:
        Evolution: ``times`` (nt,), ``states`` (nt, d, d) complex or None, ``expect`` (n_ops, nt)
        (float for Hermitian observables, else complex) or None, ``method`` used, ``details``.

    Example:
        >>> import numpy as np
        >>> from detbal import Lindbladian
        >>> sm = np.array([[0, 1], [0, 0]])
        >>> ev = evolve(Lindbladian(np.zeros((2, 2)), [sm], [1.0]), np.diag([0.0, 1.0]), [0.0, 1.0],
        ...             e_ops=[np.diag([0.0, 1.0])])
        >>> np.round(ev.expect[0], 6).tolist()     # excited population e^{−t}
        [1.0, 0.367879]
    """
    L = as_generator(L)
    d = L.dim
    method = as_choice(method, "method", EvolveMethod.__args__)
    rho = as_state(rho0, "rho0", dim=d)
    t = _as_times(times)
    ops, hermitian = _as_e_ops(e_ops, d)
    has_structure = L.has_sector_structure
    if method == "structured" and not has_structure:
        raise InputError(f"method='structured' needs structured_evolve(); {type(L).__name__} has none")
    if ops is None:
        config.check_memory(t.size * d * d * 16, f"{t.size} states of dimension {d}",
                            "evolve(..., e_ops=[...]) (expectation values only)")
    info: dict = {}
    if ops is not None and method in ("auto", "structured") and has_structure:
        expect = np.asarray(L.structured_expect(rho, t, ops))
        if expect.shape != (len(ops), t.size):
            raise InputError(f"structured_expect returned shape {expect.shape}, expected {(len(ops), t.size)}")
        return Evolution(t, None, expect.real.copy() if hermitian else expect.astype(np.complex128),
                         "structured", info)
    if has_structure and method in ("auto", "structured"):
        chunks, used = _structured_chunks(L, rho, t), "structured"
    else:
        chosen = choose_method(d, t.size) if method == "auto" else method
        chunks, diagnostics = propagate(L, rho, t, chosen)
        used = diagnostics["method"]
        # Krylov step counts are filled in while the chunks run (the stats dict is shared)
        info = {k: v for k, v in diagnostics.items() if k != "method"}
    if ops is None:
        states = np.empty((t.size, d, d), dtype=np.complex128)
        for sl, block in chunks:
            if isinstance(block, FactoredBlock):
                block = block.states()
            states[sl] = block.reshape((-1, d, d)).transpose(0, 2, 1)  # rows are column-stacked
        return Evolution(t, states, None, used, info)
    dense = [O.toarray() if sp.issparse(O) else O for O in ops]
    rows = np.stack([O.T.reshape(-1, order="F") for O in dense])  # Tr[O ρ] = vec(Oᵀ)·vec(ρ)
    expect = np.empty((len(ops), t.size), dtype=np.complex128)
    for sl, block in chunks:
        expect[:, sl] = block.project(rows).T if isinstance(block, FactoredBlock) else rows @ block.T
    return Evolution(t, None, expect.real.copy() if hermitian else expect, used, info)


def _structured_chunks(L, rho, t, chunk: int = 64):
    """``structured_evolve`` on chunks of times (bounded memory with e_ops), as column-stacked rows."""
    d = L.dim
    for start in range(0, t.size, chunk):
        tt = t[start:start + chunk]
        states = np.asarray(L.structured_evolve(rho, tt), dtype=np.complex128)
        if states.shape != (tt.size, d, d):
            raise InputError(f"structured_evolve returned shape {states.shape}, expected {(tt.size, d, d)}")
        yield slice(start, start + tt.size), states.transpose(0, 2, 1).reshape(tt.size, d * d)
