"""Operator expressions of model files, parsed by a tokenizer and a recursive-descent parser.

User text is never passed to ``eval``/``exec``/``ast``: only the grammar below is accepted, and
every rejection is an :class:`ExpressionError` that points at the offending column.

Grammar (EBNF; whitespace, including newlines, is ignored between tokens)::

    expression = term , { ( "+" | "-" ) , term } ;
    term       = unary , { ( "*" | "/" ) , unary } ;           (* "/" only by a number ≠ 0 *)
    unary      = ( "+" | "-" ) , unary | power ;
    power      = atom , [ ( "^" | "**" ) , INTEGER ] ;           (* 0 ≤ INTEGER ≤ MAX_POWER *)
    atom       = NUMBER | "i" | "j" | "pi" | SYMBOL
               | "P" , "(" , INTEGER , "," , INTEGER , ")"        (* levels only *)
               | "sqrt" , "(" , expression , ")"                  (* of a number only *)
               | "(" , expression , ")" ;
    NUMBER     = ( digits , [ "." , [ digits ] ] | "." , digits ) ,
                 [ ( "e" | "E" ) , [ "+" | "-" ] , digits ] , [ "i" | "j" ] ;   (* 2.5E+2, 2j, 1.5i *)
    INTEGER    = digits ;

So ``-X0^2`` is ``-(X0^2)``, ``2*X0*Z1`` multiplies left to right, and ``2X0`` (implicit
multiplication) is an error. ``^`` binds tighter than unary minus, as ``**`` in Python.

Semantics: a product of operators is the matrix product, number × operator scales, and a bare
number in a sum with operators means number·I (``1 + Z0`` = I + Z0). A purely numeric expression
``c`` is c·I.

Symbols (:func:`operator_symbols` lists them for a :class:`Space`):

* qubits (``Space(sites=N)``): ``I``; ``Xk Yk Zk`` Pauli matrices on site k = 0..N−1;
  ``Spk`` = σ⁺ = |0⟩⟨1| and ``Smk`` = σ⁻ = |1⟩⟨0| = σ⁺†. The computational basis has
  Z = diag(1, −1), so |0⟩ is "spin up" (Z = +1) and σ⁺ = (X + iY)/2 raises the Z eigenvalue
  (QuTiP's ``sigmap()``/``sigmam()``). Site 0 is the leftmost, most significant factor of
  ``np.kron`` (QuTiP's ``tensor(op0, op1, ...)``): basis index = Σ_k b_k 2^(N−1−k).
* one d-level system (``Space(levels=d)``): ``I``; ``a`` with a|n⟩ = √n |n−1⟩ (truncated, so
  [a, a†] = I except the last diagonal entry, 1 − d); ``ad`` = a†; ``n`` = a†a = diag(0..d−1);
  ``Pij`` = |i⟩⟨j| for single digits i, j, and ``P(i, j)`` = |i⟩⟨j| for any 0 ≤ i, j < d.

Qubits and levels are not combined: a :class:`Space` has exactly one of ``sites``/``levels``.
"""

from __future__ import annotations

import cmath
import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .. import config
from .._checks import as_positive_int
from ..errors import InputError

__all__ = ["Space", "ExpressionError", "parse_operator", "operator_symbols", "MAX_SITES", "MAX_POWER"]

#: largest number of qubits a :class:`Space` accepts (dense output is further bounded by
#: ``detbal.config.memory_budget``; 13 qubits fit the default 2 GiB)
MAX_SITES = 20
#: largest integer exponent accepted after ``^`` / ``**``
MAX_POWER = 64
_MAX_DEPTH = 100  # nesting of parentheses / unary signs (keeps far below the recursion limit)

_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_]")
_PUNCT = ("**", "+", "-", "*", "/", "^", "(", ")", ",")
_WS = re.compile(r"[ \t\r\n]*")
_QUBIT = re.compile(r"(X|Y|Z|Sp|Sm)([0-9]+)")
_PROJ = re.compile(r"P([0-9]+)")
_LOCAL = {
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
    "Sp": np.array([[0, 1], [0, 0]], dtype=complex),  # |0><1|
    "Sm": np.array([[0, 0], [1, 0]], dtype=complex),  # |1><0|
}


