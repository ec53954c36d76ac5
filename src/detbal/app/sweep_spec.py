"""What a parameter sweep runs: the model source, the grid axes and the observables (:class:`SweepSpec`).

A model file sweeps by naming parameters in its values and adding a ``[sweep]`` section::

    [[bath]]
    name = "hot"
    temperature = "${T_hot}"            # the whole value: replaced by the number
    coupling = "X0"
    ...
    [system]
    hamiltonian = "${omega} * Z0"       # inside an expression: replaced by "(value)", then parsed

    [sweep]
    observables = ["kms_residual", "kms_holds", "heat_current"]   # optional (default: all defaults)
    batch = 20                                                       # optional points per task

    [sweep.grid]                        # one dimension per key (outer product)
    T_hot = { linspace = [1.0, 10.0, 40] }   # numpy.linspace(start, stop, num)
    T_cold = [0.5, 1.0]                      # explicit values
    alpha = { logspace = [-3, -1, 5] }       # 10**linspace(-3, -1, 5) (numpy.logspace)
    gamma = { geomspace = [1e-3, 1e-1, 5] }  # log-spaced from start to stop

    [sweep.zip.diagonal]                # zipped axes: one dimension "diagonal" along which
    T_left = [1.0, 2.0, 3.0]            # all keys advance together (equal lengths)
    T_right = [0.5, 1.0, 1.5]

Templating is explicit and parsed, never evaluated: a placeholder is ``${name}`` with ``name`` an
axis of the grid; it is substituted into the parsed TOML data (never into the text), a whole
string value ``"${T}"`` becoming the number itself and a placeholder inside an operator
expression becoming ``(value)`` before the expression parser reads it. Zoo models sweep their
keyword parameters (:func:`zoo_spec`; ``detbal sweep merry_go_round --grid T_hot=1:10:40``).

Errors are :class:`~detbal.io.model_file.ModelFileError`: file, line, column and key, e.g.
``m.toml:23:1: sweep.grid.T_hot: expected a list or { linspace = [start, stop, num] }``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from .. import models
from ..errors import InputError
from ..io.model_file import ModelFileError, read_model_text, spec_from_data
from ..io.toml import Locator
from ..models.spec import SpecError, build, format_key, validate
from .observables import DEFAULT_OBSERVABLES, observable

__all__ = ["MAX_POINTS", "Axis", "SweepSpec", "file_spec", "parse_grid", "sweep_spec", "zoo_spec"]

#: a grid larger than this is refused: the points' records are held in memory (measured ≈ 4.5 KB
#: each with the default observables), so 10⁶ points need a few GB; split larger sweeps
MAX_POINTS = 1_000_000
_PLACEHOLDER = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SWEEP_KEYS = {"grid", "zip", "observables", "batch"}


@dataclass(frozen=True)
class Axis:
    """One dimension of the grid: ``dim`` and the coordinates that advance along it.

    Attributes:
        dim: dimension name (the parameter for a plain axis, the zip name for zipped axes).
        coords: ((parameter, values), ...) with ``values`` a tuple of numbers, all of one length.
    """

    dim: str
    coords: tuple

    def __len__(self) -> int:
        return len(self.coords[0][1])

    @property
    def names(self) -> tuple:
        return tuple(name for name, _ in self.coords)


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: model source, grid axes (outer product) and observables.

    Attributes:
        kind: "file" (a model file with placeholders) or "zoo" (a zoo function).
        model: for "file", the parsed model data without ``[sweep]`` (placeholders unsubstituted);
            for "zoo", {"name": zoo name, "fixed": {parameter: value}}.
        axes: tuple of :class:`Axis`; points run over their outer product in C order.
        observables: names in :mod:`detbal.app.observables`.
        batch: points per Dask task, or None (chosen from the measured cost of one point).
        name: the model's name; path: the file read (for messages) or "".
        text: the model file's text (kept in the result's attributes) or "".
        templated: key paths whose values contain a placeholder (errors there are per point).
    """

    kind: str
    model: dict
    axes: tuple
    observables: tuple
    batch: int | None = None
    name: str = ""
    path: str = ""
    text: str = ""
    templated: tuple = field(default=(), compare=False)

    @property
    def shape(self) -> tuple:
        return tuple(len(a) for a in self.axes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.axes else 1

    @property
    def parameters(self) -> tuple:
        return tuple(n for a in self.axes for n in a.names)

    def point(self, flat: int) -> dict:
        """Parameters {name: value} of grid point ``flat`` (C order over the axes)."""
        index = np.unravel_index(flat, self.shape) if self.axes else ()
        return {name: values[i] for a, i in zip(self.axes, index) for name, values in a.coords}

    def fingerprint(self) -> str:
        """sha256 of the model source and the observables (not the grid): finished points of a
        sweep with the same fingerprint are reused by a resumed or extended sweep."""
        doc = json.dumps({"kind": self.kind, "model": self.model, "observables": list(self.observables)},
                         sort_keys=True, default=repr)
        return hashlib.sha256(doc.encode()).hexdigest()

    def build_model(self, params: dict):
        """The :class:`~detbal.models.Model` at one grid point (raises InputError/SpecError)."""
        if self.kind == "zoo":
            return models.get(self.model["name"], **self.model["fixed"], **params)
        return build(spec_from_data(substitute(self.model, params), self.name))


# -- templating --------------------------------------------------------------------------------------
def _text_value(v) -> str:
    return repr(float(v)) if not isinstance(v, (bool, np.bool_)) else str(bool(v)).lower()


def substitute(data, params: dict):
    """Copy of the parsed TOML ``data`` with every ``${name}`` replaced by ``params[name]``: a
    whole-string placeholder becomes the value itself, one inside a string becomes "(value)"."""
    if isinstance(data, dict):
        return {k: substitute(v, params) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute(v, params) for v in data]
    if isinstance(data, str) and "${" in data:
        whole = _PLACEHOLDER.fullmatch(data.strip())
        if whole:
            return params[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: f"({_text_value(params[m.group(1)])})", data)
    return data


def _placeholders(data, path: tuple, found: dict) -> None:
    """found[key path] = (names used, offset of a malformed '$' or None)."""
    if isinstance(data, dict):
        for k, v in data.items():
            _placeholders(v, path + (k,), found)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _placeholders(v, path + (i,), found)
    elif isinstance(data, str) and "${" in data:
        names = [m.group(1) for m in _PLACEHOLDER.finditer(data)]
        bad = next((k for k in range(len(data)) if data.startswith("${", k) and not _PLACEHOLDER.match(data, k)),
                   None)
        found[path] = (names, bad)


# -- grids --------------------------------------------------------------------------------------------
def _number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)


