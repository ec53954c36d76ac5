"""The `detbal` command: default report, analyze on zoo models and files, --json, exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import detbal.models as zoo
from detbal.analysis import Analysis, analyze, validate_dict
from detbal.cli import app
from model_files import BAD

EXAMPLE_FILES = sorted((Path(__file__).parents[2] / "examples" / "models").glob("*.toml"))
runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_default_run_shows_both_models_and_both_verdicts():
    r = run()
    assert r.exit_code == 0, r.output
    out = r.output
    assert "merry_go_round" in out and "merry_go_round_thermal" in out
    assert "holds" in out and "FAILS" in out
    assert "KMS w.r.t. Gibbs" in out and "GNS w.r.t. steady state" in out
    assert "relaxes to Gibbs at T = 1" in out
    assert "steady state carries a cyclic current of" in out and "broken by bath 'hot'" in out
    assert "not available" not in out


@pytest.mark.parametrize("name", zoo.list())
def test_analyze_every_zoo_model(name):
    r = run("analyze", name, "--quiet")
    assert r.exit_code == 0, r.output
    assert "Conclusion" in r.output and name in r.output


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_analyze_every_example_model_file(path):
    r = run("analyze", str(path), "-q")
    assert r.exit_code == 0, r.output
    assert "Conclusion" in r.output


def test_check_accepts_example_files():
    r = run("check", *map(str, EXAMPLE_FILES))
    assert r.exit_code == 0, r.output
    assert r.output.count("ok: ") == len(EXAMPLE_FILES)


def test_json_output_validates_and_round_trips(tmp_path):
    out = tmp_path / "a.json"
    r = run("analyze", "merry_go_round", "thermal_qubit", "--json", str(out), "-q")
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert set(doc) == {"detbal", "analyses"} and len(doc["analyses"]) == 2
    for entry, name in zip(doc["analyses"], ["merry_go_round", "thermal_qubit"]):
        validate_dict(entry)
        a = Analysis.from_dict(entry)
        assert a == analyze(zoo.get(name))              # numbers identical to an in-process run
        assert a.to_dict() == entry                      # dict → object → dict is the identity
        from detbal.io import model_from_dict

        assert model_from_dict(entry["model"]).info.spec == zoo.get(name).info.spec


def test_validate_dict_rejects_a_broken_document():
    entry = analyze(zoo.thermal_qubit()).to_dict()
    del entry["verdicts"]
    with pytest.raises(ValueError, match="verdicts"):
        validate_dict(entry)


def test_beta_option_changes_the_reference_gibbs_state():
    r = run("analyze", "thermal_qubit", "--beta", "2.0", "-q")
    assert r.exit_code == 0
    assert "reference Gibbs T" in r.output and "0.5" in r.output and "FAILS" in r.output


def test_param_option_sets_zoo_parameters():
    r = run("analyze", "merry_go_round", "-p", "T_hot=1.0", "-q")
    assert r.exit_code == 0, r.output
    assert "relaxes to Gibbs at T = 1" in r.output


def test_plots_option_writes_pngs(tmp_path):
    r = run("analyze", "thermal_qubit", "--plots", str(tmp_path / "figs"), "-q")
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "figs").glob("*.png"))) == 4


def test_models_command_lists_the_zoo():
    r = run("models")
    assert r.exit_code == 0
    for name in zoo.list():
        assert name in r.output


@pytest.mark.parametrize("label,text,words,line,col", [c for c in BAD if c[2] is not None],
                         ids=[c[0] for c in BAD if c[2] is not None])
def test_malformed_files_exit_2_with_one_line_and_no_traceback(tmp_path, label, text, words, line, col):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    for cmd in ("check", "analyze"):
        r = run(cmd, str(path))
        assert r.exit_code == 2, (cmd, r.output)
        msg = r.output.strip()
        assert len(msg.splitlines()) == 1, msg
        assert "Traceback" not in msg and msg.startswith("detbal: error: ")
        assert f"bad.toml:{line}:" in msg
        for w in words:
            assert w in msg


@pytest.mark.parametrize("args,words", [
    (["analyze", "no_such_model"], "unknown model 'no_such_model'"),
    (["analyze", "missing.toml"], "cannot read"),
    (["analyze", "thermal_qubit", "--beta", "-1"], "--beta must be > 0"),
    (["analyze", "thermal_qubit", "-p", "T=2"], "no parameter 'T'"),
    (["analyze", "thermal_qubit", "-p", "oops"], "KEY=VALUE"),
    (["analyze", "xxz_chain", "-p", "baths=three"], "baths"),
    (["analyze", "thermal_qubit", "-p", "temperature=-1"], "temperature"),
    (["analyze", "thermal_qubit", "-p", "omega=abc"], "parameter 'omega' of model 'thermal_qubit' must be"),
    (["analyze", "thermal_qubit", "-p", "omega=nan"], "parameter 'omega' of model 'thermal_qubit' must be a finite"),
    (["analyze", "thermal_qubit", "-p", "omega=1e400"], "parameter 'omega' of model 'thermal_qubit' must be a finite"),
    (["analyze", "thermal_qubit", "-p", "omega=__import__('os')"], "parameter 'omega'"),
    (["analyze", "heisenberg_chain", "-p", "seed=abc"], "parameter 'seed' of model 'heisenberg_chain' must be an integer"),
    (["analyze", "heisenberg_chain", "-p", "n=2.5"], "parameter 'n' of model 'heisenberg_chain' must be an integer"),
    (["analyze", "ssd_maser", "-p", "alpha_load=abc"], "parameter 'alpha_load'"),
    (["analyze", "thermal_qubit", "--beta", "nan"], "--beta must be > 0"),
    (["analyze", "thermal_qubit", "--json", "/nonexistent-dir/out.json"], "cannot write --json file"),
])
def test_bad_command_line_input_exits_2(args, words):
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert words in r.output and "Traceback" not in r.output


def test_debug_shows_the_traceback(tmp_path):
    r = run("analyze", "no_such_model", "--debug")
    assert r.exit_code != 0 and r.exit_code != 2
    assert r.exception is not None and "unknown model" in str(r.exception)


def test_installed_command_prints_the_default_report():
    proc = subprocess.run([sys.executable, "-c", "from detbal.cli import main; main()"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "FAILS" in proc.stdout and "holds" in proc.stdout and proc.stderr == ""


def test_zero_temperature_and_non_unique_steady_states_are_reported_not_crashed(tmp_path):
    base = ('[system]\nlevels = 3\nhamiltonian = "n"\n[[bath]]\ntemperature = {T}\n'
            'spectral_density = {{ kind = "ohmic", alpha = 0.05, cutoff = 10.0 }}\ncoupling = "{S}"\n')
    (tmp_path / "cold.toml").write_text(base.format(T=0, S="a + ad"))
    (tmp_path / "split.toml").write_text(base.format(T=1, S="P01 + P10"))  # level 2 is never reached
    r = run("analyze", str(tmp_path / "cold.toml"), str(tmp_path / "split.toml"), "-q",
            "--plots", str(tmp_path / "figs"))
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "relaxes to Gibbs at T = 0 (the ground state)" in out and "not faithful" in out
    assert "steady state is not unique (dim 2): not every state relaxes to Gibbs" in out
    assert len(list((tmp_path / "figs").glob("*.png"))) == 8


def test_none_is_accepted_for_a_parameter_whose_default_is_none():
    r = run("analyze", "ssd_maser", "-p", "alpha_load=None", "-q")
    assert r.exit_code == 0, r.output


def test_beta_inf_is_the_zero_temperature_reference():
    r = run("analyze", "thermal_qubit", "--beta", "inf", "-q")
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "Gibbs state at beta = inf is not faithful" in out      # DB w.r.t. Gibbs not testable at T = 0


def test_output_paths_are_checked_before_the_analysis(tmp_path, monkeypatch):
    import detbal.app.analysis as analysis_module

    def no_analysis(*args, **kw):  # the analysis must not even start
        raise AssertionError("analysis started before the output paths were checked")

    monkeypatch.setattr(analysis_module, "analyze", no_analysis)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args, words in ((["--json", str(tmp_path / "missing" / "a.json")], "cannot write --json file"),
                        (["--json", str(tmp_path)], "is a directory"),
                        (["--plots", str(blocker)], "cannot create --plots directory"),
                        (["--plots", str(blocker / "sub")], "cannot create --plots directory")):
        r = run("analyze", "thermal_qubit", "-q", *args)
        assert r.exit_code == 2, (args, r.output)
        assert words in r.output and len(r.output.strip().splitlines()) == 1


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    src = Path(__file__).parents[2] / "examples" / "models" / "two_bath_qubit.toml"
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    for cmd in ("check", "analyze"):
        r = run(cmd, str(path), *(["-q"] if cmd == "analyze" else []))
        assert r.exit_code == 0, (cmd, r.output)


def test_check_validates_without_building_the_generator(tmp_path, monkeypatch):
    import importlib

    davies_module = importlib.import_module("detbal.generators.davies.generator")

    def no_build(*args, **kw):
        raise AssertionError("detbal check built the generator")

    monkeypatch.setattr(davies_module, "davies", no_build)
    src = Path(__file__).parents[2] / "examples" / "models" / "heisenberg_boundary.toml"
    r = run("check", str(src))
    assert r.exit_code == 0, r.output
    assert "d = 8" in r.output


@pytest.mark.parametrize("params", [["-p", "alpha=1e300"], ["-p", "alpha=1e-300"], ["-p", "omega=1e200"]])
def test_extreme_scales_exit_2_instead_of_printing_nan(params):
    r = run("analyze", "thermal_qubit", "-q", *params)
    assert r.exit_code == 2, r.output
    assert "nan" not in r.output.lower().replace("nano", "") and "range 1e-100" in r.output
