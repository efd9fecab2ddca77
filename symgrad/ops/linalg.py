"""Linear algebra: matmul (numpy's ``@`` with batching), dot as a composite of it, and the
``sg.linalg`` functions inv, det, slogdet, solve and cholesky (batched over leading axes).

A singular matrix (inv, solve) or one that is not positive definite (cholesky) makes the numpy
forward raise ``LinAlgError``; the evaluator raises ``InputError`` saying so instead (the C
backend, which scalarizes them as LAPACK's unblocked algorithms, gives NaN there). ``det`` of
a singular matrix is 0 (and ``slogdet`` gives sign 0, logabsdet -inf), but their gradients use
``inv`` and raise the same InputError there. Ill-conditioned matrices are not detected: the
results carry numpy's rounding error, growing with the condition number.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, ShapeError
from ..ir import Node
from ..ir.types import broadcast_shapes, check_size, float_of, promote
from ._define import apply, batch_align, const, define_op, lift
from .arith import add, mul, neg
from .elements import cholesky_lower, solve_square
from .elements import slogdet as slogdet_elements
from .elementwise import exp
from .reduce import object_array
from .shape import broadcast_to, reshape, swap_last, transpose


def _batch_shape(a, b) -> tuple:
    try:
        return broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    except ShapeError:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: batch dimensions {a.shape[:-2]} and "
                         f"{b.shape[:-2]} cannot be broadcast together") from None


def _matmul_infer(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: operands must have at least one "
                         f"dimension; use * to multiply by a scalar")
    if "bool" in (a.dtype, b.dtype):
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: operands must be numbers, not bool")
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ShapeError(f"matmul: {a.shape} @ {b.shape}: inner dimensions {a.shape[-1]} and "
                         f"{inner_b} differ")
    rows = a.shape[-2:-1]            # () for a vector a
    cols = b.shape[-1:] if b.ndim >= 2 else ()
    return check_size(_batch_shape(a, b) + rows + cols, "matmul"), promote(a.dtype, b.dtype)


def _as_matrix_grad(g: Node, a: Node, b: Node) -> Node:
    """g with the axes numpy dropped for vector operands put back (batch + (n, m))."""
    shape = g.shape
    if a.ndim == 1:
        shape = shape[:-1] + (1,) + shape[-1:] if b.ndim >= 2 else shape + (1,)
    if b.ndim == 1:
        shape = shape + (1,)
    return reshape(g, shape)


def _grad_a(g, out, a, b):
    # C = A B  =>  dA = G B^T (batched; the driver sums broadcast batch axes away)
    if a.ndim == 1 and b.ndim == 1:
        return mul(g, b)
    if b.ndim == 1:                                   # (.., n, k) @ (k,): dA = G[.., None] b
        return mul(reshape(g, g.shape + (1,)), b)
    grad = matmul(_as_matrix_grad(g, a, b), swap_last(b))
    return reshape(grad, grad.shape[:-2] + grad.shape[-1:]) if a.ndim == 1 else grad


def _grad_b(g, out, a, b):
    # C = A B  =>  dB = A^T G
    if a.ndim == 1 and b.ndim == 1:
        return mul(g, a)
    if a.ndim == 1:                                   # (k,) @ (.., k, m): dB = a[:, None] G
        return mul(reshape(a, (a.shape[0], 1)), reshape(g, g.shape[:-1] + (1,) + g.shape[-1:]))
    grad = matmul(swap_last(a), _as_matrix_grad(g, a, b))
    return reshape(grad, grad.shape[:-1]) if b.ndim == 1 else grad


def _matmul_batch(batch, a, b):
    """a @ b on batched operands: vectors become one-row/one-column matrices, batch axes align."""
    vector_a, vector_b = a.ndim == len(batch) + 1, b.ndim == len(batch) + 1
    a = a[..., None, :] if vector_a else a
    b = b[..., :, None] if vector_b else b
    ndim = max(a.ndim, b.ndim) - len(batch)
    out = np.matmul(batch_align(a, batch, ndim), batch_align(b, batch, ndim))
    if vector_a and vector_b:
        return out[..., 0, 0]
    return out[..., 0, :] if vector_a else out[..., 0] if vector_b else out


def _matmul_sympy(sp, a, b):
    return object_array(np.matmul(a, b))


matmul_op = define_op(
    "matmul", deps="matmul", infer=_matmul_infer, forward=np.matmul, public=False,
    bprop=(_grad_a, _grad_b), sympy=_matmul_sympy, emit={"batch": _matmul_batch},
    doc="matrix product a @ b (numpy rules: vectors, batches with broadcast leading axes)")


def matmul(a, b) -> Node:
    """Matrix product ``a @ b`` with numpy's rules: matrix·matrix, matrix·vector,
    vector·matrix, vector·vector, and batches whose leading axes broadcast.

    >>> import symgrad as sg
    >>> A, B = sg.var("A", shape=(5, 3, 4)), sg.var("B", shape=(4, 2))
    >>> (A @ B).shape
    (5, 3, 2)
    """
    return apply(matmul_op, (a, b))


def dot(a, b) -> Node:
    """numpy's ``dot``: a product for scalars, ``matmul`` up to 2-D, and for N-D arrays the
    sum over the last axis of ``a`` and the second-to-last of ``b``.

    >>> import symgrad as sg
    >>> x, y = sg.var("x", shape=(3,)), sg.var("y", shape=(3,))
    >>> sg.evaluate(sg.dot(x, y), {"x": [1.0, 2.0, 3.0], "y": [4.0, 5.0, 6.0]})[0].item()
    32.0
    """
    nodes = [v.dtype for v in (a, b) if isinstance(v, Node)]
    a, b = (lift(v, nodes[0] if nodes else None) for v in (a, b))
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)
    inner = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner:
        raise ShapeError(f"dot: {a.shape} . {b.shape}: inner dimensions {a.shape[-1]} and "
                         f"{inner} differ")
    if b.ndim == 1:
        return reshape(matmul(reshape(a, (-1, inner)), b), a.shape[:-1])
    # move b's contracted axis to the front, flatten the rest: (k, rest) then one matmul
    axes = (b.ndim - 2,) + tuple(i for i in range(b.ndim) if i != b.ndim - 2)
    b2 = reshape(transpose(b, axes), (inner, -1))
    rest = b.shape[:-2] + b.shape[-1:]
    return reshape(matmul(reshape(a, (-1, inner)), b2), a.shape[:-1] + rest)


# -- sg.linalg ----------------------------------------------------------------------------------
def _check_square(opname: str, a: Node) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{opname}: expects square matrices (..., n, n), got shape {a.shape}")
    if a.dtype == "bool":
        raise ShapeError(f"{opname}: expects numbers, not bool")


def _raising_input_error(opname: str, problem: str, fn):
    """numpy's ``fn`` with its LinAlgError turned into symgrad's InputError."""
    def forward(*arrays):
        try:
            return fn(*arrays)
        except np.linalg.LinAlgError as exc:
            raise InputError(f"{opname}: {problem} (numpy: {exc}); check the matrix, or add a "
                             f"small multiple of the identity to regularise it") from None
    return forward


def _square_infer(opname: str, batch_only: bool = False):
    def infer(a):
        _check_square(opname, a)
        return (a.shape[:-2] if batch_only else a.shape), float_of(a.dtype)
    return infer


def _batched_sympy(sp, a, fn) -> np.ndarray:
    """``fn(sympy.Matrix)`` for each matrix of the object array ``a`` (..., n, n): a scalar or
    a Matrix per batch index, assembled into one object array."""
    results = {idx: fn(sp.Matrix(a[idx])) for idx in np.ndindex(a.shape[:-2])}
    first = next(iter(results.values()), None)
    inner = tuple(first.shape) if hasattr(first, "shape") else ()
    out = np.empty(a.shape[:-2] + inner, dtype=object)
    for idx, value in results.items():
        out[idx] = np.array(value.tolist(), dtype=object) if inner else value
    return out


def _symmetric_part(a):
    return (a + np.swapaxes(a, -1, -2)) / 2


def _over_leading_axes(forward, one_matrix) -> dict:
    """numpy.linalg maps over leading axes, so the batched form is the forward itself; the
    scalarized form applies ``one_matrix`` (an (n, n) object array of nodes -> a node or an
    object array) to each matrix."""
    def scalarize(a):
        results = {idx: one_matrix(a[idx]) for idx in np.ndindex(a.shape[:-2])}
        inner = np.shape(next(iter(results.values()), ()))
        out = np.empty(a.shape[:-2] + inner, dtype=object)
        for idx, value in results.items():
            out[idx] = value
        return out
    return {"batch": lambda batch, a: forward(a), "scalarize": scalarize}


def _det_of(sign, logdet):
    return mul(sign, exp(logdet))                   # numpy's det: sign * exp(logdet)


def _slogdet_sign(a):
    return np.linalg.slogdet(a)[0]


def _logabsdet(a):
    return np.linalg.slogdet(a)[1]


_inv_forward = _raising_input_error("inv", "singular matrix", np.linalg.inv)
_cholesky_forward = _raising_input_error("cholesky", "matrix is not positive definite",
                                         lambda a: np.linalg.cholesky(_symmetric_part(a)))


def _times_transposed_inverse(g: Node, a: Node) -> Node:
    """g[..., None, None] * inv(a)^T: the gradient of det-like functions of a."""
    return mul(reshape(g, g.shape + (1, 1)), swap_last(inv(a)))


inv_op = define_op(
    "inv", infer=_square_infer("inv"), public=False,
    forward=_inv_forward,
    # d inv(A) = -inv(A) dA inv(A)  =>  dA = -inv(A)^T G inv(A)^T
    bprop=(lambda g, out, a: neg(matmul(matmul(swap_last(out), g), swap_last(out))),),
    sympy=lambda sp, a: _batched_sympy(sp, a, lambda m: m.inv()),
    emit=_over_leading_axes(_inv_forward, lambda m: solve_square(m, np.eye(len(m)).astype(
        object))), jax=lambda jnp, a: jnp.linalg.inv(a),
    doc="matrix inverse (batched)")

det_op = define_op(
    "det", infer=_square_infer("det", batch_only=True), forward=np.linalg.det, public=False,
    bprop=(lambda g, out, a: _times_transposed_inverse(mul(g, out), a),),   # det * inv(A)^T
    sympy=lambda sp, a: _batched_sympy(sp, a, lambda m: m.det()),
    emit=_over_leading_axes(np.linalg.det, lambda m: _det_of(*slogdet_elements(m))),
    jax=lambda jnp, a: jnp.linalg.det(a),
    doc="determinant (batched)")

slogdet_sign_op = define_op(
    "slogdet_sign", infer=_square_infer("slogdet", batch_only=True), public=False,
    forward=_slogdet_sign,
    emit=_over_leading_axes(_slogdet_sign, lambda m: slogdet_elements(m)[0]),
    jax=lambda jnp, a: jnp.linalg.slogdet(a)[0],
    bprop=(None,),                                  # piecewise constant: no gradient path
    sympy=lambda sp, a: _batched_sympy(sp, a, lambda m: sp.sign(m.det())),
    doc="the sign of the determinant (-1, 0 or 1), slogdet's first output")

logabsdet_op = define_op(
    "logabsdet", infer=_square_infer("slogdet", batch_only=True), public=False,
    forward=_logabsdet,
    emit=_over_leading_axes(_logabsdet, lambda m: slogdet_elements(m)[1]),
    jax=lambda jnp, a: jnp.linalg.slogdet(a)[1],
    bprop=(lambda g, out, a: _times_transposed_inverse(g, a),),             # inv(A)^T
    sympy=lambda sp, a: _batched_sympy(sp, a, lambda m: sp.log(sp.Abs(m.det()))),
    doc="log |det(a)| without overflow, slogdet's second output")


_solve_forward = _raising_input_error("solve", "singular matrix", np.linalg.solve)


def _solve_infer(a, b):
    _check_square("solve", a)
    n = a.shape[-1]
    if b.dtype == "bool":
        raise ShapeError("solve: b must be numbers, not bool")
    if b.ndim == 1:
        if b.shape[0] != n:
            raise ShapeError(f"solve: a {a.shape} and vector b {b.shape} differ in size")
        return a.shape[:-1], float_of(promote(a.dtype, b.dtype))
    if b.ndim < 1 or b.shape[-2] != n:
        raise ShapeError(f"solve: b must have shape ({n},) or (..., {n}, k) to fit a "
                         f"{a.shape}, got {b.shape}")
    batch = broadcast_shapes("solve", a.shape[:-2], b.shape[:-2])
    return batch + b.shape[-2:], float_of(promote(a.dtype, b.dtype))


def _solve_sympy(sp, a, b):
    vector = b.ndim == 1
    if vector:
        b = b[:, None]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + b.shape[-2:], dtype=object)
    for idx in np.ndindex(batch):
        out[idx] = np.array(sp.Matrix(a[idx]).LUsolve(sp.Matrix(b[idx])).tolist(), dtype=object)
    return out[..., 0] if vector else out


def _solve_batch(batch, a, b):
    """solve on operands with leading batch axes: a vector b becomes a column, and the own
    batch axes of a and b are aligned after the shared ones."""
    vector = b.ndim == len(batch) + 1
    b = b[..., None] if vector else b
    ndim = max(a.ndim, b.ndim) - len(batch)
    out = _solve_forward(batch_align(a, batch, ndim), batch_align(b, batch, ndim))
    return out[..., 0] if vector else out


def _solve_elements(a, b):
    """solve on object arrays of nodes (see ``elements.solve_square``), batched as numpy's."""
    vector = b.ndim == 1
    b = b[:, None] if vector else b
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + b.shape[-2:], dtype=object)
    for idx in np.ndindex(batch):
        out[idx] = solve_square(a[idx], b[idx])
    return out[..., 0] if vector else out