def _values(raw, key: tuple, unique: bool = True) -> tuple:
    """Axis values from TOML data: a list, or {linspace|logspace|geomspace = [start, stop, num]}
    (``unique``: each value once — not required of one axis of a zip, only of its tuples)."""
    form = "a non-empty list of finite numbers or { linspace | logspace | geomspace = [start, stop, num] }"
    if isinstance(raw, list):
        if not raw or not all(_number(v) for v in raw):
            raise SpecError(f"expected {form}, got {raw!r}", key)
        if unique and len(set(raw)) != len(raw):
            raise SpecError(f"repeated values in {raw!r} (each grid point once)", key)
        return tuple(int(v) if isinstance(v, Integral) else float(v) for v in raw)
    if isinstance(raw, dict) and len(raw) == 1:
        (kind, args), = raw.items()
        if kind in ("linspace", "logspace", "geomspace"):
            ok = isinstance(args, list) and len(args) == 3 and all(_number(v) for v in args[:2]) \
                and isinstance(args[2], Integral) and not isinstance(args[2], bool) and args[2] >= 1
            if not ok:
                raise SpecError(f"{kind} takes [start, stop, num] with finite numbers and an integer num ≥ 1, "
                                f"got {args!r}", key + (kind,))
            start, stop, num = float(args[0]), float(args[1]), args[2]
            if kind == "geomspace" and not (start > 0 and stop > 0):
                raise SpecError(f"geomspace needs start > 0 and stop > 0, got {args!r}", key + (kind,))
            fn = {"linspace": np.linspace, "logspace": np.logspace, "geomspace": np.geomspace}[kind]
            values = tuple(float(v) for v in fn(start, stop, num))
            if not all(math.isfinite(v) for v in values):
                raise SpecError(f"{kind}{args!r} overflows to non-finite values", key + (kind,))
            if unique and len(set(values)) != len(values):
                raise SpecError(f"{kind}{args!r} repeats a value (start = stop with num > 1?)", key + (kind,))
            return values
    raise SpecError(f"expected {form}, got {raw!r}", key)


