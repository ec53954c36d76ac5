"""One-call analysis of a model: the numbers behind the ``detbal`` report and ``--json``.

:func:`analyze` runs, for a :class:`~detbal.models.Model` with reference σ_β (β = the model's
reference inverse temperature unless given):

1. detailed balance w.r.t. the Gibbs state σ_β and w.r.t. the steady state ρ_ss, in the KMS
   (s = ½) and GNS (s = 1) inner products, with per-channel residuals;
2. the steady state ρ_ss (𝓛ρ_ss = 0) and its populations in the eigenbasis of H;
3. heat currents J_b = Tr[H 𝓛_b(ρ_ss)] (into the system) and the entropy production
   Π = Σ_b Π_b = −Σ_b β_b J_b at the steady state;
4. the Pauli network of populations: largest net edge current and largest cycle
   affinity (Kolmogorov);
5. the spectral gap;
6. the second-law check (Clausius/Spohn, :func:`detbal.second_law`): a generator whose baths are
   not thermal w.r.t. H (a local master equation) can give Π < 0 or Π_b < 0, reported, never hidden;
7. for models with a ``[machine]`` table: heat per bath, power, efficiency or COP and its Carnot
   bound (:func:`detbal.models.machines.machine_performance`);
8. for models with baths, the counting statistics of the energy from each bath: mean current,
   noise, Fano factor, TUR ratio and the Gallavotti–Cohen residual (:mod:`.fluctuations`);
9. for an exact Gibbs sampler (CKG/DLL), its construction and the coherent part's share
   ‖B‖_F/‖M/2‖_F (the coherent term relative to the loss term it corrects);
10. one sentence of conclusion.

Results are frozen dataclasses; :meth:`Analysis.to_dict` is JSON-ready (non-finite floats as
the strings "inf"/"-inf") and :meth:`Analysis.from_dict` inverts it exactly. A quantity whose
module is not available is left ``None`` and listed in ``notes`` — never estimated.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import scipy.sparse as sp

from .._checks import as_beta
from .._serialize import html_table
from ..balance.api import detailed_balance, detailed_balance_inners
from ..dynamics import spectral_gap, steady_state
from ..eigenbasis import eigenbasis
from ..errors import ConvergenceError, DetbalError, InputError, MemoryBudgetError, NonUniqueSteadyStateError
from ..generators.pauli import pauli_rate_matrix
from ..models.machines import machine_performance
from ..generators.samplers import GibbsSampler
from ..linalg.sparse_rows import entry_rows, row_ranges
from ..models.spec import SCALE_MAX, SCALE_MIN
from ..states import gibbs_populations, log_gibbs_populations
from ..thermo.clausius import check_entropy_production, second_law
from ..thermo.currents import EntropyProduction, entropy_production, heat_currents
from .fluctuations import ONE_BATH_NOTE, FluctuationRow, fluctuation_rows

__all__ = ["analyze", "Analysis", "Verdict", "ChannelRow", "FluctuationRow", "validate_dict"]

#: MemoryBudgetError messages name the budget by this text (config.check_memory)
BUDGET_MARK = "more than detbal.config.memory_budget"
#: the note added once when some stage was skipped for the memory budget
BUDGET_ADVICE = ("stages marked 'more than detbal.config.memory_budget' were skipped, not failed: analyse fewer "
                 "sites (e.g. -p n=…), or raise the budget (command line: detbal analyze --memory-budget 16GiB …; "
                 "Python: detbal.config.memory_budget = 16 * 2**30)")

#: relative round-off of a population flow (as in detbal.second_law)
_ROUNDOFF = 1e3 * np.finfo(float).eps
#: relative size below which a current counts as zero (round-off of the steady-state solve)
CURRENT_RTOL = 1e-9


@dataclass(frozen=True)
class Verdict:
    """A detailed-balance verdict: ``inner`` ("kms"/"gns") w.r.t. ``reference`` ("gibbs"/"steady state").
    ``holds`` is None when the test could not be run (``note`` says why)."""

    inner: str
    reference: str
    holds: bool | None
    residual: float | None = None
    dissipative: float | None = None
    hamiltonian: float | None = None
    stationary: float | None = None
    note: str = ""


@dataclass(frozen=True)
class ChannelRow:
    """One channel (bath or jump): temperature, DB residuals w.r.t. Gibbs (KMS, GNS), its share of
    the KMS violation, heat current J_b into the system and Spohn term Π_b at the steady state."""

    name: str
    temperature: float | None
    kms_residual: float | None
    gns_residual: float | None
    share: float | None
    holds: bool | None
    heat_current: float | None = None
    entropy_production: float | None = None


@dataclass(frozen=True)
class Analysis:
    """Everything the report prints (see the module docstring). ``model`` is the model-file
    dictionary (None for models built from matrices), so the JSON file can rebuild the model."""

    name: str
    description: str
    dim: int
    energies: tuple
    reference_temperature: float
    verdicts: tuple
    channels: tuple
    populations: tuple | None
    gibbs_populations: tuple
    steady_residual: float | None
    kernel_dim: int | None
    entropy_production: float | None
    entropy_rate: float | None
    max_edge_current: float | None
    cycle: tuple | None
    cycle_affinity: float | None
    spectral_gap: float | None
    conclusion: str
    notes: tuple = ()
    model: dict | None = None
    second_law: dict | None = None
    machine: dict | None = None
    fluctuations: tuple = ()
    sampler: dict | None = None

    def verdict(self, inner: str, reference: str) -> Verdict:
        """The :class:`Verdict` of ``inner`` ("kms"/"gns") w.r.t. ``reference`` ("gibbs"/"steady state")."""
        return next(v for v in self.verdicts if v.inner == inner and v.reference == reference)

    def _repr_html_(self) -> str:
        """Jupyter display: the facts of the ``detbal`` report for this model — verdicts, steady state,
        currents, entropy production, gap, the conclusion — and the per-channel table."""
        def num(x, fmt):
            return "—" if x is None else format(x, fmt)

        def vector(values):
            return "—" if values is None else " ".join(f"{v:.4g}" for v in values[:8]) + (
                " …" if len(values) > 8 else "")

        rows = [("model", self.description or self.name), ("dimension d", self.dim),
                ("energies E_i", vector(self.energies)), ("reference Gibbs T", f"{self.reference_temperature:g}")]
        for v in self.verdicts:
            word = "n/a" if v.holds is None else ("holds" if v.holds else "FAILS")
            rows.append((f"{v.inner.upper()} w.r.t. {v.reference}", f"{word}  r = {num(v.residual, '.2e')}"))
        rows += [("steady-state populations", vector(self.populations)),
                 ("Gibbs populations", vector(self.gibbs_populations)),
                 ("entropy production Π", num(self.entropy_production, ".4e")),
                 ("largest edge current", num(self.max_edge_current, ".2e")),
                 ("largest cycle affinity", "—" if self.cycle is None else
                  f"{self.cycle_affinity:.4g} on {'→'.join(map(str, self.cycle))}→{self.cycle[0]}"),
                 ("spectral gap", num(self.spectral_gap, ".4g")), ("conclusion", self.conclusion)]
        rows += [("note", n) for n in self.notes]
        channels = [(c.name, num(c.temperature, "g"), num(c.kms_residual, ".2e"), num(c.gns_residual, ".2e"),
                     "—" if c.share is None else f"{100 * c.share:.1f} %",
                     "—" if c.holds is None else ("DB" if c.holds else "breaks DB"),
                     num(c.heat_current, "+.3e"), num(c.entropy_production, ".3e")) for c in self.channels]
        kms = self.verdict("kms", "gibbs").holds
        return html_table(f"detbal analysis of {self.name}", rows,
                          verdict=None if kms is None else ("detailed balance holds" if kms else
                                                            "detailed balance FAILS", kms),
                          table=(("channel", "T", "KMS residual", "GNS residual", "share", "verdict",
                                  "heat in J_b", "Spohn Π_b"), channels) if channels else None)

    def to_dict(self) -> dict:
        return _encode(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> "Analysis":
        d = _decode(data)
        d["verdicts"] = tuple(Verdict(**v) for v in d["verdicts"])
        d["channels"] = tuple(ChannelRow(**c) for c in d["channels"])
        d["fluctuations"] = tuple(FluctuationRow(**r) for r in d.get("fluctuations", ()))
        for key in ("energies", "populations", "gibbs_populations", "cycle", "notes"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)


def _encode(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, dict):
        return {k: _encode(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_encode(x) for x in v]
    return v


def _decode(v, key=""):
    if isinstance(v, str) and v in ("inf", "-inf", "nan") and key != "model":
        return float(v)
    if isinstance(v, dict):
        return {k: (x if k == "model" else _decode(x, k)) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode(x) for x in v]
    return v


_NUM = (int, float, str, type(None))
_SCHEMA = {  # key: allowed types (a light, dependency-free validation of the --json output)
    "name": (str,), "description": (str,), "dim": (int,), "energies": (list,), "reference_temperature": _NUM,
    "verdicts": (list,), "channels": (list,), "populations": (list, type(None)), "gibbs_populations": (list,),
    "steady_residual": _NUM, "kernel_dim": (int, type(None)), "entropy_production": _NUM,
    "entropy_rate": _NUM, "max_edge_current": _NUM, "cycle": (list, type(None)), "cycle_affinity": _NUM,
    "spectral_gap": _NUM, "conclusion": (str,), "notes": (list,), "model": (dict, type(None)),
    "second_law": (dict, type(None)), "machine": (dict, type(None)), "fluctuations": (list,),


    "sampler": (dict, type(None)),
}
#: keys a file written before they existed may lack
_OPTIONAL = {"fluctuations"}


def validate_dict(data) -> None:
    """Check that ``data`` has the layout of :meth:`Analysis.to_dict` (keys, types, nested rows).

    Raises:
        ValueError: naming the first offending key.
    """
    if not isinstance(data, dict):
        raise ValueError("analysis must be a JSON object")
    missing = set(_SCHEMA) - set(data) - _OPTIONAL
    extra = set(data) - set(_SCHEMA)
    if missing or extra:
        raise ValueError(f"analysis keys: missing {sorted(missing)}, unexpected {sorted(extra)}")
    for key, types in _SCHEMA.items():
        if key in data and (not isinstance(data[key], types) or isinstance(data[key], bool)):
            raise ValueError(f"analysis[{key!r}] has type {type(data[key]).__name__}")
    for key, cls in (("verdicts", Verdict), ("channels", ChannelRow), ("fluctuations", FluctuationRow)):
        names = {f.name for f in fields(cls)}
        for row in data.get(key, ()):
            if not isinstance(row, dict) or set(row) != names:
                raise ValueError(f"analysis[{key!r}] rows must have keys {sorted(names)}")


# -- the computation ---------------------------------------------------------------------------------
def _temperature(beta) -> float | None:
    if beta is None:
        return None
    return 0.0 if math.isinf(beta) else 1.0 / beta


def _db(L, **kw) -> tuple:

    try:
        return detailed_balance(L, **kw), ""
    except DetbalError as exc:
        return None, str(exc).splitlines()[0]


def _db_kms_gns(L, **kw) -> tuple:
    """((KMS report, note), (GNS report, note)): one call sharing the reference state and the dense
    eigenframes; if it raises, each inner product on its own (one may fail where the other does not).
    The report's own steady-state verdict is skipped: the analysis tests the steady state itself."""
    kw["steady_state_verdict"] = False
    try:
        kms, gns = detailed_balance_inners(L, ("kms", "gns"), **kw)
        return (kms, ""), (gns, "")
    except DetbalError:
        return _db(L, **kw), _db(L, inner="gns", **kw)


