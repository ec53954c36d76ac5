"""Model files (TOML): :func:`load_model`, :func:`save_model`, :func:`dumps`.

Format (the README's "Model files" section gives every key)::

    [system]
    name = "two-bath qubit"           # optional (default: the file name)
    description = "..."               # optional
    sites = 1                         # qubits; or `levels = 3` for one d-level system
    hamiltonian = "0.5 * Z0"          # operator expression (detbal.expressions; parsed, never eval'd)
    conserved = "Z0"                  # optional: a conserved quantity, diagonal (H is diagonalised
                                      # sector by sector; [H, Q] = 0 is checked)

    [[bath]]                          # one Davies channel per bath
    name = "hot"                      # optional (default bath0, bath1, ...)
    temperature = 2.0                 # T ≥ 0 (0 = zero temperature); or `beta = 0.5`
    spectral_density = { kind = "ohmic", alpha = 0.01, cutoff = 10.0 }
    coupling = "X0"                   # Hermitian operator S, H_I = S ⊗ B
    local_hamiltonian = "0.5 * Z0"    # optional: local master equation, the jumps are the Davies
                                      # jumps of this H_0 instead of the system Hamiltonian

    [[jump]]                          # optional extra GKSL channel γ(AρA† − ½{A†A, ρ})
    name = "pump"
    operator = "Sp0"
    rate = 0.01

    [generator]                       # optional
    lamb_shift = false

    [sampler]                         # instead of baths and jumps: an exact Gibbs sampler
    kind = "ckg"                      # "ckg" (Chen–Kastoryano–Gilyén) or "dll" (Ding–Li–Lin)
    temperature = 1.0                 # T > 0; or `beta = 1.0`
    jumps = ["X0", "Z0", "X1", "Z1"]  # operator expressions (closed under adjoint by the sampler)
    weight = "metropolis"             # optional: CKG metropolis|glauber|gaussian, DLL gaussian|metropolis|glauber
    filter_width = 1.0                # optional: CKG σ_E (default 1/β), DLL width (default √2/β)

    [analysis]                        # optional: reference Gibbs state of the DB test
    temperature = 1.0                 # (default: the coldest bath); or `beta = 1.0`

    [machine]                         # optional: run the model as a heat machine
    kind = "engine"                   # "engine" | "refrigerator" (steady state) | "otto" (cycle)
    hot = "hot"                       # channel roles; engine/refrigerator also `work` (bath or
    cold = "cold"                     # jump); otto: `compression` (cold stroke H_c = c·H) and
                                      # optional `stroke_time_hot`, `stroke_time_cold`

    [parameters]                      # optional, informative (written for zoo models)

Spectral densities: ``ohmic`` (alpha, cutoff), ``power_law`` (alpha, s, cutoff),
``drude_lorentz`` (lam, gamma). Every error is a :class:`ModelFileError` (an ``InputError``)
whose one-line message names the file, the line and column, the key and the problem, e.g.
``m.toml:4:29: system.hamiltonian: unknown operator 'Q0' (...)``. For expression errors the
column points at the offending character inside the string on its line in the file.

Parsing uses the standard library's ``tomllib`` (``tomli`` on Python 3.10); writing uses the small
writer :func:`dumps`, whose output loads back to an identical :class:`~detbal.models.ModelSpec`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from .toml import Locator, bare_key, scalar
from ..errors import InputError, MemoryBudgetError
from ..models.spec import (SPECTRAL_KINDS, BathSpec, JumpSpec, Model, ModelInfo, ModelSpec, SamplerSpec,
                           SpecError, build, format_key, validate)

__all__ = ["load_model", "check_model", "save_model", "loads_model", "spec_from_data", "model_from_dict", "dumps",
           "ModelFileError", "read_model_text"]

_TABLES = {
    "system": ({"name", "description", "sites", "levels", "hamiltonian", "conserved"}, {"hamiltonian"}),
    "generator": ({"lamb_shift"}, set()),
    "analysis": ({"temperature", "beta"}, set()),
    "bath": ({"name", "temperature", "beta", "spectral_density", "coupling", "local_hamiltonian"},
             {"coupling", "spectral_density"}),
    "machine": ({"kind", "hot", "cold", "work", "compression", "stroke_time_hot", "stroke_time_cold"}, {"kind"}),
    "jump": ({"name", "operator", "rate"}, {"operator", "rate"}),
    "sampler": ({"kind", "temperature", "beta", "jumps", "weight", "filter_width"}, {"kind", "jumps"}),
}
_ARRAYS = {"bath", "jump"}


class ModelFileError(InputError):
    """Invalid model file. Attributes: path, line, column (1-based, or None), key (dotted path), reason."""

    def __init__(self, path: str, reason: str, key: str = "", line: int | None = None,
                 column: int | None = None):
        self.path, self.reason, self.key, self.line, self.column = path, reason, key, line, column
        loc = path + (f":{line}:{column}" if line is not None else "")
        super().__init__(f"{loc}: {key + ': ' if key else ''}{reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason, self.key, self.line, self.column))


class ModelFileMemoryError(ModelFileError, MemoryBudgetError):
    """A model file whose model exceeds the memory budget, located at the entry that sets the size."""

    def __init__(self, path: str, reason: str, key: str = "", line: int | None = None,
                 column: int | None = None, required: int = 0, budget: int = 0):
        ModelFileError.__init__(self, path, reason, key, line, column)
        self.required, self.budget, self.what = int(required), int(budget), ""

    def __reduce__(self):
        return (type(self), (self.path, self.reason, self.key, self.line, self.column, self.required, self.budget))


# -- validation: TOML data → ModelSpec ---------------------------------------------------------------
def _fail(reason: str, key: tuple, position: int | None = None):
    raise SpecError(reason, key, position)


def _type_name(v) -> str:
    return {bool: "boolean", int: "integer", float: "float", str: "string", dict: "table",
            list: "array"}.get(type(v), type(v).__name__)


def _get(table: dict, key: str, kind: str, path: tuple, default=None):
    if key not in table:
        return default
    v = table[key]
    ok = {"str": isinstance(v, str), "int": isinstance(v, int) and not isinstance(v, bool),
          "number": isinstance(v, (int, float)) and not isinstance(v, bool), "bool": isinstance(v, bool),
          "table": isinstance(v, dict)}[kind]
    if not ok:
        want = {"str": "a string", "int": "an integer", "number": "a number", "bool": "true or false",
                "table": "a table"}[kind]
        _fail(f"expected {want}, got {_type_name(v)} {v!r}", path + (key,))
    return float(v) if kind == "number" else v


def _check_keys(table: dict, allowed: set, required: set, path: tuple) -> None:
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            _fail(f"unknown key {key!r}{hint}; allowed: {', '.join(sorted(allowed))}", path + (key,))
    for key in sorted(required):
        if key not in table:
            _fail(f"missing required key {key!r}", path)


def _temperature(table: dict, path: tuple, required: bool) -> float | None:
    if "temperature" in table and "beta" in table:
        _fail("give either `temperature` or `beta`, not both", path + ("beta",))
    if "beta" in table:
        b = _get(table, "beta", "number", path)
        if not b > 0 or math.isnan(b):
            _fail(f"beta must be > 0 (inverse temperature; use beta = inf for T = 0), got {b!r}",
                  path + ("beta",))
        return 0.0 if math.isinf(b) else 1.0 / b
    if "temperature" in table:
        t = _get(table, "temperature", "number", path)
        if not (math.isfinite(t) and t >= 0):
            _fail(f"temperature must be a finite number ≥ 0, got {t!r}", path + ("temperature",))
        return t
    if required:
        _fail("missing `temperature` (or `beta`)", path)
    return None


def spec_from_data(data: dict, default_name: str = "model") -> ModelSpec:
    """Validate the plain data of a model file (as from ``tomllib``/``json``) into a ModelSpec.

    Raises:
        SpecError: with the key path of the offending entry.
    """
    if not isinstance(data, dict):
        _fail(f"a model must be a table, got {_type_name(data)}", ())
    for key, value in data.items():
        if key == "parameters":
            if not isinstance(value, dict):
                _fail(f"expected a table, got {_type_name(value)}", (key,))
            continue
        if key == "sweep":
            _fail("this file describes a parameter sweep ([sweep] section): run it with `detbal sweep FILE` "
                  "(Python: detbal.sweep)", (key,))
        if key not in _TABLES:
            _fail(f"unknown table [{key}]; allowed: [system], [[bath]], [[jump]], [sampler], [generator], "
                  "[analysis], [machine], [parameters]", (key,))
        if key in _ARRAYS and not (isinstance(value, list) and all(isinstance(x, dict) for x in value)):
            _fail(f"[[{key}]] must be an array of tables (write [[{key}]]), got {_type_name(value)}", (key,))
        if key not in _ARRAYS and not isinstance(value, dict):
            _fail(f"[{key}] must be a table (write [{key}]), got {_type_name(value)}", (key,))
    if "system" not in data:
        _fail("missing table [system] (with `hamiltonian` and `sites` or `levels`)", ())
    system = data["system"]
    _check_keys(system, *_TABLES["system"], ("system",))
    sites = _get(system, "sites", "int", ("system",))
    levels = _get(system, "levels", "int", ("system",))
    if (sites is None) == (levels is None):
        _fail("give exactly one of `sites` (number of qubits) or `levels` (one d-level system)",
              ("system", "levels" if levels is not None else "sites") if sites is not None else ("system",))
    baths = []
    for k, b in enumerate(data.get("bath", [])):
        path = ("bath", k)
        _check_keys(b, *_TABLES["bath"], path)
        sd = _get(b, "spectral_density", "table", path)
        spath = path + ("spectral_density",)
        kind = _get(sd, "kind", "str", spath)
        if kind is None:
            _fail(f"missing `kind` ({', '.join(SPECTRAL_KINDS)})", spath)
        if kind not in SPECTRAL_KINDS:
            _fail(f"unknown spectral density kind {kind!r}; known: {', '.join(SPECTRAL_KINDS)}",
                  spath + ("kind",))
        params = []
        for p in sd:
            if p == "kind":
                continue
            if p not in SPECTRAL_KINDS[kind]:
                known = ", ".join(SPECTRAL_KINDS[kind])
                _fail(f"unknown parameter {p!r} for kind {kind!r}; parameters: {known}", spath + (p,))
            params.append((p, _get(sd, p, "number", spath)))
        params.sort(key=lambda kv: SPECTRAL_KINDS[kind].index(kv[0]))
        baths.append(BathSpec(name=_get(b, "name", "str", path, f"bath{k}"),
                              temperature=_temperature(b, path, required=True),
                              coupling=_get(b, "coupling", "str", path), kind=kind, params=tuple(params),
                              local=_get(b, "local_hamiltonian", "str", path, "")))
    jumps = []
    for k, j in enumerate(data.get("jump", [])):
        path = ("jump", k)
        _check_keys(j, *_TABLES["jump"], path)
        jumps.append(JumpSpec(name=_get(j, "name", "str", path, f"jump{k}"),
                              operator=_get(j, "operator", "str", path),
                              rate=_get(j, "rate", "number", path)))
    sampler = _sampler(data["sampler"]) if "sampler" in data else None
    gen = data.get("generator", {})
    _check_keys(gen, *_TABLES["generator"], ("generator",))
    analysis = data.get("analysis", {})
    _check_keys(analysis, *_TABLES["analysis"], ("analysis",))
    ref = _temperature(analysis, ("analysis",), required=False)
    machine = {}
    if "machine" in data:
        _check_keys(data["machine"], *_TABLES["machine"], ("machine",))
        machine = {key: _get(data["machine"], key, "str" if key in ("kind", "hot", "cold", "work") else "number",
                             ("machine",)) for key in data["machine"]}
    params = data.get("parameters", {})
    for p, v in params.items():
        if not isinstance(v, (str, int, float, bool)):
            _fail(f"parameters must be numbers, strings or booleans, got {_type_name(v)}", ("parameters", p))
    return ModelSpec(
        name=_get(system, "name", "str", ("system",), default_name),
        description=_get(system, "description", "str", ("system",), ""),
        sites=sites, levels=levels, hamiltonian=_get(system, "hamiltonian", "str", ("system",)),
        conserved=_get(system, "conserved", "str", ("system",)), baths=tuple(baths), jumps=tuple(jumps),
        lamb_shift=_get(gen, "lamb_shift", "bool", ("generator",), False),
        reference_temperature=ref, parameters=tuple(params.items()), machine=tuple(machine.items()),
        sampler=sampler,
    )


def _sampler(table: dict) -> SamplerSpec:
    path = ("sampler",)
    _check_keys(table, *_TABLES["sampler"], path)
    jumps = table["jumps"]
    if not (isinstance(jumps, list) and jumps and all(isinstance(j, str) for j in jumps)):
        _fail(f"expected a non-empty array of operator expressions (strings), got {_type_name(jumps)} {jumps!r}",
              path + ("jumps",))
    t = _temperature(table, path, required=True)
    if t == 0:
        _fail("a Gibbs sampler needs T > 0 (a faithful Gibbs state)", path + ("beta" if "beta" in table else "temperature",))
    return SamplerSpec(kind=_get(table, "kind", "str", path), temperature=t, jumps=tuple(jumps),
                       weight=_get(table, "weight", "str", path), filter_width=_get(table, "filter_width", "number", path))


# -- public API ----------------------------------------------------------------------------------------
def loads_model(text: str, path: str = "<string>") -> Model:
    """Build a Model from the text of a model file; errors are :class:`ModelFileError` naming ``path``.
    A leading UTF-8 byte-order mark is ignored."""
    return _located(text, path, build)


def _located(text: str, path: str, action):
    """``action(spec)`` on the spec parsed from ``text``, errors as ModelFileError with line/column."""
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        reason = "invalid TOML: " + re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", msg)
        if m:
            raise ModelFileError(path, reason, "", int(m.group(1)), int(m.group(2))) from None
        lines = text.split("\n")  # "at end of document": point after the last character
        raise ModelFileError(path, reason, "", len(lines), len(lines[-1]) + 1) from None
    stem = Path(path).stem if path != "<string>" else "model"
    try:
        return action(spec_from_data(data, stem))
    except SpecError as exc:
        loc = Locator(text).find(exc.key, exc.position) if exc.key else None
        line, col = loc if loc else ((1, 1) if not exc.key else (None, None))
        if isinstance(exc, MemoryBudgetError):
            raise ModelFileMemoryError(path, exc.reason, format_key(exc.key), line, col, exc.required,
                                       exc.budget) from None
        raise ModelFileError(path, exc.reason, format_key(exc.key), line, col) from None


def read_model_text(path) -> tuple[str, str]:
    """(text, path as str) of a model file; ModelFileError when unreadable or not UTF-8."""
    p = os.fspath(path)
    try:
        raw = Path(p).read_bytes()
    except OSError as exc:
        raise ModelFileError(p, f"cannot read the file ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8"), p
    except UnicodeDecodeError as exc:
        raise ModelFileError(p, f"not UTF-8 text (byte {exc.start})") from None


def load_model(path) -> Model:
    """Read and build a model file (format in the module docstring).

    Raises:
        ModelFileError: unreadable file, invalid TOML, unknown key, wrong type, negative
            temperature, non-Hermitian H or coupling, malformed expression, ... — the one-line
            message names the file, line, column and key.

    Example:
        >>> import detbal as db, tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "q.toml")
        >>> db.save_model(db.models.thermal_qubit(), p)
        >>> db.load_model(p).info.spec == db.models.thermal_qubit().info.spec
        True
    """
    text, p = read_model_text(path)
    return loads_model(text, p)


def check_model(path) -> ModelInfo:
    """Validate a model file as :func:`load_model` does, without building the generator
    (:func:`detbal.models.spec.validate`: the d×d operators only). Returns its ModelInfo.

    Raises:
        ModelFileError: as :func:`load_model`.
    """
    text, p = read_model_text(path)
    return _located(text, p, validate)


def model_from_dict(data: dict, name: str = "model") -> Model:
    """Build a Model from the dictionary layout of a model file (e.g. the ``model`` entry of
    ``detbal analyze --json``)."""
    return build(spec_from_data(data, name))


def save_model(model: Model | ModelSpec, path) -> None:
    """Write ``model`` as a model file that :func:`load_model` reads back to the same spec.

    Raises:
        InputError: the model was not built from expressions (no ``info.spec``).
    """
    spec = model if isinstance(model, ModelSpec) else getattr(getattr(model, "info", None), "spec", None)
    if not isinstance(spec, ModelSpec):
        raise InputError("`model` must be a detbal Model built from expressions (zoo, model file or "
                         "models.build) or a ModelSpec; matrices alone cannot be written as a model file")
    Path(os.fspath(path)).write_text(dumps(spec), encoding="utf-8")


def dumps(spec: ModelSpec) -> str:
    """TOML text of a ModelSpec (tables in the order system, generator, analysis, bath, jump, sampler,
    machine, parameters)."""
    data = spec.to_dict()
    out = [f"# detbal model file: {spec.name}"]
    for table in ("system", "generator", "analysis", "bath", "jump", "sampler", "machine", "parameters"):
        if table not in data:
            continue
        rows = data[table] if table in _ARRAYS else [data[table]]
        for row in rows:
            out.append("")
            out.append(f"[[{table}]]" if table in _ARRAYS else f"[{table}]")
            out.extend(f"{bare_key(k)} = {scalar(v)}" for k, v in row.items())
    return "\n".join(out) + "\n"
