"""MkDocs hooks of the detbal documentation (configured in mkdocs.yml under ``hooks:``).

* The site documents and executes the source tree it is built from: ``src/`` goes first on
  ``sys.path`` and on the ``PYTHONPATH`` of the notebook kernels.
* Tutorials are the scripts ``examples/*.py`` themselves (jupytext percent format); they are added
  to the site as ``examples/<name>.py`` pages, which mkdocs-jupyter executes at build time, so a
  tutorial that raises fails the build. Adding a tutorial is one ``nav`` line in mkdocs.yml.
* The API reference lists every name of ``detbal.__all__`` exactly once: a name documented twice
  or a public object without a docstring is a warning (an error under ``--strict``); a public
  name that no page of ``docs/api/`` lists yet is rendered on a generated page, "More names".
* Math is typeset offline: MathJax 3 is served from the site itself, copied at build time from the
  Python package ``django-static-mathjax`` (a docs extra; only its static files are used, Django is
  not needed). ``extra_javascript`` names it as ``javascripts/mathjax/tex-mml-chtml.js``; without
  the package the build warns (an error under ``--strict``) and the page falls back to the CDN.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import re
import sys
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

log = logging.getLogger("mkdocs.plugins.detbal")

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
EXAMPLES = ROOT / "examples"
API_DIR = "api"
MORE_PAGE = f"{API_DIR}/more.md"
_DIRECTIVE = re.compile(r"^:::\s*detbal\.([A-Za-z_]\w*)\s*$", re.MULTILINE)

_missing: list[str] = []

MATHJAX_SITE = "javascripts/mathjax"                 # where the MathJax files go in the site
MATHJAX_ENTRY = "tex-mml-chtml.js"                    # the combined component extra_javascript loads
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"
# what tex-mml-chtml.js may load at run time, relative to itself: TeX extensions (autoload,
# \require), the CHTML fonts, the menu and the accessibility components with their speech rules
MATHJAX_DIRS = ("input", "output/chtml", "ui", "a11y", "sre", "adaptors")


def mathjax_assets() -> Path | None:
    """The ``es5`` directory of the MathJax 3 copy shipped by ``django-static-mathjax``, or None."""
    spec = importlib.util.find_spec("mathjax")
    for root in (spec.submodule_search_locations or []) if spec else []:
        es5 = Path(root) / "static" / "mathjax" / "es5"
        if (es5 / MATHJAX_ENTRY).is_file():
            return es5
    return None


_mathjax: list[Path] = []


def documented_names(docs_dir: Path) -> dict[str, list[str]]:
    """{public name: [api pages that render it with ``::: detbal.NAME``]}."""
    found: dict[str, list[str]] = {}
    for page in sorted((docs_dir / API_DIR).glob("*.md")):
        for name in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(page.name)
    return found


def on_config(config):
    sys.path.insert(0, str(SRC))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    import detbal

    if Path(detbal.__file__).resolve().parents[1] != SRC:
        log.warning(f"documenting detbal from {detbal.__file__}, not from {SRC}")
    found = documented_names(Path(config["docs_dir"]))
    for name, pages in found.items():
        if len(pages) > 1:
            log.warning(f"API reference: detbal.{name} is rendered {len(pages)} times ({', '.join(pages)})")
        if name not in detbal.__all__:
            log.warning(f"API reference: detbal.{name} is not in detbal.__all__")
    for name in detbal.__all__:
        if not inspect.getdoc(getattr(detbal, name)):
            log.warning(f"API reference: detbal.{name} has no docstring")
    _mathjax[:] = [es5] if (es5 := mathjax_assets()) else []
    local = f"{MATHJAX_SITE}/{MATHJAX_ENTRY}"
    if not _mathjax:
        log.warning("MathJax: package django-static-mathjax not installed (pip install -e '.[docs]'); "
                    "math is loaded from the CDN")
        config["extra_javascript"] = [MATHJAX_CDN if str(js) == local else js for js in config["extra_javascript"]]
    _missing[:] = [n for n in detbal.__all__ if n not in found]
    if _missing:
        log.info("API reference: %d public names not grouped yet, rendered on %s: %s",
                 len(_missing), MORE_PAGE, ", ".join(_missing))
        for entry in config["nav"]:
            if isinstance(entry, dict) and "API reference" in entry:
                entry["API reference"].append({"More names": MORE_PAGE})
    return config


@event_priority(100)            # before mkdocs-jupyter turns the tutorial scripts into notebook pages
def on_files(files, config):
    for script in sorted(EXAMPLES.glob("*.py")):
        files.append(File(f"examples/{script.name}", src_dir=str(ROOT), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    for es5 in _mathjax:
        paths = [es5 / MATHJAX_ENTRY] + [f for d in MATHJAX_DIRS for f in sorted((es5 / d).rglob("*")) if f.is_file()]
        for path in paths:
            files.append(File.generated(config, f"{MATHJAX_SITE}/{path.relative_to(es5).as_posix()}",
                                        abs_src_path=str(path)))
    if _missing:
        body = "# More names\n\nPublic names not yet grouped on a topic page.\n\n"
        body += "\n".join(f"::: detbal.{name}\n" for name in _missing)
        files.append(File.generated(config, MORE_PAGE, content=body))
    return files