def _verdict(rep, inner, reference, note) -> Verdict:
    if rep is None:
        return Verdict(inner, reference, None, note=note)
    return Verdict(inner, reference, bool(rep.holds), float(rep.residual), float(rep.dissipative_residual),
                   float(rep.hamiltonian_residual), float(rep.stationary_residual))


def _fmt_name(names) -> str:
    return " and ".join(f"'{n}'" for n in names)


def _conclusion(a: dict, kms, baths_T: dict) -> str:
    T = a["reference_temperature"]
    k_gibbs = a["verdicts"][0]
    g_gibbs = a["verdicts"][1]
    if k_gibbs.holds:
        extra = "KMS and GNS" if g_gibbs.holds else \
            "KMS only — GNS fails: the jumps are not eigenoperators of H"
        if (a["kernel_dim"] or 1) > 1:
            return (f"Gibbs at T = {T:g} is stationary and detailed balance holds ({extra}), but the steady "
                    f"state is not unique (dim {a['kernel_dim']}): not every state relaxes to Gibbs "
                    "(conserved quantities keep memory of the initial state)")
        if a["kernel_dim"] is None:
            return (f"Gibbs at T = {T:g} is stationary and detailed balance holds ({extra}), but whether every "
                    "state relaxes to it is unknown: the steady state could not be computed (see the notes)")
        return f"relaxes to Gibbs at T = {T:g}: detailed balance holds ({extra})"
    if k_gibbs.holds is None:
        who = f"detailed balance not tested: {k_gibbs.note.split(' (')[0]}"
        p, q = a["populations"], a["gibbs_populations"]
        if p is not None and max(abs(x - y) for x, y in zip(p, q)) < 1e-8:
            return f"relaxes to Gibbs at T = {T:g}{' (the ground state)' if T == 0 else ''}; {who}"
        if (a["kernel_dim"] or 1) > 1:
            return (f"the steady state is not unique (dim {a['kernel_dim']}): not every state relaxes to one "
                    f"state; {who}")
        if p is None and a["kernel_dim"] is None:
            return f"the steady state could not be computed (see the notes); {who}"
        return f"{'steady state differs from Gibbs' if p is not None else 'no unique steady state'}; {who}"
    blamed = [c.name for c in (kms.channels if kms is not None else ()) if not c.holds and c.contribution > 0]
    blamed = blamed[:1] or [c.name for c in (kms.channels if kms is not None else ()) if not c.holds][:1]
    kind = "bath" if blamed and blamed[0] in baths_T else "channel"
    who = f"detailed balance broken by {kind} {_fmt_name(blamed)}" if blamed else \
        f"detailed balance w.r.t. Gibbs at T = {T:g} fails"
    if blamed and kind == "bath" and baths_T[blamed[0]] is not None and baths_T[blamed[0]] != T:
        who += f" (T = {baths_T[blamed[0]]:g} ≠ {T:g})"
    scale = max(1.0, max(abs(e) for e in a["energies"])) * (a["spectral_gap"] or 1.0)
    word = "heat"
    heat_txt = _flow_text({c.name: c.heat_current for c in a["channels"]        # baths, not bare jumps
                           if c.heat_current is not None and c.temperature is not None}, "heat", scale)
    if not heat_txt:   # bare jumps (no temperature) can still pump energy through the system into a bath
        word = "energy"
        heat_txt = _flow_text({c.name: c.heat_current for c in a["channels"] if c.heat_current is not None},
                              "energy", scale)
    ep = a["entropy_production"]
    ep_txt = f", entropy production {ep:.3g}" if ep is not None else ""
    J = a["max_edge_current"]
    if J is not None and a["_current_scale"] and J > CURRENT_RTOL * a["_current_scale"]:
        heat_txt = f" ({heat_txt})" if heat_txt else ""
        return f"steady state carries a cyclic current of {J:.3g}{heat_txt}{ep_txt}: {who}"
    if heat_txt:
        article = "a heat" if word == "heat" else "an energy"
        return f"steady state carries {article} current: {heat_txt}{ep_txt}: {who}"
    k_ss = a["verdicts"][2]
    if k_ss.holds:
        return f"relaxes to a non-Gibbs steady state without currents (DB w.r.t. it holds): {who}"
    return f"steady state is not detailed-balanced: {who}"


