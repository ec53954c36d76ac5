"""The operator-expression grammar of model files: algebra, conventions and precise error reports."""

from __future__ import annotations

import pickle
from functools import reduce

import numpy as np
import pytest
import scipy.sparse as sp

import detbal
from detbal.errors import InputError, MemoryBudgetError
from detbal.expressions import ExpressionError, Space, operator_symbols, parse_operator

I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)
SP = np.array([[0, 1], [0, 0]], dtype=complex)  # |0><1|


def kron(*ops):
    return reduce(np.kron, ops)


Q1, Q2, Q3 = Space(sites=1), Space(sites=2), Space(sites=3)


def op(text, space=Q2):
    return parse_operator(text, space)


# ------------------------------------------------------------------------- Pauli algebra
def test_paulis_multiply_exactly_as_the_su2_algebra():
    assert np.array_equal(op("X0*Y0", Q1), 1j * Z)
    assert np.array_equal(op("Y0*Z0", Q1), 1j * X)
    assert np.array_equal(op("X0*X0", Q1), I2)
    assert np.array_equal(op("X1*Y1 - i*Z1"), np.zeros((4, 4)))


def test_result_is_dense_complex128_of_dimension_2_to_the_sites():
    h = op("Z0", Q3)
    assert isinstance(h, np.ndarray) and h.dtype == np.complex128 and h.shape == (8, 8)
    assert sp.issparse(parse_operator("Z0", Q3, sparse=True))


def test_site_zero_is_the_leftmost_kron_factor():
    assert np.array_equal(op("0.5*Z0 + 0.2*X0*X1"), 0.5 * kron(Z, I2) + 0.2 * kron(X, X))
    assert np.array_equal(op("Z1", Q3), kron(I2, Z, I2))
    assert np.array_equal(op("X0*Z2", Q3), kron(X, I2, Z))


def test_sigma_plus_raises_the_z_eigenvalue():
    sp_, sm = op("Sp0", Q1), op("Sm0", Q1)
    assert np.array_equal(sp_, SP)  # |0><1|, |0> has Z = +1
    assert np.array_equal(sm, sp_.conj().T)
    assert np.allclose(sp_, (X + 1j * Y) / 2)
    assert np.allclose(op("Z0*Sp0 - Sp0*Z0", Q1), 2 * sp_)  # [Z, σ+] = 2σ+
    assert np.array_equal(op("Sp1*Sm1"), kron(I2, np.diag([1, 0])))


def test_identity_and_bare_numbers_mean_multiples_of_identity():
    assert np.array_equal(op("1 + Z0"), kron(np.diag([2, 0]), I2))
    assert np.array_equal(op("I"), np.eye(4))
    assert np.array_equal(op("2.5"), 2.5 * np.eye(4))
    assert np.array_equal(op("Z0 - 1 + 1"), kron(Z, I2))


# ------------------------------------------------------------------------- numbers and precedence
@pytest.mark.parametrize(
    "text, coeff",
    [
        ("2", 2), ("0.25", 0.25), (".5", 0.5), ("3.", 3), ("1e-3", 1e-3), ("2.5E+2", 250),
        ("2j", 2j), ("1.5i", 1.5j), ("i", 1j), ("j", 1j), ("0.5*i", 0.5j), ("1e-3i", 1e-3j),
        ("(1+2i)", 1 + 2j), ("pi", np.pi), ("sqrt(2)", np.sqrt(2)), ("sqrt(-4)", 2j), ("2^3", 8),
        ("2**10", 1024), ("1/4", 0.25), ("-2^2", -4), ("--3", 3), ("+1", 1),
    ],
)
def test_scalars(text, coeff):
    assert np.allclose(op(f"{text} * Z0", Q1), coeff * Z, rtol=1e-15, atol=0)


def test_complex_coefficients():
    assert np.array_equal(op("(1+2i)*Z0", Q1), (1 + 2j) * Z)
    assert np.array_equal(op("(1+2i)*Z0 + (1-2i)*Z0", Q1), 2 * Z)


