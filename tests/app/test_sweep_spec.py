"""Sweep specifications: grids, explicit templating (parsed, never evaluated), and malformed
[sweep] sections rejected with exit status 2 and file:line:column: key."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_files import GOOD
from sweep_files import HEAD, qubit_sweep
from typer.testing import CliRunner

import detbal as db
from detbal.app.sweep_spec import parse_grid, substitute, sweep_spec
from detbal.cli import app
from detbal.io.model_file import ModelFileError, loads_model
from detbal.models.expressions import Space, parse_operator

runner = CliRunner()
GRID = "\n[sweep]\n\n[sweep.grid]\nT_hot = [1.0, 2.0]\nT_cold = [0.5, 1.0]\n"


def test_grid_forms_expand_like_numpy():
    text = HEAD + ('\n[sweep]\n[sweep.grid]\nT_hot = { linspace = [1.0, 3.0, 5] }\n'
                   'T_cold = { logspace = [-1, 0, 3] }\n')
    spec = sweep_spec(_write(text))
    assert spec.axes[0].coords == (("T_hot", tuple(np.linspace(1.0, 3.0, 5))),)
    assert spec.axes[1].coords == (("T_cold", tuple(np.logspace(-1, 0, 3))),)
    assert spec.shape == (5, 3) and spec.point(7) == {"T_hot": 2.0, "T_cold": 10 ** -0.5}
    assert parse_grid("x=1e-3:1e-1:3:log") == ("x", tuple(np.geomspace(1e-3, 1e-1, 3)))
    assert parse_grid("x=2") == ("x", (2,))


def test_zipped_axes_advance_together_along_one_dimension(tmp_path):
    text = HEAD + "\n[sweep]\nobservables = [\"kms_holds\"]\n[sweep.zip.diagonal]\nT_hot = [1.0, 2.0, 3.0]\n" \
                  "T_cold = [1.0, 2.0, 1.0]\n"
    ds = db.sweep(_write(text, tmp_path), workers=0)
    assert dict(ds.sizes) == {"diagonal": 3}
    assert list(ds["T_cold"].values) == [1.0, 2.0, 1.0]
    assert list(ds["kms_holds"].values) == [1.0, 1.0, 0.0]     # equal temperatures: detailed balance


def test_a_placeholder_inside_an_expression_gives_the_model_with_the_number_written_in(tmp_path):
    text = GOOD.replace('"0.5 * Z0"', '"${w} * Z0 + 0.1*X0"') + '\n[sweep]\nobservables = ["spectral_gap"]\n' \
                                                               "[sweep.grid]\nw = [-0.5, 2.0]\n"
    ds = db.sweep(_write(text, tmp_path), workers=0)
    for k, w in enumerate([-0.5, 2.0]):
        m = loads_model(GOOD.replace('"0.5 * Z0"', f'"({w}) * Z0 + 0.1*X0"'))
        assert ds["spectral_gap"].values[k] == pytest.approx(db.spectral_gap(m.generator).gap, rel=1e-12)


def _write(text, directory=None):
    import tempfile
    from pathlib import Path

    d = Path(directory or tempfile.mkdtemp())
    p = d / "s.toml"
    p.write_text(text)
    return p


def _line_of(text: str, needle: str) -> int:
    return next(k for k, line in enumerate(text.splitlines(), 1) if needle in line)


# (label, file text, key named in the message, words, text of the line the message must point at)
BAD = [
    ("unknown key in [sweep]", qubit_sweep([1.0], [1.0], extra="batches = 3\n"), "sweep.batches",
     ["unknown key 'batches'"], "batches = 3"),
    ("linspace with two numbers", HEAD + "\n[sweep]\n[sweep.grid]\nT_hot = { linspace = [1, 2] }\nT_cold = [1.0]\n",
     "sweep.grid.T_hot.linspace", ["[start, stop, num]"], "linspace = [1, 2]"),
    ("axis as a number", HEAD + "\n[sweep]\n[sweep.grid]\nT_hot = 2.0\nT_cold = [1.0]\n", "sweep.grid.T_hot",
     ["non-empty list"], "T_hot = 2.0"),
    ("placeholder of no axis", HEAD.replace("${T_hot}", "${T_hto}") + GRID, "bath[0].temperature",
     ["${T_hto} names no grid axis"], "${T_hto}"),
    ("malformed placeholder", HEAD.replace("${T_hot}", "${T hot}") + GRID, "bath[0].temperature",
     ["malformed placeholder"], "${T hot}"),
    ("axis not used", HEAD + GRID + "alpha = [0.1]\n", "sweep.grid.alpha", ["'alpha' is not used"], "alpha = [0.1]"),
    ("zipped lengths differ", HEAD + "\n[sweep]\n[sweep.zip.d]\nT_hot = [1.0, 2.0]\nT_cold = [1.0]\n",
     "sweep.zip.d.T_cold", ["equal lengths"], "T_cold = [1.0]"),
    ("unknown observable", qubit_sweep([1.0], [1.0], observables=["kms_residual", "curent"]),
     "sweep.observables[1]", ["unknown observable 'curent'"], "observables ="),
    ("batch zero", qubit_sweep([1.0], [1.0], extra="batch = 0\n"), "sweep.batch", ["≥ 1"], "batch = 0"),
    ("repeated grid value", HEAD + "\n[sweep]\n[sweep.grid]\nT_hot = [1.0, 1.0]\nT_cold = [1.0]\n",
     "sweep.grid.T_hot", ["repeated values"], "T_hot = [1.0, 1.0]"),
    ("model error outside the placeholders", qubit_sweep([1.0], [1.0]).replace('"0.5 * Z0"', '"0.5 * Q0"'),
     "system.hamiltonian", ["unknown operator 'Q0'"], "hamiltonian"),
    ("no axes", HEAD.replace('"${T_hot}"', "1.0").replace('"${T_cold}"', "1.0") + "\n[sweep]\n", "sweep",
     ["no axes"], "[sweep]"),
]


@pytest.mark.parametrize("label,text,key,words,line_text", BAD, ids=[b[0] for b in BAD])
def test_malformed_sweep_sections_exit_2_naming_file_line_and_key(tmp_path, label, text, key, words, line_text):
    path = _write(text, tmp_path)
    r = runner.invoke(app, ["sweep", str(path), "--workers", "0"])
    assert r.exit_code == 2, r.output
    line = _line_of(text, line_text)
    msg = r.output.strip().splitlines()[-1]
    assert msg.startswith(f"detbal: error: {path}:{line}:"), msg
    assert f": {key}: " in msg, msg
    for w in words:
        assert w in msg, msg
    with pytest.raises(ModelFileError):
        sweep_spec(path)


def test_a_value_error_at_a_templated_key_is_a_point_error_not_a_file_error(tmp_path):
    spec = sweep_spec(_write(qubit_sweep([-1.0, 1.0], [1.0]), tmp_path))     # T_hot = −1 at the first point
    assert spec.size == 2


def test_the_analyze_command_points_a_sweep_file_to_the_sweep_command(tmp_path):
    path = _write(qubit_sweep([1.0], [1.0]), tmp_path)
    r = runner.invoke(app, ["analyze", str(path)])
    assert r.exit_code == 2 and "detbal sweep FILE" in r.output


@pytest.mark.parametrize("grid,words", [
    ("T_hot", "NAME=start:stop:num"), ("T_hot=1:x:3", "'x' is not a number"), ("T_hot=1:2", "expected start:stop:num"),
    ("T_hot=0:1:3:log", "geomspace needs start > 0"), ("T_hot=1:2:0", "integer num ≥ 1"),
    ("T_hto=1:2:3", "has no parameter 'T_hto'"), ("T_hot=nan", "finite"),
])
def test_malformed_command_line_grids_exit_2(grid, words):
    r = runner.invoke(app, ["sweep", "merry_go_round", "--grid", grid, "--workers", "0"])
    assert r.exit_code == 2, r.output
    assert words in r.output, r.output


def test_numpy_grids_are_accepted():
    spec = sweep_spec("xxz_chain", grid={"n": np.arange(3, 5), "T_left": np.linspace(1, 2, 3)})
    assert spec.axes[0].coords == (("n", (3, 4)),) and spec.shape == (2, 3)


def test_a_zoo_sweep_needs_a_grid_and_known_observables():
    with pytest.raises(db.InputError, match="needs a grid"):
        sweep_spec("merry_go_round")
    with pytest.raises(db.InputError, match="unknown observable 'gap'.*spectral_gap"):
        sweep_spec("merry_go_round", grid={"T_hot": [1.0]}, observables=["gap"])


@settings(max_examples=30, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_a_number_templated_into_an_expression_is_that_number_exactly(w):
    data = {"system": {"hamiltonian": "${w} * Z0 - 2*${ w }*X0", "sites": "${w}"}, "x": ["${w}"]}
    out = substitute(data, {"w": w})
    assert out["system"]["sites"] == w and out["x"] == [w]                 # whole values: the number itself
    H = parse_operator(out["system"]["hamiltonian"], Space(sites=1), "hamiltonian")
    Z, X = np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(H, w * Z - 2 * w * X)
    assert data["system"]["hamiltonian"] == "${w} * Z0 - 2*${ w }*X0"       # the input is not mutated


def test_a_dollar_sign_outside_a_placeholder_is_plain_text(tmp_path):
    text = qubit_sweep([1.0], [1.0]).replace('name = "two-bath qubit"', 'name = "qubit for $5 {cheap}"')
    assert sweep_spec(_write(text, tmp_path)).name == "qubit for $5 {cheap}"


def test_a_python_grid_must_be_a_sequence_of_numbers():
    with pytest.raises(db.InputError, match="grid axis 'T_hot': expected a non-empty list"):
        sweep_spec("merry_go_round", grid={"T_hot": 2.0})


def test_a_grid_beyond_the_point_limit_is_refused_before_any_work():
    from detbal.app.sweep_spec import MAX_POINTS

    side = int(np.sqrt(MAX_POINTS)) + 1
    with pytest.raises(db.InputError, match="more than 1e\\+06; split the sweep"):
        sweep_spec("merry_go_round", grid={"T_hot": np.linspace(1, 2, side), "T_cold": np.linspace(1, 2, side)})