def _merge_parts(values: dict, groups) -> None:
    """Sum per-channel values into the detailed-balance rows that group channels ("loss + coherent"
    of a Gibbs sampler is one KMS-self-adjoint part), in place, so that every table row shows one
    channel with its residual and its current together."""
    for name in groups:
        parts = name.split(" + ")
        if name not in values and len(parts) > 1 and all(p in values for p in parts):
            values[name] = sum(values.pop(p) for p in parts)


def _flow_text(flows: dict, word: str, scale: float) -> str:
    """"heat 0.169 flows from 'hot' to 'cold'" between the channels of largest inflow and outflow
    (flows: channel → energy current into the system), or "" when fewer than two channels exchange
    more than round-off."""
    if len(flows) < 2:
        return ""
    src, dst = max(flows, key=flows.get), min(flows, key=flows.get)
    if flows[src] > CURRENT_RTOL * scale and flows[dst] < 0:
        return f"{word} {flows[src]:.3g} flows from '{src}' to '{dst}'"
    return ""


def analyze(model, beta: float | None = None, step=None, iteration=None) -> Analysis:
    """Analyse a model (module docstring); ``beta`` overrides the reference inverse temperature.

    Args:
        model: a :class:`~detbal.models.Model`.
        beta: inverse temperature of the reference Gibbs state (default ``model.info.reference_beta``).
        step: optional callback ``step(label)`` called before each stage (progress display).
        iteration: optional callback ``iteration(count, residual)`` after every step of an iterative
            solver (the steady state's GMRES steps and the spectral gap's Krylov–Schur restarts: the
            ``progress`` of :func:`~detbal.dynamics.steady_state` and :func:`~detbal.dynamics.spectral_gap`).

    Returns:
        Analysis (frozen; ``to_dict()`` for JSON).
    """

    step = step or (lambda label: None)
    L, H, info = model.generator, model.hamiltonian, model.info
    b = info.reference_beta if beta is None else as_beta(beta, "beta", allow_inf=True, allow_zero=False)
    eb = L.eigenbasis                      # the generator's own factorisation of H (Davies), if any
    if eb is None or eb.dim != np.shape(H)[0]:
        eb = eigenbasis(H)
    # a Davies generator too large for its d×d rate tables (conserved quantity): every row from the
    # populations in its eigenbasis and the sector-pair blocks (no d×d matrix)
    blockwise = bool(getattr(L, "uses_blockwise", False))
    if not blockwise:   # blockwise: the model's energies and rates were range-checked when it was built
        _refuse_extreme_scale(L, eb, info.name)
    notes: list[str] = []
    if beta is None and math.isinf(b) and not model.baths:
        notes.append("no bath and no [analysis] temperature: the reference Gibbs state is the ground state "
                     "(T = 0); set `[analysis] temperature = …` in the file or pass --beta to test detailed "
                     "balance at a finite temperature")
    a: dict = dict(name=info.name, description=info.description, dim=int(eb.dim), sampler=_sampler_info(L),
                   energies=tuple(float(e) for e in eb.energies), reference_temperature=_temperature(b),
                   gibbs_populations=tuple(float(p) for p in gibbs_populations(eb, b)),
                   model=info.spec.to_dict() if info.spec is not None else None)

    step("detailed balance w.r.t. Gibbs")
    (kms, n1), (gns, n2) = _db_kms_gns(L, beta=b)

    step("steady state")
    rho = pops = None
    try:
        if blockwise:
            pops = _blockwise_steady_state(L, eb, a, notes)
        else:
            ss = steady_state(L, progress=iteration)
            rho = np.asarray(ss.state)
            a.update(steady_residual=float(ss.residual), kernel_dim=int(ss.kernel_dim))
            pops = np.real(np.sum(eb.vectors.conj() * (rho @ eb.vectors), axis=0))
        a["populations"] = tuple(float(p) for p in pops)
    except ImportError:
        notes.append("steady state (not available: detbal.dynamics is not installed)")
    except NonUniqueSteadyStateError as exc:
        a["kernel_dim"] = int(exc.kernel_dim)
        notes.append(f"steady state: not unique, {exc.kernel_dim} linearly independent stationary states "
                     "(dim ker 𝓛); the verdicts w.r.t. the steady state are not defined")
    except DetbalError as exc:
        notes.append(f"steady state: {str(exc).splitlines()[0]}")
    a.setdefault("steady_residual", None)
    a.setdefault("kernel_dim", None)
    a.setdefault("populations", None)

    step("detailed balance w.r.t. the steady state")
    if rho is not None:
        (kss, n3), (gss, n4) = _db_kms_gns(L, state=rho)
    elif blockwise and kms is not None and gns is not None and np.array_equal(pops, a["gibbs_populations"]):
        (kss, n3), (gss, n4) = (kms, n1), (gns, n2)   # the steady state is this Gibbs state: the same certificate
    elif pops is not None and a["populations"] is not None:
        (kss, n3), (gss, n4) = _db_kms_gns(L, populations=pops)
    else:
        kss = gss = None
        n3 = n4 = "no steady state"
    a["verdicts"] = (_verdict(kms, "kms", "gibbs", n1), _verdict(gns, "gns", "gibbs", n2),
                     _verdict(kss, "kms", "steady state", n3), _verdict(gss, "gns", "steady state", n4))
    for v in a["verdicts"]:
        if v.holds is None and v.note != "no steady state" and v.inner == "kms":
            notes.append(f"detailed balance w.r.t. {v.reference}: {v.note}")

    step("currents and entropy production")
    currents, spohn = {}, {}
    a.update(entropy_production=None, entropy_rate=None, second_law=None)
    if blockwise and a["populations"] is not None:
        try:
            currents, spohn = _population_thermodynamics(L, eb, pops, a, notes)
        except DetbalError as exc:
            notes.append(f"heat currents / entropy production: {str(exc).splitlines()[0]}")
    elif rho is not None:
        try:

            currents = {str(k): float(v) for k, v in heat_currents(L, rho).items()}
            cold = [c.name for c in L.channels if getattr(c, "beta", None) is None]
            if cold:
                spohn = _bath_spohn_terms(L, rho, currents)
                notes.append("entropy production Π = −Σ_b β_b J_b is not defined: channels without a "
                             f"temperature ({', '.join(cold)})"
                             + ("; the Spohn terms of the baths are shown" if spohn else ""))
            else:
                ep = entropy_production(L, rho)
                a.update(entropy_production=float(ep.total), entropy_rate=float(ep.entropy_rate))
                spohn = {str(k): float(v) for k, v in dict(ep.spohn_terms).items()}
                law = second_law(L, rho, production=ep)
                a["second_law"] = {"holds": bool(law.holds), "violations": list(law.violations),
                                   "tolerance": float(law.tolerance)}
                notes.extend(f"second law: {v}" for v in law.violations)
        except ImportError:
            notes.append("heat currents and entropy production (not available: detbal.thermo is not "
                         "installed)")
        except DetbalError as exc:
            notes.append(f"heat currents / entropy production: {str(exc).splitlines()[0]}")

    temps = {bath.name: bath.temperature for bath in model.baths}
    kms_ch = {c.name: c for c in (kms.channels if kms is not None else ())}
    gns_ch = {c.name: c for c in (gns.channels if gns is not None else ())}
    for table in (currents, spohn):
        _merge_parts(table, kms_ch)
    names = list(dict.fromkeys([*kms_ch, *temps, *currents]))
    a["channels"] = tuple(
        ChannelRow(n, temps.get(n), _get(kms_ch.get(n), "residual"), _get(gns_ch.get(n), "residual"),
                   _get(kms_ch.get(n), "contribution"), _get(kms_ch.get(n), "holds"), currents.get(n),
                   spohn.get(n))
        for n in names)

    step("counting statistics")
    a["fluctuations"] = ()
    if blockwise and len(model.baths) == 1 and currents:
        a["fluctuations"] = (FluctuationRow(model.baths[0].name, 0.0, 0.0, None, None, None, None, ONE_BATH_NOTE),)
    elif blockwise and model.baths:
        why = (f"not computed at d = {eb.dim}: the tilted generators need the d×d rate tables (beyond the "
               "memory budget); use db.counting_statistics on a smaller system")
        a["fluctuations"] = tuple(FluctuationRow(b.name, currents.get(b.name), None, None, None, None, None, why)
                                  for b in model.baths)
    elif rho is not None and model.baths and currents:
        try:
            a["fluctuations"] = fluctuation_rows(L, list(currents), a["entropy_production"],
                                                 float(eb.energies[-1] - eb.energies[0]), currents)
        except DetbalError as exc:
            notes.append(f"counting statistics: {str(exc).splitlines()[0]}")

    step("Pauli network")
    a.update(max_edge_current=None, cycle=None, cycle_affinity=None, _current_scale=None)
    try:
        if blockwise:
            _sparse_network(L, a, notes)
            raise _Done
        W = pauli_rate_matrix(L)
        if a["populations"] is not None:
            p = np.clip(np.array(a["populations"]), 0, None)
            Jmn = W.edge_currents(p / p.sum())
            a["max_edge_current"] = float(np.max(np.abs(Jmn)))
            a["_current_scale"] = float(np.max(np.abs(W.matrix)) * max(p.max(), 1e-300))
        kol = W.kolmogorov()
        if kol.cycles and math.isinf(kol.worst_affinity) and a["verdicts"][0].holds:
            # detailed balance w.r.t. Gibbs holds, so no edge is one-way: the reverse rate
            # W_nm = W_mn·p_n/p_m underflowed to 0 (β·ΔE ≳ 700), and every affinity is 0 (Kolmogorov)
            notes.append("cycle affinity not shown: some reverse rates underflow to 0 (β·ΔE ≳ 700); "
                         "detailed balance holds, so every cycle affinity is 0")
        elif kol.cycles:
            a.update(cycle=tuple(int(i) for i in kol.worst_cycle), cycle_affinity=float(kol.worst_affinity))
    except _Done:
        pass
    except DetbalError as exc:
        notes.append(f"Pauli network: {str(exc).splitlines()[0]}")

    step("spectral gap")
    a["spectral_gap"] = None
    try:

        a["spectral_gap"] = float(spectral_gap(L, progress=iteration).gap)
    except ImportError:
        notes.append("spectral gap (not available: detbal.dynamics is not installed)")
    except DetbalError as exc:
        notes.append(f"spectral gap: {str(exc).splitlines()[0]}")

    step("machine")
    a["machine"] = None
    if info.spec is not None and info.spec.machine:
        try:
            perf = machine_performance(model, rho) if rho is not None or \
                dict(info.spec.machine).get("kind") == "otto" else None
        except DetbalError as exc:
            perf = None
            notes.append(f"machine: {str(exc).splitlines()[0]}")
        if perf is not None:
            a["machine"] = {**asdict(perf), "notes": list(perf.notes)}

    a["conclusion"] = _conclusion(a, kms, temps) + _machine_clause(a["machine"]) + _second_law_clause(a)
    a.pop("_current_scale")
    if any(BUDGET_MARK in n for n in notes):
        notes.append(BUDGET_ADVICE)
    a["notes"] = tuple(notes)
    _refuse_non_finite(a)
    return Analysis(**a)


