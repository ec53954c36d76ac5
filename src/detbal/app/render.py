"""Rich rendering of :class:`detbal.analysis.Analysis` objects (the ``detbal`` report).

One comparison table with one column per model (model summary, detailed-balance verdicts,
steady state, currents, entropy production, spectral gap), then a per-channel blame table and a
counting-statistics table (models with baths) per model, then one sentence of conclusion per model.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

__all__ = ["render"]

_MAX_LEVELS = 6


def _num(x, fmt: str = ".3g") -> str:
    if x is None:
        return "—"
    return format(x, fmt)


def _sci(x) -> str:
    return "—" if x is None else f"{x:.2e}"


def _verdict(v) -> Text:
    if v.holds is None:
        why = "no steady state" if v.note == "no steady state" else "see notes"
        return Text(f"n/a ({why})", style="dim")
    if v.holds:
        return Text.assemble(("holds", "bold green"), f"  r = {_sci(v.residual)}")
    return Text.assemble(("FAILS", "bold red"), f"  r = {_sci(v.residual)}")


def _vector(values, fmt: str = ".4f") -> str:
    if values is None:
        return "—"
    vals = [format(v, fmt) for v in values[:_MAX_LEVELS]]
    more = f" … (+{len(values) - _MAX_LEVELS})" if len(values) > _MAX_LEVELS else ""
    return " ".join(vals) + more


def _baths(a) -> str:
    spec = a.model or {}
    rows = []
    for b in spec.get("bath", []):
        rows.append(f"{b['name']}: T = {b['temperature']:g}, S = {b['coupling']}")
    for j in spec.get("jump", []):
        rows.append(f"{j['name']}: {j['operator']} @ {j['rate']:g}")
    if "sampler" in spec:
        smp = spec["sampler"]
        rows.append(f"{smp['kind'].upper()} sampler at T = {smp['temperature']:g}, jumps {', '.join(smp['jumps'])}")
    if not rows:
        rows = [c.name + ("" if c.temperature is None else f": T = {c.temperature:g}") for c in a.channels]
    return "\n".join(rows)


def _summary_table(analyses) -> Table:
    table = Table(title="detbal — quantum detailed balance report", title_style="bold", show_lines=False,
                  header_style="bold cyan")
    table.add_column("", style="bold", no_wrap=True)
    for a in analyses:
        table.add_column(Text(a.name), overflow="fold")
    def add(label, *cells):  # plain Text: names like "J[hot]" must not be read as rich markup
        table.add_row(Text(label), *[c if isinstance(c, Text) else Text(str(c)) for c in cells])

    add("model", *[a.description or "—" for a in analyses])
    add("dimension d", *[str(a.dim) for a in analyses])
    add("energies E_i", *[_vector(a.energies, ".3g") for a in analyses])
    add("baths / channels", *[_baths(a) for a in analyses])
    table.add_section()
    add("reference Gibbs T", *[_num(a.reference_temperature, "g") for a in analyses])
    for inner, ref in (("kms", "gibbs"), ("gns", "gibbs"), ("kms", "steady state"), ("gns", "steady state")):
        label = f"{inner.upper()} w.r.t. {'Gibbs' if ref == 'gibbs' else ref}"
        add(label, *[_verdict(a.verdict(inner, ref)) for a in analyses])
    add("Gibbs stationary residual", *[_sci(a.verdict("kms", "gibbs").stationary) for a in analyses])
    table.add_section()
    add("steady-state populations", *[_vector(a.populations) for a in analyses])
    add("Gibbs populations", *[_vector(a.gibbs_populations) for a in analyses])
    add("steady-state residual", *[_sci(a.steady_residual) for a in analyses])
    table.add_section()
    names = list(dict.fromkeys(c.name for a in analyses for c in a.channels if c.heat_current is not None))
    for n in names:
        cells = []
        for a in analyses:
            row = next((c for c in a.channels if c.name == n), None)
            cells.append(_num(row.heat_current, "+.4e") if row and row.heat_current is not None else "—")
        add(f"heat current J[{n}]", *cells)
    add("entropy production Π", *[_num(a.entropy_production, ".4e") for a in analyses])
    add("second law (Clausius/Spohn)", *[_second_law(a) for a in analyses])
    add("largest edge current", *[_sci(a.max_edge_current) for a in analyses])
    add("largest cycle affinity", *[_cycle(a) for a in analyses])
    add("spectral gap", *[_num(a.spectral_gap, ".4g") for a in analyses])
    if any(a.machine for a in analyses):
        table.add_section()
        for label, cell in _MACHINE_ROWS:
            add(label, *[cell(a.machine) if a.machine else "—" for a in analyses])
    if any(a.sampler for a in analyses):
        table.add_section()
        add("Gibbs sampler", *[_sampler(a.sampler) for a in analyses])
        add("coherent share ‖B‖/‖M/2‖", *[_num((a.sampler or {}).get("coherent_share"), ".3g") for a in analyses])
    return table


def _cycle(a) -> str:
    """The worst cycle of the population network, "none (no cycle)" for a tree (a qubit, a ladder),
    "—" when it was not computed (the notes say why)."""
    if a.cycle is not None:
        return f"{a.cycle_affinity:.4g} on {'→'.join(map(str, a.cycle))}→{a.cycle[0]}"
    if a.max_edge_current is not None and not any("cycle affinity" in n for n in a.notes):
        return "none (no cycle)"
    return "—"


def _second_law(a) -> Text:
    law = a.second_law
    if law is None:
        return Text("—")
    if law["holds"]:
        return Text("holds", "green")
    return Text(f"VIOLATED ({len(law['violations'])} inequalities, see notes)", "bold red")


def _efficiency_label(m) -> str:
    kind = m["regime"] if m["regime"] in ("engine", "refrigerator") else m["kind"]
    return "COP" if kind == "refrigerator" else "η"


def _heats(m) -> str:
    unit = " per cycle" if m["per_cycle"] else ""
    rows = [f"{name}: {q:+.4e}" for name, q in m["heat"].items()]
    return "\n".join(rows) + (f"\n(heat into the system{unit}; W = {m['work']:+.4e})" if m["per_cycle"] else "")


_MACHINE_ROWS = (
    ("machine (declared → actual)", lambda m: f"{m['kind']} → {m['regime']}"),
    ("heat per bath", _heats),
    ("efficiency η / COP", lambda m: "—" if m["efficiency"] is None else f"{_efficiency_label(m)} = {m['efficiency']:.6g}"),
    ("Carnot bound", lambda m: "—" if m["carnot"] is None else f"{_efficiency_label(m)}_C = {m['carnot']:.6g}"),
    ("power", lambda m: f"{m['power']:.4e}" + (" (quasi-static)" if m["per_cycle"] and m["power"] == 0 else "")),
    ("entropy production (machine)", lambda m: _num(m["entropy_production"], ".4e")
     + (" per cycle" if m["per_cycle"] else "")),
)


def _sampler(info) -> str:
    if not info:
        return "—"
    width = "" if info["filter_width"] is None else f", width {info['filter_width']:.3g}"
    text = f"{info['kind'].upper()}, {info['weight']}{width}"
    if "quadrature_nodes" in info:
        text += (f"\nω-rule: {info['quadrature_nodes']} nodes → {info['filters']} filters, kernel error "
                 f"{info['kernel_error']:.1e}")
    if info["adjoints_added"]:
        text += f"\nadjoints added: {', '.join(info['adjoints_added'])}"
    return text


def _channel_table(a) -> Table:
    title = f"{a.name}: per-channel detailed balance w.r.t. Gibbs at T = {a.reference_temperature:g}"
    table = Table(title=Text(title), title_style="bold", header_style="bold cyan")
    table.add_column("channel", no_wrap=True)
    for col, just in ( ("T", "right"), ("KMS residual", "right"), ("GNS residual", "right"),
                      ("share", "right"), ("verdict", "left"), ("heat in J_b", "right"),
                      ("Spohn Π_b", "right")):
        table.add_column(col, justify=just)
    for c in a.channels:
        verdict = Text("—") if c.holds is None else \
            (Text("DB", "green") if c.holds else Text("breaks DB", "bold red"))
        share = "—" if c.share is None else f"{100 * c.share:.1f} %"
        table.add_row(Text(c.name), _num(c.temperature, "g"), _sci(c.kms_residual), _sci(c.gns_residual),
                      share, verdict, _num(c.heat_current, "+.3e"), _num(c.entropy_production, ".3e"))
    return table


def _fluctuation_table(a) -> Table:
    title = f"{a.name}: counting statistics of the energy from each bath (steady state)"
    table = Table(title=Text(title), title_style="bold", header_style="bold cyan")
    table.add_column("bath", no_wrap=True)
    for col in ("mean ⟨J⟩", "noise c₂", "Fano c₂/c₁", "TUR c₂Π/c₁²", "GC residual", "affinity A"):
        table.add_column(col, justify="right")
    table.add_column("note", overflow="fold")
    for r in a.fluctuations:
        table.add_row(Text(r.bath), _num(r.mean, "+.4e"), _num(r.noise, ".4e"), _num(r.fano, ".4g"),
                      _num(r.tur_ratio, ".4g"), _sci(r.gc_residual), _num(r.affinity, ".4g"), Text(r.note))
    return table


def render(console, analyses) -> None:
    """Print the report of one or more analyses on a rich Console."""
    console.print(_summary_table(analyses))
    for a in analyses:
        if a.channels:
            console.print(_channel_table(a))
        if a.fluctuations:
            console.print(_fluctuation_table(a))
    console.print(Text("Conclusion", style="bold"))
    for a in analyses:
        console.print(Text.assemble(("  • ", "bold"), (f"{a.name}: ", "bold"), a.conclusion))
    for a in analyses:
        for note in a.notes:
            console.print(Text(f"  note ({a.name}): {note}", style="yellow"))
