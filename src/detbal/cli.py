"""The ``detbal`` command (Typer + rich).

    detbal                                   analyse the default pair (merry-go-round and its
                                             one-bath thermal counterpart) side by side
    detbal analyze TARGET... [--json OUT] [--plots DIR] [--beta B] [-p KEY=VALUE] [--quiet] [--debug]
                                             TARGET = model file (*.toml) or zoo name
    detbal models                            list the zoo
    detbal check FILE.toml...                validate model files only
    detbal sweep TARGET [--grid NAME=SPEC]... [--workers N] [--scheduler ADDRESS] [--out PATH]
                 [--plots DIR] [--observable NAME]... [-p KEY=VALUE] [--batch N] [--quiet]
                                             parameter sweep on Dask (extra `sweep`); TARGET = a
                                             model file with a [sweep] section or a zoo name

Exit status: 0 ok, 2 bad input (one-line message on stderr; ``--debug`` shows the traceback),
1 unexpected failure. The report is rendered by :mod:`detbal._render` from
:class:`detbal.analysis.Analysis` objects; ``--json`` writes ``{"detbal": version, "analyses": [...]}``.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import List, Optional

import numpy as np
import typer

from . import __version__, config, models
from .app.analysis import analyze as analyze_model
from .app.plots import write_plots
from .app.render import render
from .errors import DetbalError, MemoryBudgetError
from .io.model_file import ModelFileError, check_model, load_model
from .models import DEFAULT

app = typer.Typer(add_completion=False, no_args_is_help=False, rich_markup_mode=None,
                  help="detbal — quantum detailed balance for open quantum systems.")

_STATE = {"debug": False, "quiet": False}


class _BadInput(Exception):
    pass


def _console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 110
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def _fail(exc: BaseException, code: int) -> None:
    """Print a one-line error on stderr and exit with ``code`` (re-raise under --debug)."""
    if _STATE["debug"]:
        raise exc
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    prefix = "error" if code == 2 else f"internal error ({type(exc).__name__})"
    if isinstance(exc, MemoryBudgetError):
        first = _memory_message(exc, first)
    sys.stderr.write(f"detbal: {prefix}: {first}\n")
    raise typer.Exit(code)


def _memory_message(exc: MemoryBudgetError, first: str) -> str:
    """The budget error for a command-line user: no Python call, a budget that would fit.

    A located model-file error keeps its file:line:column: key; otherwise the Python advice ("; use
    … instead") is replaced by what the command line offers."""
    if exc.what:
        first = (f"{exc.what} needs {config.format_bytes(exc.required)}, more than the memory budget "
                 f"{config.format_bytes(exc.budget)}")
    first = first.split("; use ")[0].replace("detbal.config.memory_budget", "the memory budget")
    need = max(1, math.ceil(1.25 * exc.required / 2 ** 30)) if exc.required else None
    raise_it = f"--memory-budget {need}GiB" if need else "--memory-budget SIZE"
    smaller = ("fewer sites or levels in the model file" if isinstance(exc, ModelFileError)
               else "a smaller model, e.g. fewer sites with -p n=…")
    return f"{first} — use {smaller}, or raise the limit: {raise_it}"


def _run(fn, *args, **kw):
    """Call fn, mapping bad input to exit 2 and anything else to exit 1."""

    try:
        return fn(*args, **kw)
    except typer.Exit:
        raise
    except (DetbalError, _BadInput) as exc:
        _fail(exc, 2)
    except KeyboardInterrupt:
        sys.stderr.write("detbal: interrupted\n")
        raise typer.Exit(130) from None
    except Exception as exc:  # noqa: BLE001 - the CLI boundary
        _fail(exc, 1)


def _parse_value(text: str):
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text.strip()


def _params(items: List[str]) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise _BadInput(f"--param must look like KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = _parse_value(v)
    return out


def _load(target: str, params: dict):
    """A model from a file path (anything ending in .toml or an existing file) or a zoo name."""

    p = Path(target)
    if target.endswith(".toml") or p.exists():
        if params:
            raise _BadInput(f"--param applies to zoo models only, not to the file {target!r} (edit the file)")
        return load_model(p)
    return models.get(target, **params)


def _analyze_all(targets: List[str], beta: Optional[float], params: dict, quiet: bool):
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


    err = _console(stderr=True)
    show = not quiet and err.is_terminal
    results = []
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not show) as progress:
        for target in targets:
            task = progress.add_task(f"{target}: loading", total=7)
            model = _load(target, params)

            stage = {"label": "loading"}

            def step(label, task=task, name=model.info.name, stage=stage):
                stage["label"] = label
                progress.update(task, description=f"{name}: {label}", advance=1)

            def iteration(count, residual, task=task, name=model.info.name, stage=stage):
                progress.update(task, description=f"{name}: {stage['label']}, iteration {count}, "
                                                  f"residual {residual:.1e}")

            results.append((model, analyze_model(model, beta=beta, step=step, iteration=iteration)))
            progress.update(task, completed=7)
    return results


def _check_outputs(json_out: Optional[str], plots: Optional[str]) -> None:
    """Fail before the analysis when --json cannot be written or --plots cannot be created."""
    if json_out:
        target = Path(json_out)
        if target.is_dir():
            raise _BadInput(f"cannot write --json file {json_out!r}: it is a directory")
        parent = target.parent if str(target.parent) else Path(".")
        if not parent.is_dir():
            raise _BadInput(f"cannot write --json file {json_out!r}: directory {str(parent)!r} does not exist")
        if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
            raise _BadInput(f"cannot write --json file {json_out!r}: permission denied")
    if plots:  # the directory is created now (it would be after the analysis anyway)
        try:
            Path(plots).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _BadInput(f"cannot create --plots directory {plots!r}: {exc.strerror or exc}") from None


def _write_json(path: str, analyses) -> None:

    doc = {"detbal": __version__, "analyses": [a.to_dict() for a in analyses]}
    try:
        Path(path).write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise _BadInput(f"cannot write --json file {path!r}: {exc.strerror or exc}") from None


def _write_plots(directory: str, results, quiet: bool) -> list:

    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _BadInput(f"cannot create --plots directory {directory!r}: {exc.strerror or exc}") from None
    files, skipped, taken = [], [], set()
    for model, analysis in results:
        files += write_plots(model, analysis, out, skipped, taken)
    if not quiet:
        for name, reason in skipped:
            _console(stderr=True).print(f"plot {name} not written: {reason}", markup=False)
    return files


def _parse_bytes(text: str) -> float:
    """A memory size: bytes, or a number with K/M/G/T (powers of 1024; "iB"/"B" optional), or "inf"."""
    t = text.strip().lower().replace(" ", "")
    if t in ("inf", "none", "unlimited"):
        return float("inf")
    for suffix in ("ib", "b"):
        if t.endswith(suffix):
            t = t[: -len(suffix)]
            break
    scale = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}.get(t[-1:], 1)
    try:
        value = float(t[:-1] if scale != 1 else t) * scale
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise _BadInput(f"--memory-budget must be a positive size such as 8GiB, 500M or inf, got {text!r}")
    return value


