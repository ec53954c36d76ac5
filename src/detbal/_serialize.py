"""JSON-friendly conversion shared by every result's ``to_dict`` (one helper, one behaviour).

Rules: NumPy scalars become Python scalars; non-finite floats become the strings "nan", "inf",
"-inf" (JSON has no such numbers); complex numbers and complex arrays become
``{"real": …, "imag": …}``; arrays become nested lists; tuples become lists; dict keys become
strings; anything else is returned unchanged.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

__all__ = ["JsonResult", "jsonable"]


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