@dataclass(frozen=True)
class Space:
    """The register an expression acts on: ``sites`` qubits XOR one system of ``levels`` levels.

    Raises:
        InputError: both or neither given, not a positive integer, or ``sites > MAX_SITES``.
    """

    sites: int | None = None
    levels: int | None = None

    def __post_init__(self):
        if (self.sites is None) == (self.levels is None):
            raise InputError(
                "give either `sites` (number of qubits) or `levels` (one d-level system), "
                f"exactly one of them; got sites={self.sites!r}, levels={self.levels!r}"
            )
        if self.sites is not None:
            n = as_positive_int(self.sites, "sites")
            if n > MAX_SITES:
                raise InputError(f"`sites` must be ≤ {MAX_SITES} (dense 2^sites matrices), got {n}")
            object.__setattr__(self, "sites", n)
        else:
            object.__setattr__(self, "levels", as_positive_int(self.levels, "levels"))

    @property
    def dim(self) -> int:
        """Hilbert-space dimension d (2**sites or levels)."""
        return 2**self.sites if self.sites is not None else self.levels

    def describe(self) -> str:
        if self.sites is not None:
            return f"{self.sites} qubit{'s' if self.sites != 1 else ''}"
        return f"a {self.levels}-level system"


def operator_symbols(space: Space) -> tuple[str, ...]:
    """Operator symbols valid in ``space``, in a stable order.

    Qubits: ``I`` then ``Xk Yk Zk Spk Smk`` per site. Levels: ``I a ad n`` then ``Pij`` for
    i, j < min(d, 10); for d > 10 the general form ``P(i,j)`` (0 ≤ i, j < d) is also accepted
    but not enumerated. Numbers, ``i``/``j``, ``pi`` and ``sqrt(...)`` are not operators.
    """
    if space.sites is not None:
        return ("I",) + tuple(f"{s}{k}" for k in range(space.sites) for s in _LOCAL)
    m = min(space.levels, 10)
    return ("I", "a", "ad", "n") + tuple(f"P{i}{j}" for i in range(m) for j in range(m))


def _summary(space: Space) -> str:
    if space.sites is not None:
        k = "0" if space.sites == 1 else f"0..{space.sites - 1}"
        return f"valid operators for {space.describe()}: I, Xk, Yk, Zk, Spk, Smk with k = {k}"
    d = space.levels
    return f"valid operators for {space.describe()}: I, a, ad, n, Pij, P(i,j) with 0 ≤ i, j < {d}"


class ExpressionError(InputError):
    """A malformed operator expression.

    Attributes:
        text: the expression.
        position: 0-based offset of the offending character in ``text``.
        column: ``position + 1`` (1-based, as printed in the message).
        reason: the message without location.
        name: what the expression is (e.g. ``"hamiltonian"``).

    The message is ``"<name>: <reason> at column <column>"``, then the expression with a caret
    under the offending character, then an optional hint (e.g. the valid operators).
    """

    def __init__(self, reason: str, text: str, position: int, name: str = "expression", hint: str = ""):
        self.reason, self.text, self.position, self.name = reason, text, int(position), name
        self.column, self.hint = self.position + 1, hint
        line = re.sub(r"[\t\r\n]", " ", text)
        msg = f"{name}: {reason} at column {self.column}\n    {line}\n    {' ' * self.position}^"
        super().__init__(msg + (f"\n  {hint}" if hint else ""))

    def __reduce__(self):
        return (type(self), (self.reason, self.text, self.position, self.name, self.hint))


class _Tok(NamedTuple):
    kind: str  # "num" | "name" | "op" | "end"
    text: str
    pos: int
    value: float | complex | None = None
    integer: int | None = None  # set for plain integer literals (digits only)


def _scalar(v) -> bool:
    return not (sp.issparse(v) or isinstance(v, (_Mono, _MonoSum)))


