"""The documentation's code examples run as printed, and its API reference covers the public names.

The strict site build (``mkdocs build --strict`` in .ci/run) checks links, docstrings and executes
the tutorials; these tests keep the Python examples of the Markdown pages honest without it. A
Python block followed by a block ```` ```text title="Output" ```` must print that output: the text
is compared exactly, the numbers in it to a relative 1e-6 (the last printed digit of a rounded
number may differ across BLAS builds).
"""

import re
import sys
from pathlib import Path

import pytest

import detbal

DOCS = Path(__file__).parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.parts)
_BLOCK = re.compile(r"^```python\n(.*?)^```\n(?:\s*^```text title=\"Output\"\n(.*?)^```)?",
                    re.MULTILINE | re.DOTALL)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")


def _blocks():
    for page in PAGES:
        for k, (code, output) in enumerate(_BLOCK.findall(page.read_text(encoding="utf-8"))):
            yield pytest.param(code, output or None, id=f"{page.relative_to(DOCS)}[{k}]")


def same_output(printed: str, expected: str, rtol: float = 1e-6) -> bool:
    """The printed text equals the expected one, numbers compared to ``rtol`` (absolute 1e-12)."""
    words, want = _NUMBER.split(printed.strip()), _NUMBER.split(expected.strip())
    nums, want_nums = _NUMBER.findall(printed.strip()), _NUMBER.findall(expected.strip())
    if words != want or len(nums) != len(want_nums):
        return False
    return all(a == b or abs(float(a) - float(b)) <= rtol * abs(float(b)) + 1e-12 for a, b in zip(nums, want_nums))


def test_same_output_compares_text_exactly_and_numbers_loosely():
    assert same_output("c = 0.07516231 [1. 0.]\n", "c = 0.0751623 [1. 0.]")
    assert not same_output("c = 0.0752 [1. 0.]", "c = 0.0751623 [1. 0.]")
    assert not same_output("d = 0.0751623", "c = 0.0751623")
    assert not same_output("c = 0.0751623 1", "c = 0.0751623")


@pytest.mark.parametrize(("code", "output"), list(_blocks()))
def test_code_example_runs(code, output, capsys):
    try:
        exec(compile(code, "<docs example>", "exec"), {"__name__": "__docs__"})  # noqa: S102 (running them is the test)
    except ImportError as exc:                 # a page about an optional extra (e.g. sweeps without Dask)
        if "detbal[" not in str(exc):
            raise
        pytest.skip(f"the page needs an optional extra: {exc}")
    if output is not None:
        printed = capsys.readouterr().out
        assert same_output(printed, output), f"printed:\n{printed}\nthe page says:\n{output}"


def _build_hooks():
    """The docs build hook module (docs/_ext/hooks.py); a skip naming the extra if mkdocs is missing."""
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import hooks
    except ImportError as exc:  # mkdocs is a docs extra: the hook imports it
        pytest.skip(f"needs the docs extra (mkdocs): pip install -e '.[docs]' ({exc})")
    finally:
        sys.path.pop(0)
    return hooks


def test_no_public_name_is_documented_twice():
    # names that no page lists yet are rendered once on the generated page "More names" (the hook)
    found = _build_hooks().documented_names(DOCS)  # the build hook's own reader
    assert {n: p for n, p in found.items() if len(p) > 1} == {}
    assert sorted(set(found) - set(detbal.__all__)) == []


def test_every_public_name_has_a_docstring():
    assert [n for n in detbal.__all__ if not (getattr(detbal, n).__doc__ or "").strip()] == []


def test_math_is_served_with_the_site_not_from_a_cdn():
    hooks = _build_hooks()  # the build hook copies MathJax into the site
    config = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    assert f"- {hooks.MATHJAX_SITE}/{hooks.MATHJAX_ENTRY}" in config
    assert "cdn." not in config
    es5 = hooks.mathjax_assets()
    if es5 is None:
        pytest.skip("needs the docs extra (django-static-mathjax): pip install -e '.[docs]'")
    assert (es5 / hooks.MATHJAX_ENTRY).is_file()
    assert all((es5 / d).is_dir() for d in hooks.MATHJAX_DIRS)
    assert len(list((es5 / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))) > 10


def test_theme_requests_no_web_fonts():
    # mkdocs-material loads its fonts from Google Fonts at page load unless `theme: font: false`
    config = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^theme:\n(?:  .*\n)*?  font: false\b", config, re.MULTILINE)
