"""Plots: every figure is written as a non-blank PNG, headless, without pyplot."""

import subprocess
import sys

import numpy as np
import pytest

import detbal.models as zoo
from detbal.analysis import analyze


def _not_blank(path):
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    rgb = img[..., :3]
    # a blank figure is one colour; a real plot has many distinct pixels and visible ink
    assert rgb.std() > 0.02
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20


@pytest.fixture(scope="module")
def mgr():
    m = zoo.merry_go_round()
    return m, analyze(m)


def test_write_plots_writes_four_non_blank_pngs(tmp_path, mgr):
    from detbal.plots import write_plots

    files = write_plots(*mgr, tmp_path)
    assert sorted(f.name for f in files) == ["merry_go_round_channels.png", "merry_go_round_currents.png",
                                             "merry_go_round_relaxation.png", "merry_go_round_spectrum.png"]
    for f in files:
        assert f.stat().st_size > 5000
        _not_blank(f)


@pytest.mark.parametrize("name", ["thermal_qubit", "xxz_chain"])
def test_plots_for_detailed_balanced_models(tmp_path, name):
    from detbal.plots import write_plots

    m = zoo.get(name)
    for f in write_plots(m, analyze(m), tmp_path):
        _not_blank(f)


def test_figures_are_figures_without_pyplot(mgr):
    from detbal import plots

    m, a = mgr
    for fig in (plots.spectrum(m), plots.channel_residuals(a), plots.level_currents(m, a),
                plots.relaxation(m, times=np.linspace(0, 5, 11))):
        assert fig.axes
    # pyplot (global figure state) is never needed: checked in a fresh interpreter, since other
    # tests in this process (QuTiP) may have imported it
    code = ("import sys, numpy as np, detbal as db; from detbal import plots; m = db.models.get('thermal_qubit'); "
            "plots.spectrum(m); print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_import_detbal_does_not_import_matplotlib_or_typer():
    code = ("import sys, detbal, detbal.models, detbal.io; "
            "print('matplotlib' in sys.modules, 'typer' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