def _do_analyze(targets, json_out, plots, beta, param, quiet, memory_budget=None):
    if memory_budget is not None:
        config.memory_budget = _parse_bytes(memory_budget)

    if beta is not None and not beta > 0:
        raise _BadInput(f"--beta must be > 0 (inverse temperature of the reference Gibbs state; "
                        f"--beta inf is T = 0), got {beta}")
    _check_outputs(json_out, plots)

    results = _analyze_all(list(targets) or list(DEFAULT), beta, _params(param), quiet)
    analyses = [a for _, a in results]
    console = _console()
    render(console, analyses)
    if json_out:
        _write_json(json_out, analyses)
        if not quiet:
            console.print(f"JSON written to {json_out}")
    if plots:
        files = _write_plots(plots, results, quiet)
        if not quiet:
            console.print(f"{len(files)} plots written to {plots}/: " + ", ".join(f.name for f in files))


_DEBUG = typer.Option(False, "--debug", help="Show the full traceback on errors.")
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar and no file notices.")


@app.callback(invoke_without_command=True)
def _main(ctx: typer.Context, debug: bool = _DEBUG, quiet: bool = _QUIET) -> None:
    """Without a command: analyse the merry-go-round and its one-bath thermal counterpart."""
    _STATE["debug"], _STATE["quiet"] = debug, quiet
    if ctx.invoked_subcommand is None:
        _run(_do_analyze, [], None, None, None, [], quiet)


