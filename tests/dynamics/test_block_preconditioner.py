"""The Sylvester preconditioner of the iterative solvers, block by block when H_eff conserves a charge."""

import numpy as np
from systems import random_hermitian

from detbal.linalg.linsolve import SylvesterPreconditioner


def test_block_diagonal_heff_is_inverted_block_by_block_and_equals_the_schur_solve(rng):
    d, sizes = 12, [1, 3, 5, 3]
    H = np.zeros((d, d), complex)
    start = 0
    for n in sizes:
        H[start:start + n, start:start + n] = random_hermitian(rng, n) - 0.5j * np.diag(rng.uniform(0.1, 1, n))
        start += n
    perm = rng.permutation(d)                         # hide the blocks behind a permutation
    Heff = H[np.ix_(perm, perm)]
    P = SylvesterPreconditioner(Heff, 0.3)
    Q = SylvesterPreconditioner(Heff, 0.3, kind="schur")
    assert P.kind == "eig-blocks" and len(P.blocks) == len(sizes)
    c = rng.normal(size=d * d) + 1j * rng.normal(size=d * d)
    for f, g in ((P.solve, Q.solve), (P.solve_h, Q.solve_h)):
        np.testing.assert_allclose(f(c), g(c), rtol=0, atol=1e-12 * np.linalg.norm(g(c)))
    # and the solve inverts (S − z): −i(H X − X H†) − zX = C
    X = P.solve(c).reshape(d, d, order="F")
    C = -1j * (Heff @ X - X @ Heff.conj().T) - 0.3 * X
    np.testing.assert_allclose(C.reshape(-1, order="F"), c, atol=1e-11 * np.linalg.norm(c))
