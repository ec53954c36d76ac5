"""Model files: every malformed input is a ModelFileError naming file, line, column and key;
valid files build the right generator; save_model writes files that load back identically."""

import numpy as np
import pytest

import detbal.models as zoo
from detbal.errors import InputError
from detbal.io import ModelFileError, dumps, load_model, loads_model, model_from_dict, save_model

GOOD = '''\
[system]
name = "two-bath qubit"
sites = 1
hamiltonian = "0.5 * Z0"

[[bath]]
name = "hot"
temperature = 2.0
spectral_density = { kind = "ohmic", alpha = 0.01, cutoff = 10.0 }
coupling = "X0"

[[bath]]
name = "cold"
temperature = 0.5
spectral_density = { kind = "ohmic", alpha = 0.01, cutoff = 10.0 }
coupling = "X0"
'''


def _replace(old, new, text=GOOD):
    assert old in text, old
    return text.replace(old, new, 1)


# (label, file text, words the message must contain, line, column or None)
BAD = [
    ("TOML syntax", _replace('name = "hot"', 'name = "hot'), ["invalid TOML"], 7, None),
    ("unknown table", GOOD + "\n[sytem]\nx = 1\n", ["unknown table [sytem]"], 18, 1),
    ("unknown key in system", _replace("sites = 1", "sites = 1\nhamiltonain = 1"),
     ["unknown key 'hamiltonain'", "did you mean 'hamiltonian'"], 4, 1),
    ("unknown key in bath", _replace('coupling = "X0"', 'coupling = "X0"\ncoupling_strength = 2'),
     ["bath[0].coupling_strength", "unknown key"], 11, 1),
    ("negative temperature", _replace("temperature = 2.0", "temperature = -2.0"),
     ["bath[0].temperature", "≥ 0", "-2.0"], 8, 1),
    ("temperature as string", _replace("temperature = 2.0", 'temperature = "hot"'),
     ["bath[0].temperature", "expected a number", "string"], 8, 1),
    ("temperature and beta", _replace("temperature = 2.0", "temperature = 2.0\nbeta = 0.5"),
     ["either `temperature` or `beta`"], 9, 1),
    ("non-Hermitian H", _replace('"0.5 * Z0"', '"0.5 * Z0 + Sp0"'),
     ["system.hamiltonian", "Hermitian"], 4, 1),
    ("non-Hermitian coupling", _replace('coupling = "X0"', 'coupling = "Sm0"'),
     ["bath[0].coupling", "Hermitian"], 10, 1),
    ("eval attempt __import__", _replace('"0.5 * Z0"', '"__import__(\'os\').system(\'ls\')"'),
     ["system.hamiltonian", "unknown operator '__import__'"], 4, 16),
    ("unbalanced parentheses", _replace('"0.5 * Z0"', '"0.5 * (Z0 + X0"'),
     ["unbalanced parentheses"], 4, 22),
    ("closing parenthesis", _replace('"0.5 * Z0"', '"0.5 * Z0)"'), ["unbalanced parentheses"], 4, 24),
    ("unknown operator", _replace('"0.5 * Z0"', '"0.5 * Q0"'), ["unknown operator 'Q0'"], 4, 22),
    ("site out of range", _replace('coupling = "X0"', 'coupling = "X3"'),
     ["bath[0].coupling", "site 3", "out of range"], 10, 13),
    ("implicit multiplication", _replace('"0.5 * Z0"', '"2Z0"'), ["directly followed"], 4, 17),
    ("attribute access", _replace('"0.5 * Z0"', '"Z0.conj()"'), ["attribute access"], 4, 18),
    ("ladder op on qubits", _replace('"0.5 * Z0"', '"a + ad"'), ["unknown operator 'a'", "levels"], 4, 16),
    ("unknown spectral kind", _replace('kind = "ohmic", alpha = 0.01', 'kind = "gaussian", alpha = 0.01'),
     ["unknown spectral density kind 'gaussian'"], 9, 22),
    ("spectral parameter unknown", _replace("alpha = 0.01, cutoff", "alpha = 0.01, s = 2.0, cutoff"),
     ["unknown parameter 's'", "ohmic"], 9, 52),
    ("negative alpha", _replace("alpha = 0.01", "alpha = -0.01"), ["alpha", "≥ 0"], 9, 38),
    ("missing kind", _replace('kind = "ohmic", ', ""), ["missing `kind`"], 9, 1),
    ("duplicate bath names", _replace('name = "cold"', 'name = "hot"'),
     ["duplicate channel name 'hot'"], 13, 1),
    ("missing system", GOOD.split("[[bath]]", 1)[1].join(["[[bath]]", ""]), ["missing table [system]"], 1, 1),
    ("missing hamiltonian", _replace('hamiltonian = "0.5 * Z0"\n', ""),
     ["missing required key 'hamiltonian'"], 1, 1),
    ("sites and levels", _replace("sites = 1", "sites = 1\nlevels = 2"), ["exactly one of `sites`"], 4, 1),
    ("zero sites", _replace("sites = 1", "sites = 0"), ["system.sites", "≥ 1"], 3, 1),
    ("too many sites", _replace("sites = 1", "sites = 99"), ["system.sites", "≤ 20"], 3, 1),
    ("system as array", _replace("[system]", "[[system]]"), ["[system] must be a table"], 1, 1),
    ("bath as table", _replace("[[bath]]", "[bath]", GOOD.split('\n[[bath]]\nname = "cold"')[0]),
     ["[[bath]] must be an array of tables"], 6, 1),
    ("no dissipation", GOOD.split("[[bath]]")[0], ["no dissipation"], 1, 1),
    ("negative jump rate", GOOD + '\n[[jump]]\noperator = "Sm0"\nrate = -1.0\n',
     ["jump[0].rate", "≥ 0"], 20, 1),
    ("jump operator error", GOOD + '\n[[jump]]\noperator = "Sm0 *"\nrate = 1.0\n',
     ["jump[0].operator", "missing operand"], 19, 18),
    ("reference temperature zero", GOOD + "\n[analysis]\ntemperature = 0.0\n",
     ["analysis.temperature", "> 0"], 19, 1),
    ("lamb_shift not bool", GOOD + "\n[generator]\nlamb_shift = 1\n",
     ["generator.lamb_shift", "true or false"], 19, 1),
    ("empty expression", _replace('"0.5 * Z0"', '""'), ["empty expression"], 4, 16),
    ("escaped string column", _replace('"0.5 * Z0"', '"\\u0030.5 * Q0"'), ["unknown operator 'Q0'"], 4, 27),
]


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