class _Mono:
    """A qubit operator with one entry per column, M|c⟩ = vals[c]·|c ⊕ F⟩ (basis index c, flip
    mask F): every Pauli string, σ± product and their multiples. Products cost O(d):
    (M₁M₂)|c⟩ = vals₂[c]·vals₁[c ⊕ F₂]·|c ⊕ F₂ ⊕ F₁⟩ — no sparse-matrix construction per term,
    which made a 100 000-term Hamiltonian take minutes (scipy overhead per kron and product)."""

    __slots__ = ("flip", "vals")

    def __init__(self, flip: int, vals: np.ndarray):
        self.flip, self.vals = flip, vals

    def __matmul__(self, other: "_Mono") -> "_Mono":
        idx = np.arange(self.vals.size) ^ other.flip
        return _Mono(self.flip ^ other.flip, other.vals * self.vals[idx])

    def __mul__(self, c) -> "_Mono":
        return _Mono(self.flip, self.vals * c)

    __rmul__ = __mul__

    def __truediv__(self, c) -> "_Mono":
        return _Mono(self.flip, self.vals / c)

    def __neg__(self) -> "_Mono":
        return _Mono(self.flip, -self.vals)


class _MonoSum:
    """A sum of :class:`_Mono` grouped by flip mask: {F: vals} (at most d groups of d entries)."""

    __slots__ = ("groups",)

    def __init__(self, groups: dict):
        self.groups = groups

    def __mul__(self, c) -> "_MonoSum":
        return _MonoSum({f: v * c for f, v in self.groups.items()})

    __rmul__ = __mul__

    def __truediv__(self, c) -> "_MonoSum":
        return _MonoSum({f: v / c for f, v in self.groups.items()})

    def __neg__(self) -> "_MonoSum":
        return _MonoSum({f: -v for f, v in self.groups.items()})


def _csr(v, d: int):
    """A parsed value (number, csr, _Mono, _MonoSum) as a (d, d) complex csr_array."""
    if isinstance(v, (_Mono, _MonoSum)):
        groups = v.groups if isinstance(v, _MonoSum) else {v.flip: v.vals}
        cols = np.arange(d)
        if not groups:
            return sp.csr_array((d, d), dtype=complex)
        rows = np.concatenate([cols ^ f for f in groups])
        data = np.concatenate(list(groups.values()))
        out = sp.csr_array((data, (rows, np.tile(cols, len(groups)))), shape=(d, d), dtype=complex)
        out.eliminate_zeros()
        return out
    if _scalar(v):
        return v * sp.identity(d, dtype=complex, format="csr")
    return v


