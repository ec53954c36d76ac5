"""The `detbal` command: default report, analyze on zoo models and files, --json, exit codes."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import detbal.models as zoo
from detbal.analysis import Analysis, analyze, validate_dict
from detbal.cli import app
from test_io import BAD

EXAMPLE_FILES = sorted((Path(__file__).parent.parent / "examples" / "models").glob("*.toml"))
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
])
def test_bad_command_line_input_exits_2(args, words):
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert words in r.output and "Traceback" not in r.output


def test_debug_shows_the_traceback(tmp_path):
    r = run("analyze", "no_such_model", "--debug")
    assert r.exit_code != 0 and r.exit_code != 2
    assert r.exception is not None and "unknown model" in str(r.exception)


def test_installed_command_prints_the_default_report_quickly():
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "from detbal.cli import main; main()"], capture_output=True,
                          text=True, timeout=60)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert "FAILS" in proc.stdout and "holds" in proc.stdout and proc.stderr == ""
    assert elapsed < 10


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