def _solve_columns(a: Node, g: Node, vector: bool) -> Node:
    """solve(a, g), with g a batch of vectors when ``vector`` (the layout of a vector b)."""
    if vector and g.ndim > 1:
        return reshape(solve(a, reshape(g, g.shape + (1,))), g.shape)
    return solve(a, g)


def _solve_grad_b(g, out, a, b):
    return _solve_columns(swap_last(a), g, b.ndim == 1)          # A^-T G


def _solve_grad_a(g, out, a, b):
    gb = _solve_grad_b(g, out, a, b)                              # -(A^-T G) X^T
    if b.ndim == 1:
        return neg(mul(reshape(gb, gb.shape + (1,)), reshape(out, out.shape[:-1] + (1, -1))))
    return neg(matmul(gb, swap_last(out)))


solve_op = define_op(
    "solve", infer=_solve_infer, public=False,
    forward=_solve_forward,
    bprop=(_solve_grad_a, _solve_grad_b), sympy=_solve_sympy,
    emit={"batch": _solve_batch, "scalarize": _solve_elements},
    jax=lambda jnp, a, b: jnp.linalg.solve(a, b),
    doc="x with a @ x = b (b a vector or a batch of matrices)")


def _cholesky_rule(g, L, a):
    # Murray (2016): dA = sym(L^-T Phi(L^T G) L^-1), Phi = lower triangle with half diagonal
    n = L.shape[-1]
    phi = const(np.tri(n, dtype=L.dtype) - np.eye(n, dtype=L.dtype) / 2)
    P = mul(matmul(swap_last(L), g), phi)
    Lt = swap_last(L)
    S = swap_last(solve(Lt, swap_last(solve(Lt, P))))
    return mul(add(S, swap_last(S)), 0.5)