def _listed(values):
    """A Python-side grid (list, tuple, numpy array) as a list; anything else as is (then refused)."""
    return list(values) if isinstance(values, (list, tuple, np.ndarray, range)) else values


def parse_grid(text: str, what: str = "--grid") -> tuple[str, tuple]:
    """``NAME=SPEC`` of the command line → (name, values). SPEC: ``start:stop:num`` (linspace),
    ``start:stop:num:log`` (log-spaced, start, stop > 0), ``v1,v2,...`` or one value ``v``.

    >>> parse_grid("T_hot=1:10:4")
    ('T_hot', (1.0, 4.0, 7.0, 10.0))
    >>> parse_grid("n=3,4")
    ('n', (3, 4))
    """
    name, sep, body = text.partition("=")
    name, body = name.strip(), body.strip()
    if not sep or not _NAME.fullmatch(name) or not body:
        raise InputError(f"{what} must look like NAME=start:stop:num, NAME=start:stop:num:log or NAME=v1,v2,...; "
                         f"got {text!r}")

    def num(s: str):
        try:
            return int(s)
        except ValueError:
            try:
                v = float(s)
            except ValueError:
                raise InputError(f"{what} {name}: {s.strip()!r} is not a number (in {text!r})") from None
            if not math.isfinite(v):
                raise InputError(f"{what} {name}: values must be finite, got {s.strip()!r}") from None
            return v

    parts = body.split(":")
    try:
        if len(parts) == 1:
            return name, _values([num(s) for s in body.split(",")], (name,))
        if len(parts) in (3, 4) and (len(parts) == 3 or parts[3].strip() == "log"):
            start, stop, count = num(parts[0]), num(parts[1]), num(parts[2])
            kind = "geomspace" if len(parts) == 4 else "linspace"
            return name, _values({kind: [start, stop, count]}, (name,))
    except SpecError as exc:
        raise InputError(f"{what} {name}: {exc.reason}") from None
    raise InputError(f"{what} {name}: expected start:stop:num, start:stop:num:log or v1,v2,..., got {body!r}")


def _grid_axes(section: dict) -> list:
    axes = []
    grid = section.get("grid", {})
    if not isinstance(grid, dict):
        raise SpecError("[sweep.grid] must be a table of axes (NAME = [values] or { linspace = [...] })",
                        ("sweep", "grid"))
    for name, raw in grid.items():
        axes.append(Axis(name, ((name, _values(raw, ("sweep", "grid", name))),)))
    zipped = section.get("zip", {})
    if not isinstance(zipped, dict) or not all(isinstance(v, dict) for v in zipped.values()):
        raise SpecError("[sweep.zip.NAME] tables hold axes that advance together", ("sweep", "zip"))
    for dim, table in zipped.items():
        if not table:
            raise SpecError("a zipped dimension needs at least one axis", ("sweep", "zip", dim))
        coords = tuple((n, _values(raw, ("sweep", "zip", dim, n), unique=False)) for n, raw in table.items())
        lengths = {n: len(v) for n, v in coords}
        if len(set(lengths.values())) > 1:
            bad = next(n for n in lengths if lengths[n] != len(coords[0][1]))
            raise SpecError(f"zipped axes must have equal lengths, got {lengths}", ("sweep", "zip", dim, bad))
        if dim in grid:
            raise SpecError(f"dimension name {dim!r} is also a [sweep.grid] axis", ("sweep", "zip", dim))
        if len(set(zip(*(v for _, v in coords)))) != len(coords[0][1]):
            raise SpecError("zipped axes repeat a point (each tuple of values once)", ("sweep", "zip", dim))
        axes.append(Axis(dim, coords))
    return axes


