"""Figures (matplotlib, headless Agg; imported lazily so ``import detbal`` stays fast).

* :func:`relaxation` — populations p_i(t) in the eigenbasis of H and the relative entropies
  S(ρ_t‖ρ_ss) and S(ρ_t‖σ_β) from the highest-energy eigenstate (Spohn: the first decreases
  monotonically for every GKSL generator; the second only when σ_β is the steady state).
* :func:`spectrum` — eigenvalues of 𝓛 in the complex plane (a DB generator with K = 0 has a real
  spectrum; with K ≠ 0 the imaginary parts are the Bohr frequencies of K).
* :func:`channel_residuals` — per-channel KMS and GNS residuals w.r.t. Gibbs (log scale, with the
  tolerance line).
* :func:`level_currents` — the steady-state net currents J_mn = W_mn p_n − W_nm p_m of the Pauli
  network drawn as arrows between energy levels (height = energy), width ∝ |J|.
* :func:`fluctuation_theorem` — the scaled cumulant generating function θ(s) of the energy from
  the first bath and its Gallavotti–Cohen mirror θ(−s − A) (models with two thermal baths; the
  curves coincide when every bath obeys local detailed balance).

Each function returns a ``matplotlib.figure.Figure`` built without pyplot (no global state);
:func:`write_plots` saves the four PNGs of a model.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import numpy as np
from ..dynamics import evolve, spectral_gap, spectrum as eigenvalues, steady_state
from ..eigenbasis import eigenbasis
from ..errors import DetbalError
from ..generators.pauli import pauli_rate_matrix
from ..states import gibbs_state, relative_entropy
from ..thermo.fcs import gallavotti_cohen

#: a net edge current counts as zero below this × (largest rate × largest population): round-off
#: of the steady state (≈ 1e-17 on detailed-balanced models) is not drawn as an arrow
CURRENT_FLOOR = 1e-9

__all__ = ["relaxation", "spectrum", "channel_residuals", "level_currents", "fluctuation_theorem", "write_plots"]


def _title(ax, text: str, width_inches: float = 6.4) -> None:
    """Axes title wrapped to the axes width (≈ 11 characters per inch at 9 pt), never clipped."""
    ax.set_title(textwrap.fill(text, max(30, int(11 * width_inches))), fontsize=9)


def _figure(width: float = 6.4, height: float = 4.2, ncols: int = 1):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols)
    return fig, axes


def relaxation(model, times=None, rho0=None, beta: float | None = None):
    """Populations and relative entropies along ρ_t = e^{t𝓛}ρ_0 (module docstring).

    Args:
        model: a Model. times: increasing times (default 200 points up to 6/gap).
        rho0: initial state (default: the highest-energy eigenstate of H).
        beta: reference Gibbs β (default the model's).
    """

    L, eb = model.generator, eigenbasis(model.hamiltonian)
    b = model.info.reference_beta if beta is None else beta
    if times is None:
        gap = float(spectral_gap(L).gap)
        tmax = 6.0 / gap if gap > 0 else 10.0
        times = np.linspace(0.0, tmax, 200)
    times = np.asarray(times, dtype=float)
    if rho0 is None:
        v = eb.vectors[:, -1]
        rho0 = np.outer(v, v.conj())
    states = evolve(L, rho0, times).states
    V = eb.vectors
    pops = np.array([np.real(np.sum(V.conj() * (r @ V), axis=0)) for r in states])
    try:
        ss = steady_state(L).state
    except DetbalError:  # e.g. a non-unique steady state: plot the populations only
        ss = None
    sigma = gibbs_state(model.hamiltonian, b)
    fig, (ax1, ax2) = _figure(10, 4, ncols=2)
    d = pops.shape[1]
    for i in range(min(d, 8)):
        ax1.plot(times, pops[:, i], label=f"E = {eb.energies[i]:.3g}")
    if d > 8:
        ax1.plot(times, pops[:, 8:].sum(axis=1), "k--", label=f"{d - 8} more levels")
    ax1.set(xlabel="time t", ylabel="population p_i(t)")
    _title(ax1, f"{model.info.name}: relaxation", 5)
    ax1.legend(fontsize=7)
    with np.errstate(all="ignore"):
        s_g = [relative_entropy(_clean(r), sigma) for r in states]
        if ss is not None:
            s_ss = [relative_entropy(_clean(r), ss) for r in states]
            ax2.semilogy(times, np.maximum(s_ss, 1e-16), label="S(ρ_t ‖ ρ_ss)")
    T = 0.0 if math.isinf(b) else 1 / b
    if np.all(np.isfinite(s_g)):
        ax2.semilogy(times, np.maximum(s_g, 1e-16), "--", label=f"S(ρ_t ‖ σ_β), T = {T:.3g}")
    else:
        ax2.text(0.02, 0.05, f"S(ρ_t ‖ σ_β) = ∞ at T = {T:.3g}: σ_β is not full rank" if T == 0 else
                 f"S(ρ_t ‖ σ_β) = ∞: ρ_t leaves the support of σ_β (T = {T:.3g})",
                 transform=ax2.transAxes, fontsize=8)
    if ss is None:
        ax2.text(0.02, 0.12, "no unique steady state: S(ρ_t ‖ ρ_ss) not drawn", transform=ax2.transAxes,
                 fontsize=8)
    ax2.set(xlabel="time t", ylabel="relative entropy")
    _title(ax2, "approach to the steady state", 5)
    if ax2.get_legend_handles_labels()[0]:
        ax2.legend(fontsize=8)
    return fig


def _clean(rho):
    r = (rho + rho.conj().T) / 2
    return r / np.trace(r).real


def spectrum(model):
    """Eigenvalues of the generator in the complex plane."""

    L = getattr(model, "generator", model)
    res = eigenvalues(L)
    ev = np.asarray(getattr(res, "eigenvalues", res))
    fig, ax = _figure()
    ax.scatter(np.real(ev), np.imag(ev), s=18, c="tab:blue", edgecolors="k", linewidths=0.3)
    ax.axhline(0, color="0.7", lw=0.8)
    ax.axvline(0, color="0.7", lw=0.8)
    name = getattr(getattr(model, "info", None), "name", "generator")
    ax.set(xlabel="Re λ", ylabel="Im λ")
    _title(ax, f"{name}: spectrum of the generator ({len(ev)} eigenvalues)")
    return fig


def channel_residuals(analysis, tolerance: float = 1e-8):
    """Bar chart of the per-channel KMS and GNS residuals w.r.t. Gibbs (log scale)."""
    rows = [c for c in analysis.channels if c.kms_residual is not None]
    fig, ax = _figure()
    if not rows:
        kms = next((v for v in analysis.verdicts if v.inner == "kms" and v.reference == "gibbs"), None)
        why = (kms.note.split(" (")[0] if kms is not None and kms.note else "no channels")
        ax.text(0.5, 0.5, textwrap.fill(f"per-channel detailed balance not computed: {why}", 60),
                ha="center", va="center", fontsize=9)
        ax.set_axis_off()
        _title(ax, f"{analysis.name}: detailed balance per channel (Gibbs, "
                   f"T = {analysis.reference_temperature:g})")
        return fig
    x = np.arange(len(rows))
    floor = 1e-17
    kms = [max(c.kms_residual, floor) for c in rows]
    gns = [max(c.gns_residual if c.gns_residual is not None else floor, floor) for c in rows]
    ax.bar(x - 0.2, kms, 0.4, label="KMS", color="tab:blue")
    ax.bar(x + 0.2, gns, 0.4, label="GNS", color="tab:orange")
    ax.axhline(tolerance, color="tab:red", ls="--", lw=1, label=f"tolerance {tolerance:g}")
    ax.set_yscale("log")
    ax.set_ylim(floor / 10, max(10.0, max(kms + gns) * 10))
    ax.set_xticks(x, [c.name for c in rows], rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="DB residual")
    _title(ax, f"{analysis.name}: detailed balance per channel (Gibbs, T = {analysis.reference_temperature:g})")
    ax.legend(fontsize=8)
    return fig


def level_currents(model, analysis, max_edges: int = 40):
    """Steady-state net currents of the Pauli network on the level diagram (module docstring)."""

    E = np.array(analysis.energies)
    d = len(E)
    fig, ax = _figure(6.4, 5.0)
    # zig-zag the levels sideways so that arrows between consecutive levels separate
    pattern = np.array([0.0, 1.0, -1.0]) if d <= 12 else np.array([-1.5, -0.5, 0.5, 1.5])
    xs = 1.8 * pattern[np.arange(d) % len(pattern)]
    for i in range(d):
        ax.plot([xs[i] - 0.4, xs[i] + 0.4], [E[i], E[i]], "k-", lw=2)
        if d <= 12:
            label = f"|{i}⟩ p={analysis.populations[i]:.3f}" if analysis.populations else f"|{i}⟩"
            ax.text(xs[i] + 0.45, E[i], label, va="center", fontsize=7)
    if analysis.populations is None:
        _title(ax, f"{analysis.name}: levels (no unique steady state: no currents drawn)")
        return fig
    W = pauli_rate_matrix(model.generator)
    p = np.clip(np.array(analysis.populations), 0, None)
    J = W.edge_currents(p / p.sum())
    jmax = float(np.max(np.abs(J)))
    floor = CURRENT_FLOOR * float(np.max(np.abs(W.matrix))) * float(p.max() / p.sum())
    edges = sorted(((J[m, n], n, m) for m in range(d) for n in range(d) if J[m, n] > 0), reverse=True)
    edges = edges[:max_edges]
    shown = 0
    for j, n, m in edges:
        if jmax <= floor or j < max(1e-3 * jmax, floor):
            continue
        shown += 1
        ax.annotate("", xy=(xs[m], E[m]), xytext=(xs[n], E[n]),
                    arrowprops=dict(arrowstyle="-|>", color="tab:red", lw=0.5 + 4 * j / jmax,
                                    connectionstyle="arc3,rad=0.12", shrinkA=4, shrinkB=4))
        if d <= 6:
            ax.text((xs[m] + xs[n]) / 2, (E[m] + E[n]) / 2, f" {j:.2e}", fontsize=7, color="tab:red",
                    ha="left", va="bottom")
    if shown == 0:
        ax.text(0.02, 0.02, f"no net currents (max |J| = {jmax:.1e}, below round-off {floor:.1e}): "
                "the populations are detailed-balanced", transform=ax.transAxes, fontsize=8)
    ax.set_xlim(xs.min() - 0.8, xs.max() + 2.2)
    ax.set_xticks([])
    ax.set(ylabel="energy")
    _title(ax, f"{analysis.name}: steady-state currents (Pauli network)")
    return fig


def fluctuation_theorem(model, analysis, points: int = 61):
    """θ(s) of the energy counted from the first bath with a Gallavotti–Cohen residual, and its
    mirror θ(−s − A), A = β_other − β_bath (module docstring).

    Raises:
        InputError: the model does not have exactly two thermal baths.
    """
    row = next((r for r in analysis.fluctuations if r.gc_residual is not None), None)
    bath = row.bath if row is not None else (model.baths[0].name if model.baths else "bath")
    gc = gallavotti_cohen(model.generator, {bath: "energy"},
                          s=None if row is None else -row.affinity / 2 + np.linspace(-1, 1, points)
                          * (abs(row.affinity) / 2 + 1.0))
    fig, ax = _figure()
    ax.plot(gc.s, gc.theta, lw=2.2, label="θ(s)")
    ax.plot(gc.s, gc.mirror, "--", lw=1.6, label="θ(−s − A)  (Gallavotti–Cohen mirror)")
    ax.axvline(-gc.affinity / 2, color="0.6", lw=0.8)
    ax.axhline(0.0, color="0.8", lw=0.8)
    tma = gc.theta_at_minus_affinity        # 0 when the symmetry holds; the dot shows it where it does not
    holds = abs(tma) <= 1e-9 * max(float(np.max(np.abs(gc.theta))), 1e-300)
    ax.plot([0.0, -gc.affinity], [0.0, tma], "o", color="k", ms=4,
            label="θ(0) = θ(−A) = 0" if holds else f"θ(0) = 0, θ(−A) = {tma:.2g} (GC predicts 0)")
    ax.set(xlabel=f"counting field s (energy from bath {bath!r})", ylabel="SCGF θ(s)")
    ax.legend(fontsize=8)
    _title(ax, f"{analysis.name}: fluctuation theorem, A = {gc.affinity:.4g}, residual max|θ(s) − θ(−s−A)| = "
               f"{gc.residual:.1e}")
    return fig


def file_stem(name: str, taken: set | None = None) -> str:
    """A file-name stem for a model name: letters, digits, '.', '-' and '_' only (commas,
    parentheses, spaces, slashes → '_'); with ``taken`` (stems already used in this directory by
    this run) a repeated name gets '_2', '_3', … and is added to ``taken``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"
    if taken is not None:
        base, k = stem, 2
        while stem in taken:
            stem, k = f"{base}_{k}", k + 1
        taken.add(stem)
    return stem


def write_plots(model, analysis, directory, skipped: list | None = None, taken: set | None = None) -> list[Path]:
    """Write ``<name>_relaxation.png``, ``_spectrum.png``, ``_channels.png``, ``_currents.png`` and,
    when the analysis has a Gallavotti–Cohen residual (two thermal baths), ``_fluctuations.png``.

    ``<name>`` is :func:`file_stem` of the model name; pass the same ``taken`` set for every model
    of one run so that two models with one name do not overwrite each other. The relaxation
    figure uses the analysis' reference temperature (``--beta``).

    A figure whose computation fails with a :class:`~detbal.errors.DetbalError` (e.g. no unique
    steady state) is not written; its (file name, reason) is appended to ``skipped`` if given.

    Returns:
        The list of written paths.
    """

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    name = file_stem(analysis.name, taken)
    T = analysis.reference_temperature
    beta = math.inf if T == 0 else 1.0 / T
    figures = {
        "relaxation": lambda: relaxation(model, beta=beta),
        "spectrum": lambda: spectrum(model),
        "channels": lambda: channel_residuals(analysis),
        "currents": lambda: level_currents(model, analysis),
    }
    if any(r.gc_residual is not None for r in getattr(analysis, "fluctuations", ())):
        figures["fluctuations"] = lambda: fluctuation_theorem(model, analysis)
    written = []
    for key, make in figures.items():
        path = out / f"{name}_{key}.png"
        try:
            fig = make()
        except DetbalError as exc:
            if skipped is not None:
                skipped.append((path.name, str(exc).splitlines()[0]))
            continue
        fig.savefig(path)
        written.append(path)
    return written