def test_precedence_multiplication_before_addition():
    assert np.array_equal(op("2*X0+3*Z0*2", Q1), 2 * X + 6 * Z)
    assert np.array_equal(op("X0 - Z0*2 - 1", Q1), X - 2 * Z - I2)
    assert np.array_equal(op("X0/2 + Z0/4", Q1), X / 2 + Z / 4)


def test_unary_minus_and_powers():
    assert np.array_equal(op("-X0", Q1), -X)
    assert np.array_equal(op("-X0^2", Q1), -I2)  # -(X0^2)
    assert np.array_equal(op("(-X0)^2", Q1), I2)
    assert np.array_equal(op("2*-Z0", Q1), -2 * Z)
    assert np.array_equal(op("(X0 + Z0)**0", Q1), I2)
    assert np.allclose(op("(X0 + Z0)^3", Q1), 2 * (X + Z))  # (X+Z)^2 = 2I


def test_parenthesised_sums_multiply_out():
    lhs = op("(X0 + Z1) * (X0 - Z1)")
    assert np.array_equal(lhs, op("X0*X0 - X0*Z1 + Z1*X0 - Z1*Z1"))
    assert np.array_equal(lhs, np.zeros((4, 4)))  # X0 and Z1 commute
    assert np.array_equal(op("0.5*(X0*X1 + Y0*Y1)"), op("Sp0*Sm1 + Sm0*Sp1"))


def test_whitespace_and_newlines_are_ignored():
    assert np.array_equal(op("  0.5 *\n Z0\t+X1 "), op("0.5*Z0+X1"))


# ------------------------------------------------------------------------- d-level systems
def test_ladder_commutator_is_identity_except_the_truncated_level():
    d = 5
    comm = op("a*ad - ad*a", Space(levels=d))
    assert np.allclose(comm, np.diag([1, 1, 1, 1, 1 - d]))
    a = op("a", Space(levels=d))
    assert np.allclose(a @ np.eye(d)[:, 3], np.sqrt(3) * np.eye(d)[:, 2])  # a|3> = √3|2>
    assert np.array_equal(op("n", Space(levels=d)), np.diag(np.arange(d)).astype(complex))
    assert np.allclose(op("ad*a", Space(levels=d)), op("n", Space(levels=d)))


def test_projectors_are_transitions_ket_i_bra_j():
    p = op("P01", Space(levels=3))
    assert p[0, 1] == 1 and np.count_nonzero(p) == 1
    big = Space(levels=12)
    q = op("P(10, 3) + P( 3,10 )", big)
    assert q[10, 3] == 1 and q[3, 10] == 1 and np.count_nonzero(q) == 2
    assert np.array_equal(op("P00 + P11 + P22", Space(levels=3)), np.eye(3))


def test_operator_symbols_lists_what_parses():
    syms = operator_symbols(Q2)
    assert syms[:1] == ("I",) and "Sp1" in syms and "X2" not in syms and len(syms) == 11
    lev = operator_symbols(Space(levels=3))
    assert {"a", "ad", "n", "P21"} <= set(lev) and "P33" not in lev
    for s in syms:
        parse_operator(s, Q2)
    for s in lev:
        parse_operator(s, Space(levels=3))


# ------------------------------------------------------------------------- QuTiP agreement
def test_three_site_model_agrees_with_qutip_tensor():
    qt = pytest.importorskip("qutip")
    i2 = qt.qeye(2)
    ref = (
        0.5 * qt.tensor(qt.sigmaz(), i2, i2)
        + 0.3 * qt.tensor(qt.sigmax(), qt.sigmax(), i2)
        - 0.7j * qt.tensor(i2, qt.sigmap(), qt.sigmam())
        + 2 * qt.tensor(i2, i2, qt.sigmay())
    )
    got = op("0.5*Z0 + 0.3*X0*X1 - 0.7i*Sp1*Sm2 + 2*Y2", Q3)
    assert np.allclose(got, ref.full(), atol=1e-15)
    lev = op("a + 2*ad*a + 0.5*ad", Space(levels=4))
    a = qt.destroy(4)
    assert np.allclose(lev, (a + 2 * a.dag() * a + 0.5 * a.dag()).full(), atol=1e-15)