@app.command()
def analyze(
    targets: List[str] = typer.Argument(None, help="Model files (*.toml) or zoo names; default: the "
                                                  "merry-go-round and its thermal counterpart."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the analysis as JSON to this file."),
    plots: Optional[str] = typer.Option(None, "--plots", help="Write PNG figures into this directory."),
    beta: Optional[float] = typer.Option(None, "--beta", help="Inverse temperature of the reference Gibbs "
                                                              "state (default: the model's)."),
    param: List[str] = typer.Option(None, "--param", "-p", help="Zoo parameter KEY=VALUE (repeatable)."),
    memory_budget: Optional[str] = typer.Option(None, "--memory-budget", help="Memory limit of the analysis "
                                                 "(e.g. 8GiB, 500M, inf; default 2GiB)."),
    quiet: bool = _QUIET,
    debug: bool = _DEBUG,
) -> None:
    """Analyse models: detailed balance (KMS/GNS, Gibbs/steady state), currents, entropy production, gap."""
    _STATE["debug"] = _STATE["debug"] or debug
    _run(_do_analyze, targets or [], json_out, plots, beta, param or [], quiet or _STATE["quiet"], memory_budget)


@app.command("models")
def models_cmd() -> None:
    """List the model zoo with default parameters."""
    from rich.table import Table


    table = Table(title="detbal model zoo (use: detbal analyze NAME [-p KEY=VALUE])", show_lines=False)
    table.add_column("name", style="bold")
    table.add_column("model")
    table.add_column("defaults")
    for name in models.list():
        defaults = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in models.parameters(name).items())
        table.add_row(name, models.describe(name), defaults)
    _console().print(table)


@app.command()
def check(
    files: List[str] = typer.Argument(..., help="Model files to validate."),
    memory_budget: Optional[str] = typer.Option(None, "--memory-budget", help="Memory limit for the operators "
                                                 "built while checking (e.g. 8GiB, 500M, inf; default 2GiB)."),
    debug: bool = _DEBUG,
) -> None:
    """Validate model files (syntax, keys, expressions, Hermiticity, baths) without analysing them."""
    _STATE["debug"] = _STATE["debug"] or debug

    def _check():
        if memory_budget is not None:
            config.memory_budget = _parse_bytes(memory_budget)

        for f in files:
            info = check_model(f)          # validates without building the generator
            spec = info.spec
            baths = ", ".join(f"{b.name} (T = {b.temperature:g})" for b in spec.baths) or "none"
            jumps = len(spec.jumps)
            _console().print(f"ok: {f} — {info.name!r}, d = {info.dim}, baths: {baths}"
                             + (f", {jumps} jumps" if jumps else ""))

    _run(_check)


def _sweep_summary(ds, out: Optional[str]) -> None:
    from rich.markup import escape
    from rich.table import Table

    status = ds["status"].values
    counts = {k: int((status == k).sum()) for k in ("ok", "error", "lost", "pending")}
    grid = " × ".join(f"{d} ({n})" for d, n in ds["status"].sizes.items())
    table = Table(title=f"sweep of {ds.attrs['model_name']!r}: {grid} = {status.size} points", show_lines=False)
    table.add_column("observable", style="bold")
    table.add_column("min", justify="right")
    table.add_column("max", justify="right")
    table.add_column("points computed", justify="right")
    for name in ds.data_vars:
        if name in ("status", "error", "seconds"):
            continue
        for b in (list(ds["bath"].values) if "bath" in ds[name].dims else [None]):
            v = ds[name].sel(bath=b).values if b is not None else ds[name].values
            finite = v[np.isfinite(v)]
            row = (f"{finite.min():.6g}", f"{finite.max():.6g}") if finite.size else ("—", "—")
            table.add_row(escape(name + (f"[{b}]" if b is not None else "")), *row, str(finite.size))
    console = _console()
    console.print(table)
    line = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    console.print(f"points: {line}; {ds.attrs['points_evaluated']} evaluated in {ds.attrs['seconds']:.2f} s "
                  f"(batches of {ds.attrs['batch']}; {float(ds['seconds'].sum()):.2f} s of evaluation in all)")
    errors = sorted({str(e) for e in ds["error"].values.ravel() if str(e)})
    for e in errors[:5]:
        console.print(f"  failed: {e}", markup=False)
    if len(errors) > 5:
        console.print(f"  … and {len(errors) - 5} other messages (see the `error` variable)")
    if out:
        console.print(f"results written to {out}")


