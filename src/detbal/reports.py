"""Result types shared by the classical and quantum detailed-balance tests.

One :class:`BalanceReport` type is printed for a quantum generator, a Davies Pauli matrix and a
classical rate matrix, so reports of all three read the same.

**Truth value.** ``bool(report)`` raises TypeError naming ``.holds``: a report carries several
verdicts (``holds``, ``symmetric``, per-channel ``holds``, Kolmogorov's), and before this rule
``if db.detailed_balance(L, beta=1):`` silently passed for a failed test (dataclasses are always
truthy). Raising, as NumPy does for arrays, makes every existing misuse fail loudly instead of
silently changing its meaning; ``bool(report) == report.holds`` would have hidden which verdict
was meant. The same holds for :class:`~detbal.classical.KolmogorovResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ._serialize import JsonResult, html_table, jsonable

__all__ = ["BalanceReport", "ChannelBalance", "no_truth_value"]


def no_truth_value(self):
    """``__bool__`` of result types with a ``holds`` verdict: always raises TypeError (module docstring)."""
    raise TypeError(f"the truth value of a {type(self).__name__} is ambiguous: test `.holds` "
                    "(e.g. `if report.holds:`), not the report itself")


@dataclass(frozen=True)
class ChannelBalance(JsonResult):
    """Detailed-balance verdict of one channel (a bath, or a jump with its partner).

    Attributes:
        name: channel name ("hot", "jump pair 2", "edge 0-1", ...).
        residual: the channel's own residual w.r.t. the report's reference state
            (same normalisation as :attr:`BalanceReport.residual`).
        contribution: share of the total violation carried by this channel (fractions sum to 1
            over channels when the total is nonzero; 0 when everything is balanced).
        holds: ``residual <= tolerance``.
        note: a sentence in the physicist's terms, e.g. "rate ratio implies T = 0.7 but β says T = 1.0".
    """

    name: str
    residual: float
    contribution: float
    holds: bool
    note: str = ""

    __bool__ = no_truth_value



@dataclass(frozen=True)
class BalanceReport:
    """Verdict and diagnostics of a detailed-balance test.

    Attributes:
        holds: detailed balance holds to ``tolerance`` (``residual <= tolerance``).
        residual: max(dissipative_residual, hamiltonian_residual): the normalised size of the
            part of the generator that violates detailed balance.
        dissipative_residual: ‖𝓓̂ − 𝓓̂†‖_F/‖𝓓̂‖_F, the σ-asymmetry of the dissipative part.
        hamiltonian_residual: failure of the coherent part K to commute with σ,
            ‖[K, σ]‖_F/(‖K‖_F ‖σ‖_F) (0 when K = 0).
        symmetric: the generator itself is σ-self-adjoint (K = 0), e.g. a Gibbs sampler.
        symmetric_residual: ‖𝓛̂ − 𝓛̂†‖_F/‖𝓛̂‖_F.
        stationary_residual: ‖𝓛(σ)‖_F/(‖𝓛̂‖_F ‖σ‖_F): is the reference state stationary?
        inner: "kms", "gns", "classical" or the value of s as a string.
        method: "dense", "structured", "probe" or "classical".
        tolerance: the threshold used for ``holds``.
        reference: how the reference state was chosen ("gibbs(beta=1)", "state", "stationary").
        channels: per-channel verdicts, sorted by decreasing contribution.
        error_bar: for ``method="probe"`` the statement of the estimator's confidence; for a generator
            known only as a matrix, which violations the rotation's round-off explains; else "".
        details: extra method-specific diagnostics (worst cycle, affinities, ...), JSON-friendly.
        reference_state: the resolved reference σ (eigenvectors and exact log-populations, a
            ``detbal.balance.api.ReferenceState``) for reuse by callers such as ``spectral_gap``;
            None for classical reports. Not part of ``to_dict``, equality or the printed report.
    """

    holds: bool
    residual: float
    dissipative_residual: float
    hamiltonian_residual: float
    symmetric: bool
    symmetric_residual: float
    stationary_residual: float
    inner: str
    method: str
    tolerance: float
    reference: str
    channels: tuple[ChannelBalance, ...] = ()
    error_bar: str = ""
    details: dict = field(default_factory=dict)
    reference_state: object | None = field(default=None, repr=False, compare=False)

    __bool__ = no_truth_value

    def to_dict(self) -> dict:
        """JSON-serialisable dictionary (non-finite floats as strings)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("channels", "reference_state")}
        out["channels"] = [c.to_dict() for c in self.channels]
        return jsonable(out)

    def __str__(self) -> str:
        verdict = "holds" if self.holds else "FAILS"
        lines = [
            f"detailed balance ({self.inner}, w.r.t. {self.reference}, {self.method}): {verdict}",
            f"  residual {self.residual:.3e} (dissipative {self.dissipative_residual:.3e}, "
            f"hamiltonian {self.hamiltonian_residual:.3e}; tolerance {self.tolerance:.1e})",
            f"  stationary residual {self.stationary_residual:.3e}; "
            + ("the generator itself is σ-self-adjoint (no coherent part K)" if self.symmetric else
               f"σ-antisymmetric part {self.symmetric_residual:.3e} (its σ-commuting coherent part K is "
               "allowed by detailed balance)"),
        ]
        if self.error_bar:
            lines.append(f"  {self.error_bar}")
        for c in self.channels:
            mark = "ok" if c.holds else "breaks DB"
            note = f" — {c.note}" if c.note else ""
            lines.append(f"  channel {c.name}: residual {c.residual:.3e} ({100 * c.contribution:.1f} %) {mark}{note}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter display: the facts of ``str()`` as a table, one row per channel below."""
        rows = [("residual", f"{self.residual:.3e} (tolerance {self.tolerance:.1e})"),
                ("dissipative / hamiltonian", f"{self.dissipative_residual:.3e} / {self.hamiltonian_residual:.3e}"),
                ("stationary residual", f"{self.stationary_residual:.3e}"),
                ("σ-antisymmetric part", "0: σ-self-adjoint (no coherent part K)" if self.symmetric else
                 f"{self.symmetric_residual:.3e} (a σ-commuting K is allowed)")]
        if self.error_bar:
            rows.append(("error bar", self.error_bar))
        channels = [(c.name, f"{c.residual:.3e}", f"{100 * c.contribution:.1f} %", "ok" if c.holds else "breaks DB",
                     c.note) for c in self.channels]
        return html_table(f"detailed balance ({self.inner}, w.r.t. {self.reference}, {self.method})", rows,
                          verdict=("holds" if self.holds else "FAILS", self.holds),
                          table=(("channel", "residual", "share", "verdict", "note"), channels) if channels else None)