def _blockwise_steady_state(L, eb, a: dict, notes: list) -> np.ndarray:
    """Steady-state populations of a blockwise Davies generator, its kernel dimension and residual
    ‖𝓛(ρ)‖_F, each refused separately by the memory budget: at one β the populations are the Gibbs
    ones (every bath is KMS-detailed-balanced w.r.t. it, so it is stationary) even when the kernel
    dimension does not fit."""
    try:
        pops, kdim, _ = L.steady_populations()
        a["kernel_dim"] = int(kdim)
        if kdim > 1:   # as steady_state(): no unique steady state, no populations
            raise NonUniqueSteadyStateError("not unique", kernel_dim=int(kdim))
    except MemoryBudgetError as exc:
        if L.beta is None:
            raise
        pops = np.exp(log_gibbs_populations(eb, L.beta))
        notes.append(f"kernel dimension (uniqueness of the steady state): {str(exc).splitlines()[0]}")
    try:
        a["steady_residual"] = float(L.population_residual(pops))
    except MemoryBudgetError as exc:
        notes.append(f"steady-state residual ‖𝓛(ρ)‖: {str(exc).splitlines()[0]}")
    return pops


class _Done(Exception):
    """A stage finished early (internal control flow)."""


def _population_thermodynamics(L, eb, p, a: dict, notes: list) -> tuple[dict, dict]:
    """Heat currents, entropy production and the second-law check of a state diagonal in the
    eigenbasis with populations p, from the Pauli flows f_b = W_b p of each bath (no d×d matrix):

        J_b = Σ_m E_m f_b,m,   Π_b = −Σ_m f_b,m (log p_m − log σ_b,m),   dS/dt = −Σ_b Σ_m f_b,m log p_m,

    σ_b the Gibbs state at β_b; Π = Σ_b Π_b = dS/dt − Σ_b β_b J_b. Fills ``a`` and returns
    (currents, Spohn terms)."""
    flows = L.population_flows(p)
    E = np.asarray(eb.energies, dtype=float)
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
    currents = {str(k): float(E @ f) for k, f in flows.items()}
    spohn, temps = {}, {}
    betas = dict(zip(L.bath_names, L.betas))
    support = p > 0
    # the rate scale of the round-off allowances: the fastest total decay rate of the network
    rate = float(np.max(np.abs(L.sparse_pauli_network().diagonal()), initial=0.0))
    for name, f in flows.items():
        beta = betas[name]
        temps[name] = math.inf if beta == 0 else 1.0 / beta
        if not math.isfinite(beta) or np.any(f[~support] != 0):
            continue
        log_sigma = log_gibbs_populations(eb, beta)
        spohn[name] = -float(np.sum(f[support] * (log_p[support] - log_sigma[support])))
    if len(spohn) != len(flows):
        notes.append("entropy production Π is not defined: a bath at T = 0, or a steady state that is not full rank")
        return currents, spohn
    total_flow = sum(flows.values())
    dS = -float(np.sum(total_flow[support] * log_p[support]))
    ep = EntropyProduction(total=float(sum(spohn.values())), entropy_rate=dS,
                           heat_terms={k: betas[k] * currents[k] for k in currents}, spohn_terms=dict(spohn),
                           currents=dict(currents))
    a.update(entropy_production=ep.total, entropy_rate=dS)
    width = float(E[-1] - E[0])
    logs = float(np.max(np.abs(log_p[support])))
    # round-off allowances as in detbal.second_law
    floor = sum(_ROUNDOFF * rate * (logs + (betas[k] if math.isfinite(betas[k]) else 0.0) * width + 1.0) for k in flows)
    law = check_entropy_production(ep, temps, floor=floor, current_floor=_ROUNDOFF * rate * width * len(flows))
    a["second_law"] = {"holds": bool(law.holds), "violations": list(law.violations), "tolerance": float(law.tolerance)}
    notes.extend(f"second law: {v}" for v in law.violations)
    return currents, spohn


