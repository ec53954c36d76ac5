"""Griffe extension for the documentation build: docstring idioms of detbal made Google-style.

* Sphinx roles: some docstrings cite objects as ``:func:`~detbal.davies```, ``:class:`Model``` or
  ``:mod:`.sigma_transform```, which Markdown would print verbatim; they become code spans
  (`davies`, `Model`, `sigma_transform`), so the reference reads cleanly and no link can dangle.
* Grouped arguments: ``alpha, cutoff: ohmic coupling and cutoff`` in an ``Args:`` section becomes
  one entry per name (the first carries the text, the others point to it), so griffe can match
  every documented name with the signature.
* ``Example:`` sections become ``Examples:``, which griffe renders as code (doctest lines).
* reStructuredText simple tables (columns under ``====  ====`` rules) become Markdown tables.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|obj|data|exc|const):`~?\.?([^`]+)`")


_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
_RULE = re.compile(r"^(\s*)(=+(?: +=+)+)\s*$")
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


def _cells(row: str, spans: list[tuple[int, int]]) -> list[str]:
    """The cells of one RST table row; the last column takes the rest of the line."""
    parts = [row[a:b] for a, b in spans[:-1]] + [row[spans[-1][0]:]]
    return [p.strip().replace("|", "\\|") for p in parts]


def rst_tables_to_markdown(text: str) -> str:
    """RST simple tables (a rule, a header row, a rule, rows, a closing rule) → Markdown tables.

    Columns are the spans of the ``=`` runs of the first rule; the last column takes the rest of
    the line. A block that does not have this shape is left as it is.
    """
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        head = _RULE.match(lines[i])
        rules = [k for k in range(i, len(lines)) if _RULE.match(lines[k])] if head else []
        if len(rules) < 3 or rules[1] != i + 2:
            out.append(lines[i])
            i += 1
            continue
        spans = [(m.start(), m.end()) for m in re.finditer(r"=+", lines[i])]
        closing = rules[2]

        indent = head.group(1)
        out.append(indent + "| " + " | ".join(_cells(lines[i + 1], spans)) + " |")
        out.append(indent + "|" + "---|" * len(spans))
        out += [indent + "| " + " | ".join(_cells(row, spans)) + " |" for row in lines[i + 3:closing] if row.strip()]
        i = closing + 1
    return "\n".join(out)


class DetbalDocstrings(griffe.Extension):
    """Rewrite the docstring idioms of the module docstring in every docstring."""

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            text = _EXAMPLE.sub(r"\1Examples:", strip_roles(obj.docstring.value))
            obj.docstring.value = rst_tables_to_markdown(split_grouped_arguments(text))