def _check_axes(axes: list, where: tuple) -> None:
    seen: dict = {}
    for a in axes:
        for n in (a.dim, *a.names):
            if n in seen and seen[n] is not a:
                raise SpecError(f"name {n!r} is used twice in the grid", where)
            seen[n] = a
    size = int(np.prod([len(a) for a in axes], dtype=np.float64)) if axes else 0
    if not axes:
        raise SpecError("the sweep has no axes: add [sweep.grid] NAME = [values] (or --grid NAME=...)", where)
    if size > MAX_POINTS:
        raise SpecError(f"the grid has {size:.3g} points, more than {MAX_POINTS:.0e}; split the sweep", where)


def _observables(section: dict, key: tuple) -> tuple:
    names = section.get("observables", list(DEFAULT_OBSERVABLES))
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise SpecError(f"expected a non-empty list of observable names, got {names!r}", key)
    for k, n in enumerate(names):
        try:
            observable(n)
        except InputError as exc:
            raise SpecError(str(exc), key + (k,)) from None
    if len(set(names)) != len(names):
        raise SpecError(f"an observable is listed twice in {names!r}", key)
    return tuple(names)


# -- building the spec ---------------------------------------------------------------------------------
def _from_data(data: dict, name: str, extra_axes: list, observables) -> SweepSpec:
    section = data.pop("sweep", {})
    if not isinstance(section, dict):
        raise SpecError("[sweep] must be a table", ("sweep",))
    for key in section:
        if key not in _SWEEP_KEYS:
            raise SpecError(f"unknown key {key!r}; allowed: {', '.join(sorted(_SWEEP_KEYS))}", ("sweep", key))
    batch = section.get("batch")
    if batch is not None and (not isinstance(batch, int) or isinstance(batch, bool) or batch < 1):
        raise SpecError(f"batch must be an integer ≥ 1 (points per task), got {batch!r}", ("sweep", "batch"))
    axes = _grid_axes(section)
    grid_names = set(section.get("grid", {}))
    axes = [a for a in axes if a.dim not in {e.dim for e in extra_axes}] + list(extra_axes)  # --grid wins
    _check_axes(axes, ("sweep",))
    names = {n for a in axes for n in a.names}
    found: dict = {}
    _placeholders(data, (), found)
    used = set()
    for path, (refs, bad) in found.items():
        if bad is not None:
            raise SpecError("malformed placeholder: write ${NAME} with NAME an axis of [sweep.grid]", path, bad)
        for r in refs:
            if r not in names:
                raise SpecError(f"placeholder ${{{r}}} names no grid axis; axes: {', '.join(sorted(names)) or 'none'}",
                                path, _placeholder_offset(data, path, r))
        used.update(refs)
    for a in axes:
        for n in a.names:
            if n not in used:
                where = () if a in extra_axes else (("sweep", "grid", n) if a.dim == n and n in grid_names
                                                    else ("sweep", "zip", a.dim, n))
                raise SpecError(f"axis {n!r} is not used by the model: write \"${{{n}}}\" where it belongs",
                                where)
    obs = tuple(observables) if observables else _observables(section, ("sweep", "observables"))
    spec = SweepSpec("file", data, tuple(axes), obs, batch, name, templated=tuple(found))
    _check_first_point(spec)
    return spec


def _placeholder_offset(data: dict, path: tuple, name: str) -> int | None:
    value = data
    for k in path:
        value = value[k]
    m = re.search(r"\$\{\s*" + re.escape(name) + r"\s*\}", value) if isinstance(value, str) else None
    return m.start() if m else None


