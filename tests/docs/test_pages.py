"""The documentation's code examples run as printed, and its API reference covers the public names.

The strict site build (``mkdocs build --strict`` in .ci/run) checks links, docstrings and executes
the tutorials; these tests keep the Python examples of the Markdown pages honest without it.
"""

import re
import sys
from pathlib import Path

import pytest

import detbal

DOCS = Path(__file__).parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.parts)
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks():
    for page in PAGES:
        for k, code in enumerate(_BLOCK.findall(page.read_text(encoding="utf-8"))):
            yield pytest.param(code, id=f"{page.relative_to(DOCS)}[{k}]")


@pytest.mark.parametrize("code", list(_blocks()))
def test_code_example_runs(code, capsys):
    exec(compile(code, "<docs example>", "exec"), {"__name__": "__docs__"})  # noqa: S102 (running them is the test)


def test_no_public_name_is_documented_twice():
    # names that no page lists yet are rendered once on the generated page "More names" (the hook)
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from hooks import documented_names  # the build hook's own reader (docs/_ext/hooks.py)
    except ImportError as exc:              # mkdocs is a docs extra: the hook imports it
        pytest.skip(f"mkdocs not installed ({exc})")
    finally:
        sys.path.pop(0)
    found = documented_names(DOCS)
    assert {n: p for n, p in found.items() if len(p) > 1} == {}
    assert sorted(set(found) - set(detbal.__all__)) == []


def test_every_public_name_has_a_docstring():
    assert [n for n in detbal.__all__ if not (getattr(detbal, n).__doc__ or "").strip()] == []
