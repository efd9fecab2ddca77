"""Products: einsum (one primitive), and tensordot, outer, trace, diag, diagonal, tril, triu
as composites of it and of the shape ops.

``einsum`` parses numpy's subscripts once, at build time, into an explicit form with one letter
per axis (ellipses expanded, implicit outputs made explicit, size-1 axes broadcast), which is
what the op stores. The bprop of each operand is another einsum of the incoming gradient with
the other operands; letters that occur only in that operand are broadcast back, and a letter
repeated within it (a diagonal, as in ``'ii->i'``) is put back on the diagonal by an einsum with
identity matrices, so every rule differentiates again.
"""

from __future__ import annotations

import string

import numpy as np

from ..errors import ShapeError
from ..ir import Node
from ..ir.types import promote
from ._define import apply, const, define_op, lift
from .elementwise import where
from .reduce import object_array, sum_
from .shape import axis_index, broadcast_to, getitem, moveaxis, pad_axis, reshape, stack

LETTERS = string.ascii_letters


# -- parsing numpy's subscripts ------------------------------------------------------------------
def _parse(subscripts: str, shapes: list) -> tuple[list, str]:
    """numpy's ``subscripts`` for operands of ``shapes`` as (one letter string per operand,
    output letters), with ellipses replaced by fresh letters and the implicit output explicit."""
    if not isinstance(subscripts, str):
        raise ShapeError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got "
                         f"{subscripts!r}")
    text = subscripts.replace(" ", "")
    left, arrow, output = text.partition("->")
    terms = left.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum: subscripts {subscripts!r} name {len(terms)} operand(s) but "
                         f"{len(shapes)} were given")
    for term in terms + [output]:
        bad = set(term.replace("...", "")) - set(LETTERS)
        if bad or term.count("...") > 1:
            raise ShapeError(f"einsum: invalid subscripts {subscripts!r}: use letters a-z, A-Z "
                             f"and at most one '...' per operand")
    used = set(text) & set(LETTERS)
    fresh = [c for c in LETTERS if c not in used]
    ellipsis_ndim = 0
    for term, shape in zip(terms, shapes):
        labelled = len(term.replace("...", ""))
        if len(shape) < labelled or ("..." not in term and len(shape) != labelled):
            raise ShapeError(f"einsum: operand of shape {shape} does not fit subscripts "
                             f"{term!r} ({labelled} letter(s))")
        if "..." in term:
            ellipsis_ndim = max(ellipsis_ndim, len(shape) - labelled)
    if ellipsis_ndim > len(fresh):
        raise ShapeError("einsum: too many axes under '...'")
    broadcast = "".join(fresh[:ellipsis_ndim])
    explicit = []
    for term, shape in zip(terms, shapes):
        count = len(shape) - len(term.replace("...", ""))
        explicit.append(term.replace("...", broadcast[ellipsis_ndim - count:]))
    if arrow:
        if "..." not in output and any("..." in t and len(s) > len(t) - 3
                                       for t, s in zip(terms, shapes)):
            raise ShapeError(f"einsum: {subscripts!r}: the output needs '...' for the axes the "
                             f"operands' '...' stands for")
        output = output.replace("...", broadcast)
        if len(set(output)) != len(output):
            raise ShapeError(f"einsum: output subscripts {output!r} repeat a letter")
        missing = set(output) - set("".join(explicit))
        if missing:
            raise ShapeError(f"einsum: output letter(s) {sorted(missing)} appear in no operand")
    else:
        joined = "".join(explicit)
        output = broadcast + "".join(sorted(c for c in set(joined) - set(broadcast)
                                            if joined.count(c) == 1))
    return explicit, output


def _letter_sizes(terms, shapes, subscripts) -> dict:
    """Each letter's size: the one size other than 1 among its axes (numpy broadcasting)."""
    sizes: dict = {}
    for term, shape in zip(terms, shapes):
        for letter, dim in zip(term, shape):
            known = sizes.get(letter, 1)
            if dim != 1 and known not in (1, dim):
                raise ShapeError(f"einsum: {subscripts!r}: letter {letter!r} has sizes {known} "
                                 f"and {dim} in different operands (shapes "
                                 f"{', '.join(map(str, shapes))})")
            sizes[letter] = dim if dim != 1 else known
    return sizes


# -- the primitive --------------------------------------------------------------------------------
def _split(subscripts: str) -> tuple[list, str]:
    left, _, output = subscripts.partition("->")
    return left.split(","), output


