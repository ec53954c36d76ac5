"""JSON-friendly conversion shared by every result's ``to_dict`` (one helper, one behaviour), and
the compact HTML tables of their ``_repr_html_`` (how Jupyter displays a result).

Rules: NumPy scalars become Python scalars; non-finite floats become the strings "nan", "inf",
"-inf" (JSON has no such numbers); complex numbers and complex arrays become
``{"real": …, "imag": …}``; arrays become nested lists; tuples become lists; dict keys become
strings; anything else is returned unchanged.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import fields

import numpy as np

__all__ = ["JsonResult", "html_table", "jsonable"]


def jsonable(value):
    """``value`` converted recursively for ``json.dumps`` (module docstring rules).

    Returns:
        a structure of dict / list / str / int / float / bool / None.
    """
    if isinstance(value, np.ndarray):
        if np.iscomplexobj(value):
            return {"real": jsonable(value.real), "imag": jsonable(value.imag)}
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            return [jsonable(x) for x in value.tolist()] if value.ndim else jsonable(value.item())
        return value.tolist()
    if isinstance(value, np.generic):  # NumPy scalars → Python bool/int/float/complex
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, complex):
        return {"real": jsonable(value.real), "imag": jsonable(value.imag)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


class JsonResult:
    """Mixin for result dataclasses: ``to_dict`` = :func:`jsonable` of every field."""

    __slots__ = ()

    def to_dict(self) -> dict:
        """JSON-serialisable dictionary of the fields (non-finite floats as strings, complex as
        {"real", "imag"})."""
        return jsonable({f.name: getattr(self, f.name) for f in fields(self)})

    def _repr_html_(self) -> str:
        """Jupyter display of a result without a table of its own: the lines of ``str()`` under
        the type's name, with the verdict in colour when the result has one (``holds``)."""
        holds = getattr(self, "holds", None)
        verdict = None if not isinstance(holds, (bool, np.bool_)) else ("holds" if holds else "FAILS", bool(holds))
        lines = [line.strip() for line in str(self).splitlines() if line.strip()]
        return html_table(type(self).__name__, [("" if k else "result", line) for k, line in enumerate(lines)],
                          verdict=verdict)


def html_table(title: str, rows: Sequence[tuple[str, object]], *, verdict: tuple[str, bool] | None = None,
               table: tuple[Sequence[str], Sequence[Sequence[object]]] | None = None) -> str:
    """A result as a compact HTML table for Jupyter: a caption, (name, value) rows, and optionally a
    second table (header, rows), e.g. one row per channel.

    Args:
        title: the caption (the result's kind and what it refers to).
        rows: (name, value) pairs; values are shown as ``str(value)``, pre-formatted by the caller
            with the precision of the result's ``str()``.
        verdict: (word, ok) appended to the caption in bold, green when ``ok`` and red otherwise.
        table: (column names, rows of values) rendered below.

    Returns:
        str of HTML; every text is escaped.
    """
    esc = html.escape
    caption = esc(title)
    if verdict is not None:
        word, ok = verdict
        color = "#1a7f37" if ok else "#cf222e"
        caption += f': <b style="color:{color}">{esc(word)}</b>'
    cell = 'style="text-align:left;padding:1px 8px"'
    out = [f'<table style="border-collapse:collapse"><caption style="text-align:left">{caption}</caption>']
    out += [f"<tr><th {cell}>{esc(str(k))}</th><td {cell}>{esc(str(v))}</td></tr>" for k, v in rows]
    out.append("</table>")
    if table is not None:
        header, body = table
        out.append('<table style="border-collapse:collapse"><tr>'
                   + "".join(f"<th {cell}>{esc(str(h))}</th>" for h in header) + "</tr>")
        out += ["<tr>" + "".join(f"<td {cell}>{esc(str(v))}</td>" for v in r) + "</tr>" for r in body]
        out.append("</table>")
    return "".join(out)