def _check_first_point(spec: SweepSpec) -> None:
    """Validate the model at the first grid point without building it: an error at a key that
    holds no placeholder is an error of the file (raised); one at a templated key depends on the
    values and is recorded per point during the sweep."""
    try:
        validate(spec_from_data(substitute(spec.model, spec.point(0)), spec.name))
    except SpecError as exc:
        key = exc.key
        if any(p[:len(key)] == key or key[:len(p)] == p for p in spec.templated):
            return
        raise


def file_spec(path, grid: dict | None = None, observables=None) -> SweepSpec:
    """The sweep of a model file with a ``[sweep]`` section (module docstring).

    Args:
        path: the model file.
        grid: optional {parameter: values} overriding or adding axes of ``[sweep.grid]``.
        observables: optional names replacing ``[sweep] observables``.

    Raises:
        ModelFileError: unreadable file, invalid TOML, malformed ``[sweep]`` or model — the
            message names the file, line, column and key.
    """
    text, p = read_model_text(path)
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelFileError(p, f"invalid TOML: {exc}") from None
    try:
        extra = [Axis(n, ((n, _values(_listed(v), (n,))),)) for n, v in (grid or {}).items()]
        if observables is not None:
            _observables({"observables": list(observables)}, ("observables",))
        spec = _from_data(data, Path(p).stem, extra, observables)
    except SpecError as exc:
        loc = Locator(text).find(exc.key, exc.position) if exc.key else None
        line, col = loc if loc else (None, None)
        raise ModelFileError(p, exc.reason, format_key(exc.key), line, col) from None
    name = spec.model.get("system", {}).get("name", Path(p).stem)
    return SweepSpec(spec.kind, spec.model, spec.axes, spec.observables, spec.batch, str(name), p, text,
                     spec.templated)


def zoo_spec(name: str, grid: dict, fixed: dict | None = None, observables=None, batch: int | None = None
             ) -> SweepSpec:
    """The sweep of zoo model ``name`` over keyword parameters: ``grid`` = {parameter: values}
    (outer product), ``fixed`` = other parameters.

    Raises:
        InputError: unknown model, parameter or observable; a parameter both fixed and swept.
    """
    defaults = models.parameters(name)
    fixed = dict(fixed or {})
    if not grid:
        raise InputError(f"sweeping zoo model {name!r} needs a grid: --grid NAME=start:stop:num with NAME one of "
                         + ", ".join(defaults))
    axes = []
    for n, values in grid.items():
        if n not in defaults:
            raise InputError(f"model {name!r} has no parameter {n!r}; parameters: " + ", ".join(defaults))
        if n in fixed:
            raise InputError(f"parameter {n!r} is both fixed and swept")
        try:
            axes.append(Axis(n, ((n, _values(_listed(values), (n,))),)))
        except SpecError as exc:
            raise InputError(f"grid axis {n!r}: {exc.reason}") from None
    try:
        _check_axes(axes, ())
        obs = _observables({"observables": list(observables)} if observables else {}, ("observables",))
    except SpecError as exc:
        raise InputError(exc.reason) from None
    key = next(k for k in models.list() if k == str(name).strip().lower().replace("-", "_"))
    models.get(key, **fixed)  # fixed parameters checked once, with their message
    return SweepSpec("zoo", {"name": key, "fixed": fixed}, tuple(axes), obs, batch, key)


def sweep_spec(target, grid: dict | None = None, observables=None, fixed: dict | None = None) -> SweepSpec:
    """A :class:`SweepSpec` from a model file (``*.toml`` or an existing path) or a zoo name.

    Args:
        target: model file path or zoo model name (or a SweepSpec, returned as is).
        grid: {parameter: values}: for zoo models the axes; for files, axes added to or
            overriding ``[sweep.grid]``.
        observables: names of observables (default: the file's, or the default set).
        fixed: zoo parameters held fixed (zoo only).
    """
    if isinstance(target, SweepSpec):
        return target
    p = Path(str(target))
    if str(target).endswith(".toml") or p.exists():
        if fixed:
            raise InputError("fixed parameters (`fixed`, --param) apply to zoo models only; edit the model file")
        return file_spec(p, grid, observables)
    return zoo_spec(str(target), grid or {}, fixed, observables)
