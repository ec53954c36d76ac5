"""Griffe extension for the documentation build: docstring idioms of detbal made Google-style.

* Sphinx roles: some docstrings cite objects as ``:func:`~detbal.davies```, ``:class:`Model``` or
  ``:mod:`.sigma_transform```, which Markdown would print verbatim; they become code spans
  (`davies`, `Model`, `sigma_transform`), so the reference reads cleanly and no link can dangle.
* Grouped arguments: ``alpha, cutoff: ohmic coupling and cutoff`` in an ``Args:`` section becomes
  one entry per name (the first carries the text, the others point to it), so griffe can match
  every documented name with the signature.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|obj|data|exc|const):`~?\.?([^`]+)`")


_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Attributes|Other Parameters):\s*$")
_GROUPED = re.compile(r"^(\s+)([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)+)(\s*\([^)]*\))?:(\s.*|)$")


def strip_roles(text: str) -> str:
    """``:role:`~a.b``` → `` `a.b` `` (a leading ``~`` or ``.`` dropped)."""
    return _ROLE.sub(lambda m: f"`{m.group(1)}`", text)


def split_grouped_arguments(text: str) -> str:
    """``a, b: text`` inside an argument section → ``a: text`` and ``b: see `a`.``."""
    out, section_indent = [], None
    for line in text.splitlines():
        head = _SECTION.match(line)
        if head:
            section_indent = len(head.group(1))
            out.append(line)
            continue
        if section_indent is not None and line.strip() and len(line) - len(line.lstrip()) <= section_indent:
            section_indent = None                      # dedent: the section ended
        grouped = _GROUPED.match(line) if section_indent is not None else None
        if grouped:
            indent, names, annotation, rest = grouped.groups()
            first, *others = [n.strip() for n in names.split(",")]
            out.append(f"{indent}{first}{annotation or ''}:{rest}")
            out.extend(f"{indent}{name}: see `{first}`." for name in others)
            continue
        out.append(line)
    return "\n".join(out)


class SphinxRolesToCode(griffe.Extension):
    """Rewrite Sphinx roles and grouped arguments in every docstring (module docstring)."""

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = split_grouped_arguments(strip_roles(obj.docstring.value))
