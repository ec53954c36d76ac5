"""Every tutorial script in examples/ runs to completion (each asserts its own physics)."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.py"))


def test_there_are_five_tutorials():
    assert [p.name[:2] for p in EXAMPLES] == ["a_", "b_", "c_", "d_", "e_"]


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script):
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          cwd=script.parent.parent)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