def _einsum_infer(*operands, subscripts):
    terms, output = _split(subscripts)
    sizes = {}
    for term, x in zip(terms, operands):
        if x.dtype == "bool":
            raise ShapeError("einsum: operands must be numbers, not bool")
        for letter, dim in zip(term, x.shape):
            if sizes.setdefault(letter, dim) != dim:
                raise ShapeError(f"einsum: {subscripts!r}: letter {letter!r} has sizes "
                                 f"{sizes[letter]} and {dim}")
    return tuple(sizes[c] for c in output), promote(*(x.dtype for x in operands))


def _einsum_forward(*operands, subscripts):
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


def _einsum_rule(position: int):
    def rule(g, out, *operands, subscripts):
        terms, output = _split(subscripts)
        target = terms[position]
        sizes = {c: d for term, x in zip(terms, operands) for c, d in zip(term, x.shape)}
        others = [j for j in range(len(terms)) if j != position]
        reachable = set(output).union(*(terms[j] for j in others))
        unique = "".join(dict.fromkeys(target))
        present = "".join(c for c in unique if c in reachable)
        spec = ",".join([output] + [terms[j] for j in others]) + "->" + present
        grad = einsum_op(g, *(operands[j] for j in others), subscripts=spec)
        if len(present) < len(unique):              # summed inside the operand: spread back
            grad = reshape(grad, tuple(sizes[c] if c in present else 1 for c in unique))
            grad = broadcast_to(grad, tuple(sizes[c] for c in unique))
        if len(unique) < len(target):               # a repeated letter: onto the diagonal
            grad = _onto_diagonals(grad, unique, target, sizes)
        return grad
    return rule


def _onto_diagonals(grad: Node, unique: str, target: str, sizes: dict) -> Node:
    """``grad`` (axes ``unique``) placed on the diagonals of an array with axes ``target``."""
    fresh = iter(c for c in LETTERS if c not in target)
    seen, renamed, eyes, specs = set(), [], [], []
    for c in target:
        if c in seen:
            other = next(fresh)
            renamed.append(other)
            specs.append(c + other)
            eyes.append(const(np.eye(sizes[c], dtype=grad.dtype)))
        else:
            seen.add(c)
            renamed.append(c)
    spec = ",".join([unique] + specs) + "->" + "".join(renamed)
    return einsum_op(grad, *eyes, subscripts=spec)


def _einsum_batch(batch, *operands, subscripts):
    """The einsum over operands that all carry the leading batch axes: a '...' before each."""
    terms, output = _split(subscripts)
    spec = ",".join("..." + t for t in terms) + "->..." + output
    return np.einsum(spec, *operands, optimize=len(operands) > 2)


def _einsum_simplify(*operands, subscripts):
    terms, output = _split(subscripts)
    return operands[0] if len(terms) == 1 and terms[0] == output else None


einsum_op = define_op(
    "einsum", infer=_einsum_infer, forward=_einsum_forward, public=False,
    bprop=_einsum_rule,
    sympy=lambda sp, *operands, subscripts: object_array(np.einsum(subscripts, *operands)),
    simplify=_einsum_simplify, emit={"batch": _einsum_batch},
    jax=lambda jnp, *operands, subscripts: jnp.einsum(subscripts, *operands),
    doc="Einstein summation with explicit subscripts (one letter per axis)")


def einsum(subscripts: str, *operands) -> Node:
    """numpy's ``einsum``: any subscripts numpy accepts, with ``...``, implicit outputs (the
    letters used once, in alphabetical order), repeated letters (diagonals, traces) and size-1
    axes that broadcast.

    >>> import symgrad as sg
    >>> A, B = sg.var("A", shape=(5, 2, 3)), sg.var("B", shape=(3, 4))
    >>> sg.einsum("...ij,jk->...ik", A, B).shape, sg.einsum("bij->j", A).shape
    ((5, 2, 4), (3,))
    """
    nodes = [x.dtype for x in operands if isinstance(x, Node)]
    operands = [lift(x, nodes[0] if nodes else None) for x in operands]
    if not operands:
        raise ShapeError("einsum: needs at least one operand")
    terms, output = _parse(subscripts, [x.shape for x in operands])
    sizes = _letter_sizes(terms, [x.shape for x in operands], subscripts)
    operands = [broadcast_to(x, tuple(sizes[c] for c in term))
                for x, term in zip(operands, terms)]
    return apply(einsum_op, tuple(operands), {"subscripts": ",".join(terms) + "->" + output})


