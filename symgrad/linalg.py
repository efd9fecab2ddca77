"""``sg.linalg``: inverse, determinant, sign and log-determinant, linear solve, Cholesky
factor and integer matrix powers, each batched over leading axes as ``numpy.linalg``."""

from .ops.linalg import cholesky, det, inv, matrix_power, slogdet, solve

__all__ = ["inv", "det", "slogdet", "solve", "cholesky", "matrix_power"]
