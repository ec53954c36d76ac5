"""The analysis stays within detbal.config.memory_budget: what does not fit is refused before it is
allocated (MemoryBudgetError with the size, the budget and advice) and reported as a note, never
a MemoryError or a kill (issue 12 item 6). The budgets are set small so that d = 32 behaves like a
large chain under the default budget."""

import numpy as np
import pytest
from typer.testing import CliRunner

from detbal import config
from detbal.app.analysis import BUDGET_ADVICE, BUDGET_MARK, analyze
from detbal.cli import app
from detbal.errors import MemoryBudgetError
from detbal.generators.davies.generator import davies_bytes
from detbal.generators.davies.sector_linalg import sector_form_bytes
from detbal.models.chains import ising_chain, xxz_chain

N = 5  # d = 32: the generator fits 120 KiB, its Bohr-sector blocks (~156 KiB) do not


def test_davies_refuses_before_diagonalising_when_its_tables_exceed_the_budget(monkeypatch):
    monkeypatch.setattr(config, "memory_budget", 0.5 * davies_bytes(2**N, 1))
    with pytest.raises(MemoryBudgetError) as err:
        ising_chain(n=N)                 # no conserved quantity: one dense eigh would come first
    msg = str(err.value)
    assert "d = 32" in msg and "memory_budget" in msg and "fewer sites" in msg
    assert err.value.required == int(davies_bytes(2**N, 1))


def test_with_a_conserved_quantity_the_tables_are_refused_on_first_use(monkeypatch):
    # the sector eigenbasis is cheap and fits; the d×d tables are built (and refused) when needed
    monkeypatch.setattr(config, "memory_budget", 0.5 * davies_bytes(2**N, 1, diagonalise=False))
    model = xxz_chain(n=N)
    with pytest.raises(MemoryBudgetError, match="rate tables of bath 'bath' .*d = 32"):
        model.generator.coupling_operators  # noqa: B018


def test_stages_beyond_the_budget_become_notes_and_the_conclusion_says_so(monkeypatch):
    model = ising_chain(n=N)                             # no conserved quantity: no blockwise route
    need = sector_form_bytes(model.generator._sec)
    monkeypatch.setattr(config, "memory_budget", 0.5 * need)
    a = analyze(model)                                   # no exception: every stage reports
    skipped = [n for n in a.notes if BUDGET_MARK in n]
    assert {n.split(":")[0] for n in skipped} >= {"steady state", "spectral gap", "Pauli network"}
    assert a.notes[-1] == BUDGET_ADVICE
    assert a.spectral_gap is None and a.populations is None and a.kernel_dim is None
    assert a.verdict("kms", "gibbs").holds is None
    assert "could not be computed" in a.conclusion and "not unique" not in a.conclusion


def test_with_a_conserved_quantity_blocks_beyond_the_budget_go_blockwise(monkeypatch):
    full = analyze(xxz_chain(n=N))
    model = xxz_chain(n=N)
    monkeypatch.setattr(config, "memory_budget", 0.5 * sector_form_bytes(model.generator._sec))
    a = analyze(model)                                   # the Bohr-sector blocks do not fit: sector pairs instead
    assert model.generator.uses_blockwise
    assert a.verdict("kms", "gibbs").holds and a.kernel_dim == full.kernel_dim
    np.testing.assert_allclose(a.spectral_gap, full.spectral_gap, rtol=1e-12)
    np.testing.assert_allclose(a.populations, full.populations, rtol=0, atol=1e-13)


def test_within_the_budget_the_analysis_is_unchanged(monkeypatch):
    model = xxz_chain(n=N)
    full = analyze(model)
    monkeypatch.setattr(config, "memory_budget", 2 * sector_form_bytes(model.generator._sec))
    tight = analyze(xxz_chain(n=N))
    assert not any(BUDGET_MARK in n for n in tight.notes)
    assert tight.verdict("kms", "gibbs").holds and full.verdict("kms", "gibbs").holds
    np.testing.assert_allclose(tight.spectral_gap, full.spectral_gap, rtol=1e-12)
    np.testing.assert_allclose(tight.populations, full.populations, rtol=1e-10, atol=1e-15)


def test_cli_memory_budget_option_refuses_with_advice_and_exit_2(monkeypatch):
    monkeypatch.setattr(config, "memory_budget", config.memory_budget)   # restored after the CLI sets it
    res = CliRunner().invoke(app, ["analyze", "xxz_chain", "-p", f"n={N}", "--memory-budget", "1K", "-q"])
    assert res.exit_code == 2
    assert "more than the memory budget 1.0 KiB" in res.output
    assert "--memory-budget 1GiB" in res.output and "-p n=" in res.output
    assert "detbal.config" not in res.output and "(sparse" not in res.output  # no Python call


# -- model files: file:line:column: key and advice a command-line user can follow --------------------
BIG = '[system]\nlevels = 20000\nhamiltonian = "n"\n[[jump]]\nname = "down"\noperator = "a"\nrate = 1.0\n'
DAVIES = ('[system]\nlevels = 48\nhamiltonian = "n"\n[[bath]]\nname = "b"\ncoupling = "a + ad"\n'
          'temperature = 1.0\nspectral_density = { kind = "ohmic", alpha = 0.1, cutoff = 5.0 }\n')


def test_model_file_memory_errors_name_file_line_and_key(monkeypatch, tmp_path):
    from detbal.io.model_file import ModelFileError, load_model

    path = tmp_path / "big.toml"
    path.write_text(BIG)
    with pytest.raises(MemoryBudgetError) as err:           # still a memory error ...
        load_model(path)
    assert isinstance(err.value, ModelFileError)            # ... located in the file
    assert str(err.value).startswith(f"{path}:3:1: system.hamiltonian: dense 20000×20000")
    assert err.value.required > err.value.budget
    # the generator (Davies tables) beyond the budget: blamed on the entry that sets the size
    path.write_text(DAVIES)
    monkeypatch.setattr(config, "memory_budget", 0.5 * davies_bytes(48, 1))
    with pytest.raises(MemoryBudgetError, match=r"big.toml:2:1: system.levels: the Davies generator"):
        load_model(path)


@pytest.mark.parametrize("command", ["analyze", "check"])
def test_cli_on_a_model_file_beyond_the_budget_gives_command_line_advice(monkeypatch, tmp_path, command):
    monkeypatch.setattr(config, "memory_budget", config.memory_budget)
    path = tmp_path / "big.toml"
    path.write_text(BIG)
    res = CliRunner().invoke(app, [command, str(path), "--memory-budget", "2GiB"])
    assert res.exit_code == 2
    line = res.output.strip()
    assert line.startswith(f"detbal: error: {path}:3:1: system.hamiltonian:") and "\n" not in line
    assert "fewer sites or levels in the model file" in line and "--memory-budget 8GiB" in line
    assert "detbal.config" not in line and "parse_operator" not in line


@pytest.mark.parametrize("text", ["abc", "-1G", "0", "nan"])
def test_cli_memory_budget_option_rejects_non_sizes(monkeypatch, text):
    monkeypatch.setattr(config, "memory_budget", config.memory_budget)
    res = CliRunner().invoke(app, ["analyze", "xxz_chain", "--memory-budget", text, "-q"])
    assert res.exit_code == 2 and "--memory-budget must be a positive size" in res.output
