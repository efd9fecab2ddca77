"""``sg.linalg``: inverse, determinant, sign and log-determinant, linear solve and Cholesky
factor, each batched over leading axes as numpy's ``numpy.linalg``."""

from .ops.linalg import cholesky, det, inv, slogdet, solve

__all__ = ["inv", "det", "slogdet", "solve", "cholesky"]