# -- composites -----------------------------------------------------------------------------------
def tensordot(a, b, axes=2) -> Node:
    """numpy's ``tensordot``: the sum over the last ``axes`` axes of a and the first of b, or over
    the axes paired by ``axes = (axes_of_a, axes_of_b)``.

    >>> import symgrad as sg
    >>> sg.tensordot(sg.var("a", shape=(2, 3, 4)), sg.var("b", shape=(3, 4, 5))).shape
    (2, 5)
    """
    a, b = (lift(x, None) for x in (a, b))
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: axes={axes} does not fit shapes {a.shape} and "
                             f"{b.shape}")
        pairs = (list(range(a.ndim - axes, a.ndim)), list(range(axes)))
    else:
        try:
            pairs = [[axes[k]] if isinstance(axes[k], (int, np.integer)) else list(axes[k])
                     for k in (0, 1)]
        except (TypeError, IndexError):
            raise ShapeError(f"tensordot: axes must be an int or a pair of axis lists, got "
                             f"{axes!r}") from None
        if len(pairs[0]) != len(pairs[1]):
            raise ShapeError(f"tensordot: axes {axes!r} pair up unequal numbers of axes")
    pa = [axis_index(k, a.ndim, "tensordot") for k in pairs[0]]
    pb = [axis_index(k, b.ndim, "tensordot") for k in pairs[1]]
    for i, j in zip(pa, pb):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(f"tensordot: axis {i} of {a.shape} and axis {j} of {b.shape} "
                             f"differ in size")
    if a.ndim + b.ndim > len(LETTERS):
        raise ShapeError("tensordot: too many axes")
    sa = LETTERS[:a.ndim]
    sb = list(LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(pa, pb):
        sb[j] = sa[i]
    out = "".join(c for k, c in enumerate(sa) if k not in pa) + "".join(
        c for k, c in enumerate(sb) if k not in pb)
    return einsum(f"{sa},{''.join(sb)}->{out}", a, b)


def outer(a, b) -> Node:
    """numpy's ``outer``: ``a.ravel()[:, None] * b.ravel()[None, :]``.

    >>> import symgrad as sg
    >>> sg.outer(sg.var("a", shape=(2,)), sg.var("b", shape=(2, 2))).shape
    (2, 4)
    """
    a, b = (lift(x, None) for x in (a, b))
    return einsum("i,j->ij", reshape(a, (a.size,)), reshape(b, (b.size,)))


def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """numpy's ``diagonal``: the ``offset`` diagonal over ``axis1`` and ``axis2``, as the last
    axis of the result.

    >>> import symgrad as sg
    >>> sg.diagonal(sg.var("A", shape=(3, 4)), offset=1).shape
    (3,)
    """
    x = lift(x, None)
    if x.ndim < 2:
        raise ShapeError(f"diagonal: needs at least 2 dimensions, got shape {x.shape}")
    i, j = axis_index(axis1, x.ndim, "diagonal"), axis_index(axis2, x.ndim, "diagonal")
    if i == j:
        raise ShapeError("diagonal: axis1 and axis2 cannot be the same")
    offset = int(offset)
    start_i, start_j = max(-offset, 0), max(offset, 0)
    length = max(0, min(x.shape[i] - start_i, x.shape[j] - start_j))
    index = [slice(None)] * x.ndim
    index[i] = slice(start_i, start_i + length)
    index[j] = slice(start_j, start_j + length)
    x = getitem(x, tuple(index))
    letters = list(LETTERS[:x.ndim])
    letters[j] = letters[i]
    rest = "".join(c for k, c in enumerate(letters) if k not in (i, j))
    return einsum("".join(letters) + "->" + rest + letters[i], x)


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """numpy's ``trace``: the sum of ``diagonal(x, offset, axis1, axis2)``.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.trace(sg.const([[1.0, 2.0], [3.0, 4.0]])), {})[0].item()
    5.0
    """
    return sum_(diagonal(x, offset, axis1, axis2), axis=-1)


def diag(v, k: int = 0) -> Node:
    """numpy's ``diag``: a matrix with the vector ``v`` on its ``k``-th diagonal, or the
    ``k``-th diagonal of the matrix ``v``.

    >>> import symgrad as sg
    >>> sg.diag(sg.var("v", shape=(3,)), k=-1).shape, sg.diag(sg.var("M", shape=(3, 3))).shape
    ((4, 4), (3,))
    """
    v = lift(v, None)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ShapeError(f"diag: input must be 1-D or 2-D, got shape {v.shape}")
    n, k = v.shape[0], int(k)
    size = n + abs(k)
    square = einsum("i,ij->ij", v, const(np.eye(n, dtype=v.dtype)))
    rows = pad_axis(square, 0, max(-k, 0), max(-k, 0) + n, size)
    return pad_axis(rows, 1, max(k, 0), max(k, 0) + n, size)


def _triangle(opname: str, x, k: int, lower: bool) -> Node:
    x = lift(x, None)
    if x.ndim == 0:
        raise ShapeError(f"{opname}: needs at least 1 dimension, got a scalar")
    rows, cols = x.shape[-2:] if x.ndim >= 2 else x.shape * 2   # a vector spreads over rows
    mask = np.tri(rows, cols, int(k), dtype=bool)
    if not lower:
        mask = ~np.tri(rows, cols, int(k) - 1, dtype=bool)
    return where(const(mask), x, 0)


def tril(x, k: int = 0) -> Node:
    """numpy's ``tril``: x with the entries above the ``k``-th diagonal set to 0 (the last two
    axes; leading axes are a batch; a vector is first repeated as the rows of a square).

    >>> import symgrad as sg
    >>> sg.evaluate(sg.tril(sg.const([[1.0, 2.0], [3.0, 4.0]])), {})[0].tolist()
    [[1.0, 0.0], [3.0, 4.0]]
    """
    return _triangle("tril", x, k, lower=True)


def triu(x, k: int = 0) -> Node:
    """numpy's ``triu``: x with the entries below the ``k``-th diagonal set to 0.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.triu(sg.const([[1.0, 2.0], [3.0, 4.0]])), {})[0].tolist()
    [[1.0, 2.0], [0.0, 4.0]]
    """
    return _triangle("triu", x, k, lower=False)


def inner(a, b) -> Node:
    """numpy's ``inner``: the sum over the last axes of a and b (a product for a scalar).

    >>> import symgrad as sg
    >>> sg.inner(sg.var("a", shape=(2, 3)), sg.var("b", shape=(4, 3))).shape
    (2, 4)
    """
    a, b = (lift(x, None) for x in (a, b))
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=(-1, -1))


