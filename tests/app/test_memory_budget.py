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
    model = xxz_chain(n=N)                               # built under the default budget
    need = sector_form_bytes(model.generator._sec)
    monkeypatch.setattr(config, "memory_budget", 0.5 * need)
    a = analyze(model)                                   # no exception: every stage reports
    skipped = [n for n in a.notes if BUDGET_MARK in n]
    assert {n.split(":")[0] for n in skipped} >= {"steady state", "spectral gap", "Pauli network"}
    assert a.notes[-1] == BUDGET_ADVICE
    assert a.spectral_gap is None and a.populations is None and a.kernel_dim is None
    assert a.verdict("kms", "gibbs").holds is None
    assert "could not be computed" in a.conclusion and "not unique" not in a.conclusion


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
    assert "more than detbal.config.memory_budget = 1.0 KiB" in res.output
    assert "--memory-budget" in res.output


@pytest.mark.parametrize("text", ["abc", "-1G", "0", "nan"])
def test_cli_memory_budget_option_rejects_non_sizes(monkeypatch, text):
    monkeypatch.setattr(config, "memory_budget", config.memory_budget)
    res = CliRunner().invoke(app, ["analyze", "xxz_chain", "--memory-budget", text, "-q"])
    assert res.exit_code == 2 and "--memory-budget must be a positive size" in res.output