def _do_sweep(target, grid, observable, workers, scheduler, out, plots, param, batch, quiet):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .app.sweep import sweep as run_sweep
    from .app.sweep_plots import write_sweep_plots
    from .app.sweep_spec import parse_grid, sweep_spec
    from .app.sweep_store import output_format

    if workers is not None and workers < 0:
        raise _BadInput(f"--workers must be ≥ 0 (0: run in this process), got {workers}")
    if scheduler and workers is not None:
        raise _BadInput("give either --scheduler (an existing cluster) or --workers (a local one), not both")
    if batch is not None and batch < 1:
        raise _BadInput(f"--batch must be ≥ 1, got {batch}")
    axes = dict(parse_grid(g) for g in grid or [])
    params = _params(param)
    spec = sweep_spec(target, axes or None, list(observable) or None, params or None)
    if out:
        output_format(out)
        parent = Path(out).parent if str(Path(out).parent) else Path(".")
        if not parent.is_dir():
            raise _BadInput(f"cannot write --out {out!r}: directory {str(parent)!r} does not exist")
    _check_outputs(None, plots)
    err = _console(stderr=True)
    show = not quiet and err.is_terminal
    with Progress(TextColumn(f"sweep {spec.name}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not show) as progress:
        task = progress.add_task("points", total=spec.size)
        ds = run_sweep(spec, client=scheduler or None, workers=workers, out=out, batch=batch,
                       progress=lambda done, total: progress.update(task, completed=done))
    _sweep_summary(ds, out)
    if plots:
        files = write_sweep_plots(ds, plots)
        if not quiet:
            _console().print(f"{len(files)} plots written to {plots}/")


@app.command("sweep")
def sweep_cmd(
    target: str = typer.Argument(..., help="Model file with a [sweep] section, or a zoo model name."),
    grid: List[str] = typer.Option(None, "--grid", "-g", help="Axis NAME=start:stop:num | start:stop:num:log | "
                                                             "v1,v2,... (repeatable; adds to or replaces "
                                                             "the file's [sweep.grid])."),
    observable: List[str] = typer.Option(None, "--observable", "-o", help="Observable to record (repeatable; "
                                                                         "default: the file's or all)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Local Dask worker processes (default: "
                                                                       "cores; 0 = no Dask, this process)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Address of a running Dask scheduler "
                                                                     "(tcp://host:port)."),
    out: Optional[str] = typer.Option(None, "--out", help="Result file (.nc, .zarr or .csv); a re-run with the "
                                                         "same file resumes."),
    plots: Optional[str] = typer.Option(None, "--plots", help="Write one PNG per observable into this directory."),
    param: List[str] = typer.Option(None, "--param", "-p", help="Fixed zoo parameter KEY=VALUE (repeatable)."),
    batch: Optional[int] = typer.Option(None, "--batch", help="Points per Dask task (default: measured)."),
    quiet: bool = _QUIET,
    debug: bool = _DEBUG,
) -> None:
    """Sweep a model over a grid of parameters (Dask; pip install 'detbal[sweep]')."""
    _STATE["debug"] = _STATE["debug"] or debug
    _run(_do_sweep, target, grid or [], observable or [], workers, scheduler, out, plots, param or [], batch,
         quiet or _STATE["quiet"])


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