cholesky_op = define_op(
    "cholesky", infer=_square_infer("cholesky"), public=False,
    forward=_cholesky_forward, emit=_over_leading_axes(_cholesky_forward, cholesky_lower),
    jax=lambda jnp, a: jnp.linalg.cholesky((a + jnp.swapaxes(a, -1, -2)) / 2),
    bprop=(_cholesky_rule,),
    sympy=lambda sp, a: _batched_sympy(sp, _symmetric_part(a),
                                       lambda m: m.cholesky(hermitian=False)),
    doc="lower Cholesky factor L of (a + a^T)/2 = L L^T (batched)")


def inv(a) -> Node:
    """Inverse of the square matrix ``a`` (or of each matrix of a batch (..., n, n)).

    >>> import symgrad as sg
    >>> sg.evaluate(sg.linalg.inv(sg.const([[2.0, 0.0], [0.0, 4.0]])), {})[0].tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    return apply(inv_op, (lift(a, None),))


def det(a) -> Node:
    """Determinant of ``a`` (..., n, n); its gradient is ``det(a) * inv(a)^T``.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.linalg.det(sg.const([[1.0, 2.0], [3.0, 4.0]])), {})[0].round(12).item()
    -2.0
    """
    return apply(det_op, (lift(a, None),))


def slogdet(a) -> tuple:
    """numpy's ``slogdet``: two nodes ``(sign, logabsdet)`` with ``det(a) = sign *
    exp(logabsdet)``, free of overflow; ``sign`` has no gradient.

    >>> import symgrad as sg
    >>> sign, logdet = sg.linalg.slogdet(sg.const([[-1e200, 0.0], [0.0, 1e200]]))
    >>> [round(v.item(), 6) for v in sg.evaluate(sg.Graph([sign, logdet]), {})]
    [-1.0, 921.034037]
    """
    a = lift(a, None)
    return apply(slogdet_sign_op, (a,)), apply(logabsdet_op, (a,))


def solve(a, b) -> Node:
    """x with ``a @ x = b``: ``b`` a vector (n,) or a batch of matrices (..., n, k), batch axes
    broadcast as numpy's. The gradient uses solves with ``a^T``, never an inverse.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.linalg.solve(sg.const([[2.0, 0.0], [0.0, 4.0]]), [1.0, 1.0]), {})[0]
    array([0.5 , 0.25])
    """
    nodes = [v.dtype for v in (a, b) if isinstance(v, Node)]
    a, b = (lift(v, nodes[0] if nodes else None) for v in (a, b))
    return apply(solve_op, (a, b))


def cholesky(a) -> Node:
    """Lower-triangular ``L`` with ``L @ L^T = a`` for symmetric positive-definite ``a``
    (..., n, n). As in JAX, ``a`` is read as its symmetric part ``(a + a^T)/2``, so the
    gradient is symmetric; a matrix that is not positive definite raises InputError.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.linalg.cholesky(sg.const([[4.0, 2.0], [2.0, 5.0]])), {})[0].tolist()
    [[2.0, 0.0], [1.0, 2.0]]
    """
    return apply(cholesky_op, (lift(a, None),))


def matrix_power(a, n: int) -> Node:
    """numpy's ``matrix_power``: ``a @ a @ ... @ a`` (``n`` factors, by repeated squaring);
    ``n = 0`` gives the identity and ``n < 0`` powers of ``inv(a)``.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.linalg.matrix_power(sg.const([[1.0, 1.0], [0.0, 1.0]]), 3), {})[0].tolist()
    [[1.0, 3.0], [0.0, 1.0]]
    """
    a = lift(a, None)
    _check_square("matrix_power", a)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ShapeError(f"matrix_power: the exponent must be an int, got {n!r}")
    if n == 0:
        return broadcast_to(const(np.eye(a.shape[-1], dtype=a.dtype)), a.shape)
    base, n, result = (inv(a) if n < 0 else a), abs(int(n)), None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


OPS = (matmul_op, inv_op, det_op, slogdet_sign_op, logabsdet_op, solve_op, cholesky_op)
FUNCTIONS = (matmul, dot, inv, det, slogdet, solve, cholesky, matrix_power)
NAMESPACE = ("inv", "det", "slogdet", "solve", "cholesky", "matrix_power")   # sg.linalg.<name>