def _sparse_network(L, a: dict, notes: list) -> None:
    """The largest net edge current max|W_mn p_n − W_nm p_m| of the sparse Pauli network (the cycle
    affinities are not searched at this size: a note says so)."""
    W = L.sparse_pauli_network()
    if a["populations"] is not None:
        p = np.clip(np.array(a["populations"]), 0, None)
        p = p / p.sum()
        top = 0.0
        for r0, r1 in row_ranges(W):                        # J_mn = W_mn p_n − W_nm p_m, m in the chunk
            out = W[r0:r1] @ sp.diags_array(p)
            back = sp.diags_array(p[r0:r1]) @ sp.csr_array(W[:, r0:r1].T)   # W_nm p_m in row m
            J = sp.csr_array(out - back)
            rows = r0 + entry_rows(J, 0, r1 - r0)
            top = max(top, float(np.max(np.abs(J.data[rows != J.indices]), initial=0.0)))
        a["max_edge_current"] = top
        a["_current_scale"] = float(np.max(np.abs(W.data), initial=0.0) * max(p.max(), 1e-300))
    notes.append(f"cycle affinity: not searched at d = {L.dim} (sparse Pauli network of {W.nnz} rates; "
                 "Kolmogorov cycles are enumerated only with the d×d rate tables)")


