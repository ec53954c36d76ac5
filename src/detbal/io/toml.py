"""TOML helpers for model files: a key locator (key path → line, column) and a small writer.

``tomllib`` parses but does not report where keys are; :class:`Locator` scans text that tomllib
has already accepted and maps key paths such as ``("bath", 1, "coupling")`` to offsets, including
the offset of a character inside a string value (escapes and multi-line strings accounted for),
so that errors can name the line and column. :func:`scalar` formats a value as TOML
(floats by ``repr``, so they round-trip exactly).
"""

from __future__ import annotations

import bisect
import math
import re

from ..errors import InputError

__all__ = ["Locator", "scalar", "bare_key"]

# -- locating keys in the TOML text ------------------------------------------------------------------
_BARE = re.compile(r"[A-Za-z0-9_-]+")


class Locator:
    """Maps key paths (("bath", 0, "coupling")) to text offsets of the key and of its value.

    A lenient scanner over text that ``tomllib`` has already accepted: headers ``[a.b]`` /
    ``[[a]]`` (array index counted per name), ``key = value`` pairs (dotted keys, inline tables).
    """

    def __init__(self, text: str):
        self.text = text
        self.keys: dict[tuple, tuple[int, int]] = {}  # path -> (key offset, value offset)
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        counts: dict[tuple, int] = {}
        prefix: tuple = ()
        i, n = 0, len(text)
        while i < n:
            i = self._blank(i)
            if i >= n:
                break
            if text[i] == "[":
                double = text.startswith("[[", i)
                j = i + (2 if double else 1)
                names, j = self._key(j)
                base = tuple(names)
                if double:
                    counts[base] = counts.get(base, -1) + 1
                    prefix = base + (counts[base],)
                else:
                    prefix = base
                self.keys.setdefault(prefix, (i, i))
                i = text.find("\n", j)
                i = n if i < 0 else i
                continue
            names, j = self._key(i)
            while j < n and text[j] in " \t":
                j += 1
            if not names or j >= n or text[j] != "=":  # not a key line: skip it
                k = text.find("\n", i)
                i = n if k < 0 else k + 1
                continue
            j += 1
            while j < n and text[j] in " \t":
                j += 1
            path = prefix + tuple(names)
            self.keys[path] = (i, j)
            i = self._value(j, path)

    def _blank(self, i: int) -> int:
        t = self.text
        while i < len(t):
            if t[i] in " \t\r\n":
                i += 1
            elif t[i] == "#":
                k = t.find("\n", i)
                i = len(t) if k < 0 else k + 1
            else:
                break
        return i

    def _key(self, i: int) -> tuple[list, int]:
        t, names = self.text, []
        while i < len(t):
            while i < len(t) and t[i] in " \t":
                i += 1
            if i < len(t) and t[i] in "\"'":
                end = self._string(i)
                names.append(t[i + 1:end - 1])
                i = end
            else:
                m = _BARE.match(t, i)
                if not m:
                    break
                names.append(m.group())
                i = m.end()
            while i < len(t) and t[i] in " \t":
                i += 1
            if i < len(t) and t[i] == ".":
                i += 1
                continue
            break
        return names, i

    def _string(self, i: int) -> int:
        """Offset just past the string starting at i."""
        t = self.text
        for q in ('"""', "'''"):
            if t.startswith(q, i):
                j = i + 3
                while True:
                    k = t.find(q, j)
                    if k < 0:
                        return len(t)
                    bs = k - len(t[j:k].rstrip("\\")) - j  # backslashes right before the quotes
                    if q == "'''" or bs % 2 == 0:
                        while t.startswith(q[0], k + 3):  # up to two quotes may end the content
                            k += 1
                        return k + 3
                    j = k + 1
        q, j = t[i], i + 1
        while j < len(t) and t[j] != q and t[j] != "\n":
            j += 2 if (q == '"' and t[j] == "\\") else 1
        return j + 1

    def _value(self, i: int, path: tuple) -> int:
        """Skip the value starting at i; record keys of inline tables. Returns the offset after it."""
        t = self.text
        if i >= len(t):
            return i
        if t[i] in "\"'":
            return self._string(i)
        if t[i] in "[{":
            close, inline, index = ("]" if t[i] == "[" else "}"), t[i] == "{", 0
            j = i + 1
            while j < len(t):
                j = self._blank(j)
                if j >= len(t) or t[j] == close:
                    return j + 1
                if t[j] == ",":
                    j += 1
                    index += 1
                    continue
                if inline:
                    names, k = self._key(j)
                    while k < len(t) and t[k] in " \t":
                        k += 1
                    if names and k < len(t) and t[k] == "=":
                        k += 1
                        while k < len(t) and t[k] in " \t":
                            k += 1
                        sub = path + tuple(names)
                        self.keys[sub] = (j, k)
                        j = self._value(k, sub)
                        continue
                    j = k + 1
                else:
                    j = self._value(j, path + (index,))
            return j
        m = re.compile(r"[^\s,\]}#]+").match(t, i)
        return m.end() if m else i + 1

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a text offset."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def find(self, key: tuple, in_value: int | None = None) -> tuple[int, int] | None:
        """(line, column) of ``key`` (or of character ``in_value`` of its string value); walks up
        to the nearest enclosing key or table that is present."""
        k = tuple(key)
        while k:
            if k not in self.keys and k + (0,) in self.keys:  # [[table]] where [table] was meant
                k = k + (0,)
            if k in self.keys:
                key_off, val_off = self.keys[k]
                if in_value is not None and val_off < len(self.text) and self.text[val_off] in "\"'":
                    return self.position(self._string_offset(val_off, in_value))
                return self.position(key_off)
            k = k[:-1]
            in_value = None
        return None

    def _string_offset(self, start: int, index: int) -> int:
        """Raw text offset of decoded character ``index`` of the TOML string at ``start``."""
        t = self.text
        multi = t.startswith('"""', start) or t.startswith("'''", start)
        literal = t[start] == "'"
        j = start + (3 if multi else 1)
        if multi and t.startswith("\r\n", j):
            j += 2
        elif multi and t.startswith("\n", j):
            j += 1
        count = 0
        while j < len(t) and count < index:
            if not literal and t[j] == "\\":
                nxt = t[j + 1:j + 2]
                if nxt == "u":
                    j += 6
                elif nxt == "U":
                    j += 10
                elif multi and nxt in (" ", "\t", "\r", "\n"):  # line-ending backslash: trimmed
                    j += 1
                    while j < len(t) and t[j] in " \t\r\n":
                        j += 1
                    continue
                else:
                    j += 2
            else:
                j += 1
            count += 1
        return j


# -- a small TOML writer ---------------------------------------------------------------------------
def scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        out = v.replace("\\", "\\\\").replace('"', '\\"')
        out = re.sub(r"[\x00-\x1f\x7f]", lambda m: {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(
            m.group(), f"\\u{ord(m.group()):04x}"), out)
        return f'"{out}"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{bare_key(k)} = {scalar(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(scalar(x) for x in v) + "]"
    raise InputError(f"cannot write a value of type {type(v).__name__} to TOML")


def bare_key(key: str) -> str:
    return key if _BARE.fullmatch(key) else scalar(str(key))


