"""``sg.linalg``: inverse, determinant, sign and log-determinant, linear solve, Cholesky
factor and integer matrix powers, each batched over leading axes as ``numpy.linalg``."""

from .ops.linalg import NAMESPACE, cholesky, det, inv, matrix_power, slogdet, solve  # noqa: F401

__all__ = list(NAMESPACE)
