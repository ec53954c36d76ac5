"""Figures of a sweep: one line plot (one axis) or heat map (two or more axes) per observable.

The region where detailed balance w.r.t. Gibbs is broken (``kms_holds`` = 0) is shaded on line
plots and hatched on heat maps. With more than two axes the
heat map shows the first two, the others at their first value (said in the title). Per-bath
observables get one figure per bath. Points where the observable was not computed are marked ×.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .plots import _figure, _title, file_stem

__all__ = ["sweep_figures", "write_sweep_plots"]

_SKIP = ("status", "error", "seconds")


def _axis(ds, dim: str):
    """(label, values) for a dimension: its first coordinate (a zipped dimension has several)."""
    names = [n for n in ds.coords if ds[n].dims == (dim,)]
    name = names[0] if names else dim
    values = np.asarray(ds[name].values, dtype=float) if names else np.arange(ds.sizes[dim], dtype=float)
    return (name if len(names) <= 1 else f"{dim} ({', '.join(names)})"), values


def _slice(ds, var, dims: list):
    """Values of ``var`` over ``dims`` with every other sweep dimension at index 0, and the note."""
    others = {d: 0 for d in var.dims if d not in dims}
    note = ", ".join(f"{d} = {_axis(ds, d)[1][0]:g}" for d in others if d != "bath")
    return var.isel(others).transpose(*dims), note


def _line(ds, var, title: str):
    fig, ax = _figure()
    dim = var.dims[0]
    label, x = _axis(ds, dim)
    ax.plot(x, np.asarray(var.values, dtype=float), "o-", ms=3, lw=1)
    if "kms_holds" in ds:
        broken = np.asarray(_slice(ds, ds["kms_holds"], [dim])[0].values) == 0
        for i in np.flatnonzero(broken):
            lo = (x[i - 1] + x[i]) / 2 if i > 0 else x[i]
            hi = (x[i] + x[i + 1]) / 2 if i + 1 < len(x) else x[i]
            ax.axvspan(lo, hi, color="tab:red", alpha=0.12, lw=0)
        title += " (shaded: detailed balance broken)" if broken.any() else ""
    failed = ~np.isfinite(np.asarray(var.values, dtype=float))       # this observable not computed there
    if failed.any():
        ax.plot(x[failed], np.full(failed.sum(), 0.03), "kx", transform=ax.get_xaxis_transform(),
                label="not computed (see `error`)")
        ax.legend(fontsize=8)
    ax.set_xlabel(label)
    ax.set_ylabel(var.name)
    _title(ax, title)
    return fig


def _edges(c: np.ndarray) -> np.ndarray:
    """Cell edges around centres ``c`` (midpoints; half a step beyond the ends)."""
    if len(c) == 1:
        return np.array([c[0] - 0.5, c[0] + 0.5])
    mid = (c[1:] + c[:-1]) / 2
    return np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])


def _hatch(ax, x, y, mask) -> None:
    """Hatch the heat-map cells where ``mask`` (shape (len(y), len(x))) is true."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    ex, ey = _edges(x), _edges(y)
    cells = [Rectangle((ex[j], ey[i]), ex[j + 1] - ex[j], ey[i + 1] - ey[i]) for i, j in zip(*np.nonzero(mask))]
    ax.add_collection(PatchCollection(cells, facecolor="none", edgecolor="white", hatch="//", linewidth=0))


def _heat(ds, var, dims: list, title: str):
    fig, ax = _figure()
    (ylab, y), (xlab, x) = _axis(ds, dims[0]), _axis(ds, dims[1])
    z = np.asarray(var.values, dtype=float)
    mesh = ax.pcolormesh(x, y, np.ma.masked_invalid(z), shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label=var.name)
    if "kms_holds" in ds:
        broken = np.asarray(_slice(ds, ds["kms_holds"], dims)[0].values) == 0
        if broken.any():
            _hatch(ax, x, y, broken)
            title += " (hatched: detailed balance broken)"
    failed = ~np.isfinite(z)
    if failed.any():
        yy, xx = np.nonzero(failed)
        ax.plot(x[xx], y[yy], "rx", ms=6, label="not computed (see `error`)")
        ax.legend(fontsize=8)
    ax.set_xlabel(xlab)
    ax.set_ylabel(ylab)
    _title(ax, title)
    return fig


def sweep_figures(ds) -> dict:
    """{file stem: matplotlib Figure} for every observable of a sweep Dataset (module docstring)."""
    sweep_dims = list(ds["status"].dims)
    shown = [d for d in sweep_dims if ds.sizes[d] > 1][:2] or sweep_dims[:1]
    figures = {}
    for name in ds.data_vars:
        if name in _SKIP:
            continue
        var = ds[name]
        for b in (list(ds["bath"].values) if "bath" in var.dims else [None]):
            v = var.sel(bath=b) if b is not None else var
            v, note = _slice(ds, v, shown)
            label = f"{name}[{b}]" if b is not None else name
            title = f"{ds.attrs.get('model_name', '')}: {label}" + (f" at {note}" if note else "")
            figures[file_stem(f"sweep_{label}")] = _line(ds, v, title) if len(shown) == 1 else \
                _heat(ds, v, shown, title)
    return figures


def write_sweep_plots(ds, directory) -> list[Path]:
    """Save :func:`sweep_figures` as PNG files in ``directory``; returns the written paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, fig in sweep_figures(ds).items():
        path = out / f"{stem}.png"
        fig.savefig(path)
        written.append(path)
    return written