def kron(a, b) -> Node:
    """numpy's ``kron``: the Kronecker product, blocks ``a[i, j] * b`` (the shorter shape gets
    leading 1s).

    >>> import symgrad as sg
    >>> sg.kron(sg.var("a", shape=(2, 3)), sg.var("b", shape=(4, 5))).shape
    (8, 15)
    """
    a, b = (lift(x, None) for x in (a, b))
    ndim = max(a.ndim, b.ndim)
    if 2 * ndim > len(LETTERS):
        raise ShapeError("kron: too many axes")
    a = reshape(a, (1,) * (ndim - a.ndim) + a.shape)
    b = reshape(b, (1,) * (ndim - b.ndim) + b.shape)
    sa, sb = LETTERS[:ndim], LETTERS[ndim:2 * ndim]
    blocks = einsum(f"{sa},{sb}->" + "".join(i + j for i, j in zip(sa, sb)), a, b)
    return reshape(blocks, tuple(i * j for i, j in zip(a.shape, b.shape)))


def cross(a, b, axis: int = -1) -> Node:
    """numpy's ``cross`` of 3-vectors along ``axis`` (other axes broadcast).

    >>> import symgrad as sg
    >>> sg.evaluate(sg.cross(sg.const([1.0, 0.0, 0.0]), sg.const([0.0, 1.0, 0.0])), {})[0]
    array([0., 0., 1.])
    """
    a, b = (lift(x, None) for x in (a, b))
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("cross: needs vectors of length 3, got a scalar")
    a = moveaxis(a, axis_index(axis, a.ndim, "cross"), -1)
    b = moveaxis(b, axis_index(axis, b.ndim, "cross"), -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise ShapeError(f"cross: vectors must have length 3 along axis {axis}, got shapes "
                         f"{a.shape} and {b.shape}")
    a0, a1, a2 = (a[..., k] for k in range(3))
    b0, b1, b2 = (b[..., k] for k in range(3))
    out = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(out, -1, axis_index(axis, out.ndim, "cross"))


OPS = (einsum_op,)
FUNCTIONS = (einsum, tensordot, outer, trace, diag, diagonal, tril, triu, inner, kron, cross)