# ------------------------------------------------------------------------- errors
MALFORMED = [
    # (text, space, position, fragment of the reason)
    ("0.5*Z0 + Q3", Q2, 9, "unknown operator 'Q3'"),
    ("X5", Q2, 0, "out of range"),
    ("X0 + Z2", Q2, 5, "out of range"),
    ("(X0 + Z1", Q2, 0, "never closed"),
    ("X0 + Z1)", Q2, 7, "without a matching"),
    ("((X0)", Q2, 0, "never closed"),
    ("X0 Z1", Q2, 3, "unexpected 'Z1'"),
    ("X0 + 1 2", Q2, 7, "unexpected '2'"),
    ("", Q2, 0, "empty"),
    ("   ", Q2, 3, "empty"),
    ("__import__('os')", Q2, 0, "unknown operator '__import__'"),
    ("X0 + 'Z0'", Q2, 5, "string literals"),
    ('"X0"', Q2, 0, "string literals"),
    ("a.b", Space(levels=3), 1, "attribute access"),
    ("X0.real", Q2, 2, "attribute access"),
    ("X0 + * Z0", Q2, 5, "missing operand"),
    ("X0 +", Q2, 4, "missing operand"),
    ("*X0", Q2, 0, "missing operand"),
    ("()", Q2, 1, "missing operand"),
    ("X0/Z1", Q2, 3, "division by an operator"),
    ("X0/(1 - 1)", Q2, 3, "division by zero"),
    ("2X0", Q2, 1, "directly followed"),
    ("X", Q2, 0, "needs a site index"),
    ("x0", Q2, 0, "unknown operator 'x0'"),
    ("X01", Q2, 0, "leading zero"),
    ("a + ad", Q2, 0, "need `levels`"),
    ("Z0", Space(levels=3), 0, "need `sites`"),
    ("P03", Space(levels=3), 0, "out of range"),
    ("P(1, 12)", Space(levels=12), 5, "out of range"),
    ("P123", Space(levels=200), 0, "P(i,j)"),
    ("P(1 2)", Space(levels=3), 4, "expected ','"),
    ("X0^-1", Q2, 3, "non-negative integer"),
    ("X0^1.5", Q2, 3, "non-negative integer"),
    ("X0^65", Q2, 3, "larger than"),
    ("sqrt(Z0)", Q2, 5, "sqrt of an operator"),
    ("sqrt 2", Q2, 5, "expected '('"),
    ("X0 @ X1", Q2, 3, "unexpected character '@'"),
    ("X0; Z0", Q2, 2, "unexpected character ';'"),
    ("[X0]", Q2, 0, "unexpected character '['"),
    ("1e999*Z0", Q2, 0, "out of range"),
    ("X0 == X1", Q2, 3, "unexpected character '='"),
    ("lambda: 0", Q2, 0, "unknown operator 'lambda'"),
    ("(" * 150 + "X0" + ")" * 150, Q2, 100, "nested deeper"),
]


@pytest.mark.parametrize("text, space, position, reason", MALFORMED, ids=[m[0][:20] for m in MALFORMED])
def test_malformed_expressions_point_at_the_offending_column(text, space, position, reason):
    with pytest.raises(ExpressionError) as info:
        parse_operator(text, space, name="hamiltonian")
    err = info.value
    assert isinstance(err, InputError) and isinstance(err, ValueError) and isinstance(err, detbal.DetbalError)
    assert reason in err.reason + err.hint
    assert (err.position, err.column, err.text) == (position, position + 1, text)
    first, line, caret = str(err).splitlines()[:3]
    assert first.startswith("hamiltonian: ") and first.endswith(f"at column {position + 1}")
    assert caret == " " * (4 + position) + "^"


def test_expression_error_names_the_key_and_survives_pickling():
    with pytest.raises(ExpressionError, match=r"^coupling: unknown operator 'Q3' at column 8") as info:
        parse_operator("Z0 + 2*Q3", Q1, name="coupling")
    assert "I, Xk, Yk, Zk" in str(info.value)  # the hint lists the valid symbols
    back = pickle.loads(pickle.dumps(info.value))
    assert str(back) == str(info.value) and back.position == 7


@pytest.mark.parametrize(
    "kwargs", [{}, {"sites": 2, "levels": 3}, {"sites": 0}, {"levels": -1}, {"sites": True}, {"sites": 21}]
)
def test_space_needs_exactly_one_positive_size(kwargs):
    with pytest.raises(InputError):
        Space(**kwargs)


