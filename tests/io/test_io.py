"""Model files: every malformed input is a ModelFileError naming file, line, column and key;
valid files build the right generator; save_model writes files that load back identically."""

import numpy as np
import pytest

import detbal.models as zoo
from detbal.errors import InputError
from detbal.io import ModelFileError, dumps, load_model, loads_model, model_from_dict, save_model

from model_files import BAD, GOOD, _replace


@pytest.mark.parametrize("label,text,words,line,col", [c for c in BAD if c[2] is not None],
                         ids=[c[0] for c in BAD if c[2] is not None])
def test_malformed_model_files_name_file_line_column_and_problem(label, text, words, line, col):
    with pytest.raises(ModelFileError) as info:
        loads_model(text, "bad.toml")
    err = info.value
    msg = str(err)
    assert "\n" not in msg, msg
    assert msg.startswith("bad.toml:"), msg
    for w in words:
        assert w in msg, (w, msg)
    assert err.line == line, msg
    if col is not None:
        assert err.column == col, msg
    assert isinstance(err, InputError)


def test_at_least_fifteen_malformed_cases():
    assert len([c for c in BAD if c[2] is not None]) >= 15


def test_good_file_builds_two_davies_channels():
    m = loads_model(GOOD, "good.toml")
    assert [b.name for b in m.baths] == ["hot", "cold"]
    assert m.info.dim == 2
    assert np.allclose(m.hamiltonian, np.diag([0.5, -0.5]))
    assert m.info.reference_temperature == 0.5  # the coldest bath
    assert {c.name for c in m.generator.channels} == {"hot", "cold"}


def test_beta_instead_of_temperature_and_zero_temperature():
    text = _replace("temperature = 2.0", "beta = 0.5").replace("temperature = 0.5", "temperature = 0")
    m = loads_model(text)
    assert m.baths[0].temperature == 2.0
    assert m.baths[1].beta == float("inf")


def test_jumps_only_file_is_a_lindbladian():
    text = '[system]\nlevels = 2\nhamiltonian = "n"\n[[jump]]\nname = "decay"\noperator = "a"\nrate = 0.2\n'
    m = loads_model(text)
    from detbal import Lindbladian

    assert isinstance(m.generator, Lindbladian)
    assert m.generator.names == ("decay",)


@pytest.mark.parametrize("name", zoo.list())
def test_save_model_round_trips_every_zoo_model(tmp_path, name):
    m = zoo.get(name)
    path = tmp_path / f"{name}.toml"
    save_model(m, path)
    back = load_model(path)
    assert back.info.spec == m.info.spec
    assert np.array_equal(back.hamiltonian, m.hamiltonian)
    assert dumps(back.info.spec) == path.read_text()


def test_model_from_dict_is_the_file_layout():
    m = zoo.merry_go_round()
    assert model_from_dict(m.info.spec.to_dict()).info.spec == m.info.spec


def test_awkward_strings_round_trip(tmp_path):
    spec = zoo.thermal_qubit().info.spec
    from dataclasses import replace

    odd = replace(spec, name='q "quoted" \\ back', description="line\nbreak\ttab é")
    save_model(odd, tmp_path / "odd.toml")
    assert load_model(tmp_path / "odd.toml").info.spec == odd


def test_unreadable_and_non_utf8_files(tmp_path):
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "missing.toml")
    p = tmp_path / "latin1.toml"
    p.write_bytes(b'[system]\nname = "\xe9"\n')
    with pytest.raises(ModelFileError, match="UTF-8"):
        load_model(p)


def test_save_model_refuses_matrix_models():
    with pytest.raises(InputError, match="expressions"):
        save_model(object(), "x.toml")


def test_example_model_files_load(tmp_path):
    from pathlib import Path

    files = sorted(Path(__file__).parents[2].joinpath("examples", "models").glob("*.toml"))
    assert len(files) >= 3
    for f in files:
        m = load_model(f)
        assert m.info.dim >= 2
