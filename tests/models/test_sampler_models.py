"""Gibbs samplers as models: the tfim_sampler zoo model reproduces the reference gaps, the [sampler]
table of model files builds, round-trips and reports malformed input with file/line/key, and
`detbal analyze` reports a sampler (KMS holds, GNS fails, gap, coherent share)."""

import json

import pytest
from detbal.analysis import analyze, validate_dict
from typer.testing import CliRunner

import detbal as db
import detbal.models as zoo
from detbal.cli import app
from detbal.io import ModelFileError, dumps, loads_model

SAMPLER_FILE = """\
[system]
name = "chain"
sites = 3
hamiltonian = "-Z0*Z1 - Z1*Z2 - X0 - X1 - X2"

[sampler]
kind = "dll"
beta = 2.0
jumps = ["X0", "Z0", "X1", "Z1", "X2", "Z2"]
weight = "gaussian"
filter_width = 0.8
"""


@pytest.mark.parametrize("kind,gap", [("ckg", 0.643007), ("dll", 0.577941)])
def test_tfim_sampler_reproduces_the_reference_gaps(kind, gap):
    """N = 4, h = 1, β = 1 (CKG σ_E = 1/β, normalised f̂; DLL Gaussian filter, q̂(0) = 1)."""
    m = zoo.tfim_sampler(4, 1.0, 1.0, kind=kind)
    assert m.info.dim == 16 and m.info.reference_beta == 1.0
    assert float(db.spectral_gap(m.generator)) == pytest.approx(gap, abs=5e-7)


def test_sampler_file_builds_round_trips_and_is_kms_not_gns():
    m = loads_model(SAMPLER_FILE, "chain.toml")
    G = m.generator
    assert isinstance(G, db.GibbsSampler) and G.kind == "dll" and G.filter_width == 0.8
    assert m.info.reference_beta == 2.0 and not m.baths
    again = loads_model(dumps(m.info.spec), "again.toml")
    assert again.info.spec == m.info.spec
    assert db.detailed_balance(G, beta=2.0).holds
    assert not db.detailed_balance(G, beta=2.0, inner="gns").holds


@pytest.mark.parametrize("edit,key,line", [
    (("kind = \"dll\"", "kind = \"davies\""), "sampler.kind", 7),
    (("beta = 2.0", "beta = 0"), "sampler.beta", 8),
    (("jumps = [\"X0\", \"Z0\", \"X1\", \"Z1\", \"X2\", \"Z2\"]", "jumps = \"X0\""), "sampler.jumps", 9),
    (("\"Z2\"]", "\"Q2\"]"), "sampler.jumps[5]", 9),
    (("weight = \"gaussian\"", "weight = \"metropolis-ish\""), "sampler.weight", 10),
    (("filter_width = 0.8", "filter_width = -1.0"), "sampler.filter_width", 11),
    (("filter_width = 0.8", "filter = 0.8"), "sampler.filter", 11),
])
def test_malformed_sampler_tables_name_line_and_key(edit, key, line):
    text = SAMPLER_FILE.replace(*edit)
    with pytest.raises(ModelFileError) as info:
        loads_model(text, "bad.toml")
    err = info.value
    assert err.key == key, str(err)
    assert err.line == line, str(err)


def test_sampler_with_baths_is_refused():
    text = SAMPLER_FILE + """
[[bath]]
name = "b"
temperature = 1.0
spectral_density = { kind = "ohmic", alpha = 0.01, cutoff = 10.0 }
coupling = "X0"
"""
    with pytest.raises(ModelFileError, match="sampler"):
        loads_model(text, "bad.toml")


def test_analysis_reports_a_sampler():
    m = zoo.tfim_sampler(3, 1.0, 1.0, kind="ckg")
    a = analyze(m)
    assert a.verdict("kms", "gibbs").holds and not a.verdict("gns", "gibbs").holds
    assert a.verdict("kms", "gibbs").stationary <= 1e-12
    assert 0 < a.sampler["coherent_share"] < 1
    assert a.sampler["kind"] == "ckg" and a.sampler["kernel_error"] <= 1e-10
    assert a.spectral_gap == pytest.approx(float(db.spectral_gap(m.generator)), rel=1e-10)
    rows = {c.name: c for c in a.channels}
    assert rows["transition"].holds and rows["loss + coherent"].holds
    assert "KMS only" in a.conclusion
    validate_dict(json.loads(json.dumps(a.to_dict())))


def test_cli_analyze_prints_the_sampler_rows(tmp_path):
    path = tmp_path / "chain.toml"
    path.write_text(SAMPLER_FILE)
    r = CliRunner().invoke(app, ["analyze", str(path), "-q"])
    assert r.exit_code == 0, r.output
    assert "Gibbs sampler" in r.output and "coherent share" in r.output and "DLL" in r.output
