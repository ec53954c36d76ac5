"""The QuTiP bridges import QuTiP only when called, and say so clearly when it is missing."""

import sys

import numpy as np
import pytest

import detbal as db


@pytest.fixture
def no_qutip(monkeypatch):
    # a None entry in sys.modules makes `import qutip` (and its submodules) raise ImportError
    for name in ("qutip", "qutip.core", "qutip.core.environment"):
        monkeypatch.setitem(sys.modules, name, None)


def test_import_detbal_does_not_import_qutip():
    import subprocess
    code = "import sys, detbal; print('qutip' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_to_qobj_without_qutip_names_the_missing_package(no_qutip):
    L = db.Lindbladian(np.diag([0.0, 1.0]), [np.array([[0, 1], [0, 0]])], [0.5])
    with pytest.raises(ImportError, match=r"Generator.to_qobj needs the optional package 'qutip'.*pip install qutip"):
        L.to_qobj()


def test_from_qutip_without_qutip_names_the_missing_package(no_qutip):
    with pytest.raises(ImportError, match=r"Bath.from_qutip needs the optional package 'qutip'.*pip install qutip\)"):
        db.Bath.from_qutip(object())