class _Parser:
    def __init__(self, text: str, space: Space, name: str):
        self.text, self.space, self.name = text, space, name
        self.d = space.dim
        self.p = 0
        self.depth = 0
        self.cache: dict = {}  # qubit symbol → _Mono (values are never mutated)
        self.tok = self._lex()

    def error(self, reason: str, pos: int, hint: str = "") -> ExpressionError:
        return ExpressionError(reason, self.text, pos, self.name, hint)

    # ---------------------------------------------------------------- tokens
    def _lex(self) -> _Tok:
        s = self.text
        p = _WS.match(s, self.p).end()
        if p == len(s):
            tok = _Tok("end", "", p)
        elif m := _NUMBER.match(s, p):
            lit, end = m.group(), m.end()
            imag = end < len(s) and s[end] in "ij" and not _IDENT_CHAR.match(s, end + 1)
            end += imag
            if _IDENT_CHAR.match(s, end):
                raise self.error(f"number {s[p:end]!r} is directly followed by {s[end]!r} (write '*')", end)
            val = float(lit)
            if not math.isfinite(val):
                raise self.error(f"number {lit!r} is out of range", p)
            integer = int(lit) if lit.isdigit() and not imag else None
            tok = _Tok("num", s[p:end], p, complex(0.0, val) if imag else val, integer)
        elif m := _IDENT.match(s, p):
            tok = _Tok("name", m.group(), p)
        else:
            op = next((o for o in _PUNCT if s.startswith(o, p)), None)
            if op is None:
                c = s[p]
                reason = "string literals are not allowed" if c in "'\"" else f"unexpected character {c!r}"
                if c == ".":
                    reason += " (attribute access is not allowed)"
                raise self.error(reason, p)
            tok = _Tok("op", op, p)
        self.p = p + len(tok.text)
        return tok

    def advance(self) -> _Tok:
        tok, self.tok = self.tok, self._lex()
        return tok

    def at(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def expect(self, op: str, what: str) -> _Tok:
        if not self.at(op):
            raise self.error(f"expected '{op}' {what}, got {self._show(self.tok)}", self.tok.pos)
        return self.advance()

    @staticmethod
    def _show(tok: _Tok) -> str:
        return "the end of the expression" if tok.kind == "end" else repr(tok.text)

    # ---------------------------------------------------------------- grammar
    def parse(self):
        if self.tok.kind == "end":
            raise self.error("empty expression", self.tok.pos)
        v = self.expression()
        if self.tok.kind != "end":
            if self.at(")"):
                raise self.error("unbalanced parentheses: ')' without a matching '('", self.tok.pos)
            raise self.error(
                f"unexpected {self._show(self.tok)} (expected an operator + - * / ^ or the end)", self.tok.pos
            )
        return v

    def expression(self):
        terms = [self.term()]
        while self.at("+", "-"):
            sign = self.advance().text
            w = self.term()
            terms.append(w if sign == "+" else -w)
        return terms[0] if len(terms) == 1 else self.add(terms)

    def term(self):
        v = self.unary()
        while self.at("*", "/"):
            op = self.advance().text
            pos = self.tok.pos
            w = self.unary()
            if op == "*":
                v = self.multiply(v, w)
            elif not _scalar(w):
                raise self.error("division by an operator (only division by a number is allowed)", pos)
            elif w == 0:
                raise self.error("division by zero", pos)
            else:
                v = v / w
        return v

    def unary(self):
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error(f"expression nested deeper than {_MAX_DEPTH} levels", self.tok.pos)
        if self.at("+", "-"):
            sign = self.advance().text
            v = self.unary()
            v = -v if sign == "-" else v
        else:
            v = self.power()
        self.depth -= 1
        return v

    def power(self):
        v = self.atom()
        if self.at("^", "**"):
            self.advance()
            tok = self.tok
            if tok.kind != "num" or tok.integer is None:
                reason = f"the exponent must be a non-negative integer literal, got {self._show(tok)}"
                raise self.error(reason, tok.pos)
            if tok.integer > MAX_POWER:
                raise self.error(f"exponent {tok.integer} is larger than {MAX_POWER}", tok.pos)
            self.advance()
            if _scalar(v):
                try:
                    return v**tok.integer
                except OverflowError:
                    raise self.error("the power overflows", tok.pos) from None
            if isinstance(v, _Mono):
                result, base, k = _Mono(0, np.ones(self.d, dtype=complex)), v, tok.integer
                while k:
                    result, base, k = (result @ base if k & 1 else result), base @ base, k >> 1
                return result
            v = _csr(v, self.d)
            result, base, k = sp.identity(self.d, dtype=complex, format="csr"), v, tok.integer
            while k:  # binary exponentiation
                result, base, k = (result @ base if k & 1 else result), base @ base, k >> 1
            v = sp.csr_array(result)
        return v

    def atom(self):
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            return tok.value
        if tok.kind == "name":
            return self.symbol(tok)
        if self.at("("):
            self.advance()
            v = self.expression()
            if self.tok.kind == "end":
                raise self.error("unbalanced parentheses: '(' is never closed", tok.pos)
            if not self.at(")"):
                reason = f"unexpected {self._show(self.tok)} (expected an operator + - * / ^ or ')')"
                raise self.error(reason, self.tok.pos)
            self.advance()
            return v
        got = self._show(tok)
        raise self.error(f"missing operand: expected a number, an operator or '(', got {got}", tok.pos)

    def symbol(self, tok: _Tok):
        """Resolve the current name token (before lexing the next one, so errors come in order)."""
        name, pos = tok.text, tok.pos
        if name != "sqrt" and (name != "P" or self.space.sites is not None):
            v = self.lookup(name, pos)
            self.advance()
            return v
        self.advance()
        if name == "sqrt":
            self.expect("(", "after 'sqrt'")
            arg_pos = self.tok.pos
            v = self.expression()
            self.expect(")", "to close 'sqrt('")
            if not _scalar(v):
                raise self.error("sqrt of an operator is not supported (only of a number)", arg_pos)
            return cmath.sqrt(v) if isinstance(v, complex) or v < 0 else math.sqrt(v)
        return self.projector()

    def lookup(self, name: str, pos: int):
        if name in ("i", "j"):
            return 1j
        if name == "pi":
            return math.pi
        if name == "I":
            if self.space.sites is not None:
                return _Mono(0, np.ones(self.d, dtype=complex))
            return sp.identity(self.d, dtype=complex, format="csr")
        if self.space.sites is not None:
            return self.qubit_symbol(name, pos)
        return self.level_symbol(name, pos)

    def unknown(self, name: str, pos: int, hint: str = ""):
        return self.error(f"unknown operator {name!r}", pos, hint or _summary(self.space))

    def qubit_symbol(self, name: str, pos: int):
        n = self.space.sites
        m = _QUBIT.fullmatch(name)
        if m is None:
            if name in _LOCAL:
                raise self.unknown(name, pos, f"'{name}' needs a site index, e.g. {name}0")
            if _QUBIT.fullmatch(name[:1].upper() + name[1:]):
                raise self.unknown(name, pos, f"did you mean {name[:1].upper() + name[1:]!r}?")
            if name in ("a", "ad", "n") or _PROJ.fullmatch(name) or name == "P":
                hint = f"ladder operators and projectors need `levels`; {_summary(self.space)}"
                raise self.unknown(name, pos, hint)
            raise self.unknown(name, pos)
        letter, digits = m.groups()
        if len(digits) > 1 and digits[0] == "0":
            raise self.error(f"site index of {name!r} has a leading zero", pos)
        k = int(digits)
        if k >= n:
            hint = f"{self.space.describe()}: sites 0..{n - 1}"
            raise self.error(f"site {k} in {name!r} is out of range", pos, hint)
        if name not in self.cache:  # site k is bit n−1−k of the basis index (site 0 leftmost)
            bit = (np.arange(self.d) >> (n - 1 - k)) & 1
            flip = 0 if letter == "Z" else 1 << (n - 1 - k)
            vals = {"X": np.ones(self.d), "Y": 1j * (1 - 2 * bit), "Z": 1.0 - 2 * bit,
                    "Sp": bit.astype(float), "Sm": 1.0 - bit}[letter]
            self.cache[name] = _Mono(flip, np.asarray(vals, dtype=complex))
        return self.cache[name]

    def level_symbol(self, name: str, pos: int):
        d = self.d
        if name in ("a", "ad", "n"):
            a = sp.csr_array(sp.diags([np.sqrt(np.arange(1, d, dtype=complex))], [1], shape=(d, d)))
            n = sp.csr_array(sp.diags([np.arange(d, dtype=complex)], [0]))  # exact integers
            return {"a": a, "ad": sp.csr_array(a.T), "n": n}[name]
        m = _PROJ.fullmatch(name)
        if m:
            digits = m.group(1)
            if len(digits) != 2:
                raise self.error(f"{name!r}: Pij takes two single-digit levels; write P(i,j)", pos)
            return self.transition(int(digits[0]), int(digits[1]), pos, pos)
        if _QUBIT.fullmatch(name) or name in _LOCAL:
            raise self.unknown(name, pos, f"Pauli operators need `sites`; {_summary(self.space)}")
        if name in ("adag", "a_dag", "Ad"):
            raise self.unknown(name, pos, "did you mean 'ad'?")
        raise self.unknown(name, pos)

    def projector(self):
        self.expect("(", "after 'P' (projector P(i,j) = |i><j|)")
        i, ipos = self.level_index()
        self.expect(",", "between the two levels of P(i,j)")
        j, jpos = self.level_index()
        self.expect(")", "to close P(i,j)")
        return self.transition(i, j, ipos, jpos)

    def level_index(self) -> tuple[int, int]:
        tok = self.tok
        if tok.kind != "num" or tok.integer is None:
            raise self.error(f"expected a level index (an integer ≥ 0), got {self._show(tok)}", tok.pos)
        self.advance()
        return tok.integer, tok.pos

    def transition(self, i: int, j: int, ipos: int, jpos: int):
        for k, p in ((i, ipos), (j, jpos)):
            if k >= self.d:
                hint = f"{self.space.describe()}: levels 0..{self.d - 1}"
                raise self.error(f"level {k} is out of range", p, hint)
        return sp.csr_array(([1.0 + 0j], ([i], [j])), shape=(self.d, self.d))

    def multiply(self, v, w):
        """v·w: scaling by a number, O(d) products of monomials, else sparse matrix products."""
        if _scalar(v) or _scalar(w):
            return v * w
        if isinstance(v, _Mono) and isinstance(w, _Mono):
            return v @ w
        return sp.csr_array(_csr(v, self.d) @ _csr(w, self.d))

    def add(self, terms: list):
        """Σ terms at once (a number in a sum with operators is a multiple of I): numbers and
        monomials accumulate by flip mask (O(d) per term), sparse terms are summed at the end."""
        numbers = [t for t in terms if _scalar(t)]
        if len(numbers) == len(terms):
            return sum(numbers)
        groups: dict = {}
        sparse_terms = []
        for t in terms:
            parts = (t.groups.items() if isinstance(t, _MonoSum) else ((t.flip, t.vals),)
                     if isinstance(t, _Mono) else None)
            if parts is None:
                if not _scalar(t):
                    sparse_terms.append(t)
                continue
            for f, vals in parts:
                groups[f] = groups[f] + vals if f in groups else vals.copy()
        if numbers and (groups or self.space.sites is not None) and not sparse_terms:
            groups[0] = groups.get(0, np.zeros(self.d, dtype=complex)) + sum(numbers)
            numbers = []
        if not sparse_terms and not numbers:
            return _MonoSum(groups)
        total = _csr(_MonoSum(groups), self.d) if groups else sp.csr_array((self.d, self.d), dtype=complex)
        for t in sparse_terms:
            total = total + t
        if numbers:
            total = total + sum(numbers) * sp.identity(self.d, dtype=complex, format="csr")
        return sp.csr_array(total)


def parse_operator(text: str, space: Space, name: str = "hamiltonian", *, sparse: bool = False):
    """Parse an operator expression into a matrix on ``space`` (grammar in the module docstring).

    Args:
        text: e.g. ``"0.5*Z0 + 0.2*X0*X1"`` (qubits) or ``"a*ad + 0.1*(a + ad)"`` (levels).
        space: :class:`Space` with ``sites`` (qubits) or ``levels``.
        name: what the expression is, used in error messages (a TOML key such as ``"hamiltonian"``).
        sparse: return a ``scipy.sparse.csr_array`` instead of a dense array.

    Returns:
        (d, d) complex128 ndarray (or csr_array), d = 2**sites or levels. Hermiticity is not checked.

    Raises:
        ExpressionError: malformed expression (an :class:`InputError`, hence a ``ValueError``);
            ``.position`` is the 0-based offset of the offending character.
        InputError: ``text`` is not a string or ``space`` is not a :class:`Space`.
        MemoryBudgetError: the dense d×d result exceeds ``detbal.config.memory_budget``.
    """
    if not isinstance(space, Space):
        raise InputError(f"`space` must be a detbal.expressions.Space, got {type(space).__name__}")
    if not isinstance(text, str):
        raise InputError(f"`{name}` must be an operator expression (a string), got {type(text).__name__}")
    d = space.dim
    if not sparse:
        config.check_memory(16 * d * d, f"dense {d}×{d} operator `{name}`", "parse_operator(sparse=True)")
    with np.errstate(all="ignore"):  # overflow is reported below, as an ExpressionError
        v = sp.csr_array(_csr(_Parser(text, space, name).parse(), d), dtype=np.complex128)
    if not np.all(np.isfinite(v.data)):
        raise ExpressionError("the value overflows (not finite)", text, 0, name)
    return v if sparse else np.asarray(v.toarray(), dtype=np.complex128)