def _machine_clause(m: dict | None) -> str:
    """The conclusion's sentence on a machine: what it does and how close to Carnot."""
    if m is None:
        return ""
    if m["efficiency"] is None:
        return f"; as a machine ({m['kind']}): {m['regime']}"
    what = "η" if m["regime"] == "engine" else "COP"
    bound = "" if m["carnot"] is None else f" (Carnot bound {m['carnot']:.4g})"
    role = "an engine" if m["regime"] == "engine" else "a refrigerator"
    return f"; runs as {role}: {what} = {m['efficiency']:.4g}{bound}"


def _second_law_clause(a: dict) -> str:
    """The conclusion's warning when the second-law check fails (empty when it holds)."""
    law = a["second_law"]
    if law is None or law["holds"]:
        return ""
    ep = a["entropy_production"]
    what = f"Π = {ep:.3g} < 0" if ep is not None and ep < -law["tolerance"] else "a bath's Spohn term Π_b < 0"
    return (f"; SECOND LAW VIOLATED ({what}): the dissipators do not relax to the Gibbs state of H at their "
            "temperatures (a local master equation?) — see the notes")
def _sampler_info(L) -> dict | None:
    """What the report says about an exact Gibbs sampler (None for other generators)."""
    if not isinstance(L, GibbsSampler):
        return None
    out = {"kind": L.kind, "weight": L.weight, "filter_width": L.filter_width,
           "coherent_share": float(L.coherent_share), "adjoints_added": list(L.adjoints_added)}
    q = L.quadrature
    if q is not None:
        out.update(quadrature_nodes=q.nodes, filters=q.size, kernel_error=float(q.error))
    return out


