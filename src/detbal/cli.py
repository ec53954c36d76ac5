"""The ``detbal`` command line."""

from __future__ import annotations

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, help="detbal — quantum detailed balance for open quantum systems.")


def _thermal_qubit_report(console: Console, omega: float = 1.0, beta: float = 1.0) -> None:
    import detbal as db

    H = np.diag([0.0, omega])
    sm = np.array([[0, 1], [0, 0]], dtype=complex)
    th = db.thermodynamics(H, beta)
    table = Table(title=f"thermal qubit E = (0, {omega:g}), β = {beta:g}")
    table.add_column("generator")
    table.add_column("KMS")
    table.add_column("GNS")
    table.add_column("residual")
    for label, ratio in [("γ↑/γ↓ = e^{−βω}", np.exp(-beta * omega)), ("γ↑/γ↓ = 2·e^{−βω}", 2 * np.exp(-beta * omega))]:
        L = db.Lindbladian(H, [sm, sm.T], [1.0, ratio])
        kms = db.detailed_balance(L, beta=beta)
        gns = db.detailed_balance(L, beta=beta, inner="gns")
        table.add_row(label, "holds" if kms.holds else "fails", "holds" if gns.holds else "fails", f"{kms.residual:.2e}")
    p = np.diag(db.gibbs_state(H, beta)).real
    console.print(f"Gibbs populations {p.round(6).tolist()}, log Z = {th.log_Z:.6f}, F = {th.free_energy:.6f}, "
                  f"S = {th.entropy:.6f}, C = {th.heat_capacity:.6f}")
    console.print(table)


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context) -> None:
    """Without a command: analyse the built-in default model."""
    if ctx.invoked_subcommand is None:
        _thermal_qubit_report(Console())


@app.command()
def analyze() -> None:
    """Analyse the built-in thermal qubit."""
    _thermal_qubit_report(Console())


def main() -> None:  # console-script entry point
    app()
