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


def test_write_plots_writes_five_non_blank_pngs(tmp_path, mgr):
    """Four figures for every model, and θ(s) with its Gallavotti–Cohen mirror for two baths."""
    from detbal.plots import write_plots

    files = write_plots(*mgr, tmp_path)
    assert sorted(f.name for f in files) == ["merry_go_round_channels.png", "merry_go_round_currents.png",
                                             "merry_go_round_fluctuations.png", "merry_go_round_relaxation.png",
                                             "merry_go_round_spectrum.png"]
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


# -- figures that read right (issue 12) --------------------------------------------------------------
def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_file_names_are_safe_and_two_models_with_one_name_do_not_overwrite(tmp_path):
    from detbal.plots import file_stem, write_plots

    assert file_stem("two-bath qubit (copy), v2") == "two-bath_qubit_copy_v2"
    assert file_stem("a/b") == "a_b" and file_stem("(),") == "model"
    m = zoo.get("thermal_qubit")
    a = analyze(m)
    taken: set = set()
    first = write_plots(m, a, tmp_path, taken=taken)
    second = write_plots(m, a, tmp_path, taken=taken)
    assert len(set(first) | set(second)) == 8
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(p.name for p in first + second)
    assert all(p.name.startswith("thermal_qubit_2_") for p in second)


def test_relaxation_figure_uses_the_reference_temperature_given():
    from detbal.plots import relaxation

    m = zoo.get("thermal_qubit", temperature=1.0)
    fig = relaxation(m, times=np.linspace(0, 5, 20), beta=0.25)
    labels = [line.get_label() for line in fig.axes[1].get_lines()]
    assert any("T = 4" in label for label in labels), labels


def test_zero_temperature_panels_say_why_they_are_empty():
    from detbal.plots import channel_residuals, relaxation

    m = zoo.get("thermal_qubit")
    a = analyze(m, beta=float("inf"))
    assert "not faithful" in _texts(channel_residuals(a))
    assert "not full rank" in _texts(relaxation(m, times=np.linspace(0, 5, 20), beta=float("inf")))


def test_round_off_currents_are_not_drawn_on_a_detailed_balanced_model():
    from detbal.plots import level_currents

    m = zoo.get("merry_go_round_thermal")
    fig = level_currents(m, analyze(m))
    arrows = [c for c in fig.axes[0].get_children() if type(c).__name__ == "Annotation"]
    assert not arrows and "detailed-balanced" in _texts(fig)


def test_long_titles_are_wrapped_not_clipped():
    from detbal.plots import channel_residuals

    m = zoo.get("merry_go_round")
    a = analyze(m)
    long = type(a)(**{**a.__dict__, "name": "a very long model name " * 6})
    fig = channel_residuals(long)
    fig.canvas.draw()
    title = fig.axes[0].title
    box, figbox = title.get_window_extent(), fig.bbox
    assert "\n" in title.get_text() and box.x0 >= figbox.x0 - 1 and box.x1 <= figbox.x1 + 1


@pytest.mark.parametrize("master_equation, holds", [("global", True), ("local", False)])
def test_fluctuation_figure_marks_theta_at_minus_a_where_it_is(master_equation, holds):
    """The black dot at s = −A sits at the computed θ(−A): 0 where Gallavotti–Cohen holds (global
    master equation), off the axis with its value in the legend where it fails (local one)."""
    from detbal.plots import fluctuation_theorem

    m = zoo.coupled_qubits(master_equation=master_equation)
    fig = fluctuation_theorem(m, analyze(m))
    ax = fig.axes[0]
    dots = next(line for line in ax.get_lines() if line.get_marker() == "o")
    y = dots.get_ydata()
    assert y[0] == 0.0
    label = dots.get_label()
    if holds:
        assert label == "θ(0) = θ(−A) = 0" and abs(y[1]) < 1e-12
    else:
        assert "GC predicts 0" in label and y[1] > 1e-5       # θ(−A) = 3e-4 for the default parameters