def _bath_spohn_terms(L, rho, currents: dict) -> dict:
    """Spohn term of each channel with a finite β_b, Π_b = −Tr[𝓛_b(ρ)(log ρ − log σ_b)]
    = −Tr[𝓛_b(ρ) log ρ] − β_b J_b (σ_b the Gibbs state at β_b), also when other
    channels have no temperature (bare jumps). Empty when ρ is not full rank (log ρ undefined)."""
    lam, U = np.linalg.eigh((rho + rho.conj().T) / 2)
    if lam[0] <= 1e-14 * lam[-1]:
        return {}
    log_rho = (U * np.log(lam)) @ U.conj().T
    out = {}
    for c in L.channels:
        beta = getattr(c, "beta", None)
        if beta is not None and math.isfinite(beta) and str(c.name) in currents:
            flow = float(np.real(np.sum(c.apply(rho) * log_rho.T)))     # Tr[𝓛_b(ρ) log ρ]
            out[str(c.name)] = -flow - beta * currents[str(c.name)]
    return out


def _refuse_extreme_scale(L, eb, name: str) -> None:
    """InputError when the generator's scale lies outside [SCALE_MIN, SCALE_MAX] of
    :mod:`detbal.models.spec`, where squared norms over/underflow and a verdict could be NaN or a
    spurious "holds". Probes: eigenprojectors P_k of H (lowest, middle, highest level), which
    commute with H, so max|𝓛(P_k)| is the size of the dissipative part alone (a tiny dissipator
    is not hidden behind an O(1) Hamiltonian), and the uniform superposition for overflow."""

    d, V = L.dim, eb.vectors
    dissipative, total = 0.0, 0.0
    try:
        with np.errstate(all="ignore"):
            for k in sorted({0, d // 2, d - 1}):
                P = np.outer(V[:, k], V[:, k].conj())
                dissipative = max(dissipative, float(np.max(np.abs(L.apply(P)))))
            total = float(np.max(np.abs(L.apply(np.full((d, d), 1.0 / d, dtype=complex)))))
    except MemoryBudgetError:
        # applying 𝓛 would build more than the budget (a huge degenerate Davies generator, whose
        # kernel the analysis counts without its blocks): the model file's rates and operators were
        # range-checked at validation, which is all this probe adds
        return
    for size in (dissipative, total):
        if not (math.isfinite(size) and (size == 0 or SCALE_MIN <= size <= SCALE_MAX)):
            raise InputError(f"model {name!r}: the generator's rates are of size {size:.1e}, outside "
                             f"1e-100 … 1e100 where detbal's verdicts are reliable; rescale the units "
                             f"of energy and time (rates and energies by one common factor)")


#: the only report number that may be infinite: a cycle through a one-way edge
_INF_ALLOWED = {"cycle_affinity"}


def _refuse_non_finite(a: dict) -> None:
    """No NaN or inf reaches a report (issue 12): raise ConvergenceError naming the quantity."""

    def numbers(key, v):
        if isinstance(v, (Verdict, ChannelRow, FluctuationRow)):
            for f in fields(v):
                yield from numbers(f"{key}.{f.name}", getattr(v, f.name))
        elif isinstance(v, (tuple, list)):
            for k, x in enumerate(v):
                yield from numbers(f"{key}[{k}]", x)
        elif isinstance(v, float):
            yield key, v

    for key, value in a.items():
        if key in ("model", "notes", "conclusion"):
            continue
        for name, x in numbers(key, value):
            if math.isnan(x) or (math.isinf(x) and key not in _INF_ALLOWED):
                raise ConvergenceError(f"model {a['name']!r}: {name} = {x} — a non-finite result (rates or "
                                       f"energies of extreme size?); nothing is reported", residual=x)


def _get(obj, attr):
    if obj is None:
        return None
    v = getattr(obj, attr)
    return bool(v) if isinstance(v, (bool, np.bool_)) else float(v)