def test_bad_argument_types_are_input_errors():
    with pytest.raises(InputError, match="hamiltonian"):
        parse_operator(0.5, Q1)
    with pytest.raises(InputError, match="Space"):
        parse_operator("Z0", 1)


def test_dense_output_respects_the_memory_budget(monkeypatch):
    monkeypatch.setattr(detbal.config, "memory_budget", 1000)
    with pytest.raises(MemoryBudgetError, match="sparse=True"):
        parse_operator("Z0", Space(sites=4))
    assert parse_operator("Z0*Z3", Space(sites=4), sparse=True).nnz == 16


# -- long expressions: monomial arithmetic (O(d) per Pauli string) agrees with explicit krons -----
_LOCAL_REF = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
              "Z": np.diag([1, -1]), "Sp": np.array([[0, 1], [0, 0]]), "Sm": np.array([[0, 0], [1, 0]])}


def _kron_string(factors: dict, n: int) -> np.ndarray:
    """⊗_k factors.get(k, I) with site 0 leftmost (independent reference built with np.kron)."""
    return reduce(np.kron, [_LOCAL_REF[factors.get(k, "I")] for k in range(n)]).astype(complex)


def test_long_random_pauli_sum_equals_the_explicit_kronecker_sum():
    rng = np.random.default_rng(7)
    n, letters = 5, ["X", "Y", "Z", "Sp", "Sm"]
    parts, ref = [], np.zeros((2**n, 2**n), dtype=complex)
    for _ in range(400):
        sites = rng.choice(n, size=rng.integers(1, 4), replace=False)
        ops = {int(k): letters[rng.integers(len(letters))] for k in sites}
        c = float(np.round(rng.normal(), 6))
        parts.append(f"{c!r}*" + "*".join(f"{op}{k}" for k, op in ops.items()))
        ref += c * _kron_string(ops, n)
    parts.append("0.25")                                  # a bare number is a multiple of I
    ref += 0.25 * np.eye(2**n)
    A = parse_operator(" + ".join(parts), Space(sites=n))
    assert np.max(np.abs(A - ref)) < 1e-12


def test_products_of_non_commuting_factors_on_one_site_keep_their_order():
    # Sp0*Sm0 = |0><0|, Sm0*Sp0 = |1><1|, X0*Y0 = iZ0, (X0 + Y0)^2 = 2 I, (Sp0*X1)^2 = 0
    sp_ = Space(sites=2)
    np.testing.assert_allclose(parse_operator("Sp0*Sm0", sp_), _kron_string({0: "Sp"}, 2) @ _kron_string({0: "Sm"}, 2))
    np.testing.assert_allclose(parse_operator("X0*Y0 - i*Z0", sp_), np.zeros((4, 4)), atol=0)
    np.testing.assert_allclose(parse_operator("(X0 + Y0)^2", sp_), 2 * np.eye(4), atol=1e-15)
    np.testing.assert_allclose(parse_operator("(Sp0*X1)^2", sp_), np.zeros((4, 4)), atol=0)
    np.testing.assert_allclose(parse_operator("(2*Z1 - I)*(X0 + 1)/2", sp_),
                               (2 * _kron_string({1: "Z"}, 2) - np.eye(4)) @ (_kron_string({0: "X"}, 2) + np.eye(4)) / 2)


def test_a_twenty_thousand_term_hamiltonian_parses():
    # the benchmark shape (100 000 terms took > 60 s, 0.65 ms/term; see benchmarks/)
    n_terms = 20_000
    text = "+".join(f"{i * 1e-3}*Z{i % 8}*X{(i + 1) % 8}" for i in range(n_terms))
    A = parse_operator(text, Space(sites=8), sparse=True)
    coeff = {}
    for i in range(n_terms):
        coeff[i % 8] = coeff.get(i % 8, 0.0) + i * 1e-3
    ref = sum(c * _kron_string({k: "Z", (k + 1) % 8: "X"}, 8) for k, c in coeff.items())
    assert np.max(np.abs(A.toarray() - ref)) < 1e-9 * max(coeff.values())
