"""How ops are defined and applied: define_op, constant lifting, folding, shared type rules."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import ShapeError, SymgradError
from ..ir import REGISTRY, ConstValue, Node, OpDef, intern
from ..ir.types import (DTYPES, FLOAT_DTYPES, broadcast_shapes, check_dtype, check_shape,
                        float_of, promote)

FOLD_LIMIT = 1 << 16  # constant subexpressions up to this many elements are folded at build time


# -- leaves ---------------------------------------------------------------------------------------
def _leaf_forward(*_args, **_params):
    raise SymgradError("inputs and constants are loaded by the evaluator, not computed")


VAR = REGISTRY.add_op(OpDef("var", infer=lambda *, name, shape, dtype: (shape, dtype),
                            forward=_leaf_forward, bprop=(), sympy=None,
                            doc="an input, identified by its name"))
CONST = REGISTRY.add_op(OpDef("const", infer=lambda *, value: (value.array.shape,
                                                               value.array.dtype.name),
                              forward=_leaf_forward, bprop=(), sympy=None, doc="a constant"))


def var(name: str, shape=(), dtype: str = "float64") -> Node:
    """An input node. The same name, shape and dtype always give the same node.

    >>> import symgrad as sg
    >>> sg.var("W", shape=(3, 4)).shape
    (3, 4)
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise SymgradError(f"input name must be an identifier string, got {name!r}")
    dtype = check_dtype(dtype, ("float64", "float32", "int64"))
    return intern(VAR, (), (("name", name), ("shape", check_shape(shape)), ("dtype", dtype)))


def const(value, dtype: str | None = None) -> Node:
    """A constant node from a Python number or array; Python numbers become float64 unless
    ``dtype`` says otherwise, arrays keep their dtype (ints as int64, bools as bool).

    >>> import symgrad as sg
    >>> sg.const(2.5).dtype, sg.const([1, 2]).dtype
    ('float64', 'int64')
    """
    if isinstance(value, Node):
        if dtype is not None and value.dtype != dtype:
            raise ShapeError(f"const: node of dtype {value.dtype} cannot be made {dtype}")
        return value
    if dtype is None:
        if isinstance(value, bool):
            dtype = "bool"
        elif isinstance(value, numbers.Number) and not isinstance(value, np.generic):
            dtype = "float64"
    elif not isinstance(dtype, str) or dtype not in DTYPES:
        dtype = check_dtype(dtype)
    if isinstance(value, int) and not isinstance(value, bool) and dtype != "int64":
        try:
            value = float(value)                  # Python ints of any size, as numpy would
        except OverflowError:
            raise ShapeError(f"const: {value} is too large for {dtype}") from None
    try:
        array = np.asarray(value)
    except Exception as exc:
        raise ShapeError(f"const: cannot make a constant of {value!r}: {exc}") from None
    kind = array.dtype.kind
    if kind not in "biuf":
        raise ShapeError(f"const: value {value!r} is not numeric (dtype {array.dtype}); pass "
                         f"numbers or an array of numbers (Python ints within int64); to make "
                         f"an array of nodes, use sg.stack or sg.concatenate")
    if dtype is None:
        if kind == "b":
            dtype = "bool"
        elif kind in "iu":
            dtype = "int64"
        else:
            dtype = array.dtype.name if array.dtype.name in ("float32", "float64") else "float64"
    if dtype == "int64" and kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
        raise ShapeError(f"const: {value!r} does not fit int64 (it would wrap around); make it "
                         f"a float constant with dtype='float64'")
    with np.errstate(over="ignore", invalid="ignore"):    # 1e300 as float32 is inf, silently
        array = array.astype(dtype, copy=False)
    return intern(CONST, (), (("value", ConstValue(array)),))


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_LIFTED: dict = {}  # (number, sign, dtype) -> const node: rules lift the same few numbers often


def lift(value, like: str | None) -> Node:
    """A node for an operand: Python numbers take the dtype ``like`` of the other operands."""
    if isinstance(value, Node):
        return value
    if (like is not None and isinstance(value, (int, float)) and not isinstance(value, bool)
            and not isinstance(value, np.generic)):
        if like in ("float32", "float64"):
            dtype = like
        elif isinstance(value, int) and like == "int64" and _INT64_MIN <= value <= _INT64_MAX:
            dtype = "int64"
        else:
            dtype = "float64"
        key = (value, math.copysign(1.0, value), dtype)
        node = _LIFTED.get(key)
        if node is None:
            if len(_LIFTED) > 4096:
                _LIFTED.clear()
            node = _LIFTED[key] = const(value, dtype)
        return node
    if (isinstance(value, (bool, np.generic)) or not isinstance(value, numbers.Number)
            or like is None):
        return const(value)                    # numpy scalars keep their dtype, as in numpy
    return const(value, "float64")


# -- applying an op -------------------------------------------------------------------------------
def apply(op: OpDef, args: tuple, params: dict | None = None) -> Node:
    """Build ``op(*args, **params)``: lift constants, apply identities, fold, intern."""
    for a in args:
        if type(a) is not Node:
            nodes = [a.dtype for a in args if isinstance(a, Node)]
            like = promote(*nodes) if nodes else None
            args = tuple(a if type(a) is Node else lift(a, like) for a in args)
            break
    if type(op.bprop) is tuple and len(args) != len(op.bprop):
        raise SymgradError(f"{op.name} takes {len(op.bprop)} argument(s), got {len(args)}")
    if op.elementwise and args:
        first = args[0].dtype          # inline fast path: all inputs of one float dtype
        if (op.same_dtype is not None or first not in FLOAT_DTYPES or len(args) > 1 and (
                args[1].dtype != first or len(args) > 2)):
            args = in_result_dtype(op, args, params)
    items = tuple(sorted(params.items())) if params else ()
    if op.simplify is not None:
        simpler = op.simplify(*args, **params) if params else op.simplify(*args)
        if simpler is not None:
            return simpler
    for a in args:
        if a.op is not CONST:
            return intern(op, args, items)
    return _fold(op, args, items) if args else intern(op, args, items)


def in_result_dtype(op: OpDef, args: tuple, params: dict | None) -> tuple:
    """``args`` with the inputs at ``op.same_dtype`` cast to the dtype ``op`` declares, so that
    the forward computes in exactly that dtype (numpy would make ``exp`` of a bool float16 and
    ``bool + bool`` bool, where symgrad declares float64 and int64)."""
    positions = op.same_dtype
    if positions is None:
        positions = range(len(args))
    if not positions:
        return args
    first = args[positions[0]].dtype
    if first in FLOAT_DTYPES and all(args[p].dtype == first for p in positions):
        return args                    # one float dtype: every elementwise forward keeps it
    _, dtype = op.infer(*args, **params) if params else op.infer(*args)
    if dtype == "bool":
        return args
    cast = REGISTRY.ops["cast"]
    return tuple(apply(cast, (a,), {"dtype": dtype}) if p in positions and a.dtype != dtype
                 else a for p, a in enumerate(args))


def _fold(op: OpDef, args: tuple, items: tuple) -> Node:
    node = intern(op, args, items)  # infers (and checks) the type
    if node.size > FOLD_LIMIT:
        return node
    with np.errstate(all="ignore"):
        value = op.forward(*(a.value for a in args), **dict(items))
    return const(np.asarray(value).astype(node.dtype, copy=False))


def define_op(name: str, *, infer, forward, bprop, sympy, simplify=None, public: bool = True,
              elementwise: bool = False, doc: str = "", **traits) -> OpDef:
    """Register a primitive op; unless ``public`` is False its builder is also the public
    function of the same name (``sg.<name>``, callable from parsed text). ``traits``: the
    optional slots of ``OpDef`` (``same_dtype``, ``emit``, ``deps``, ``jvp``,
    ``jax``)."""
    op = OpDef(name, infer, forward, bprop, sympy, simplify, elementwise, doc, **traits)
    op.build = apply
    REGISTRY.add_op(op)
    if public:
        REGISTRY.add_function(name, op)
    return op


def public(fn):
    """Register a composite builder (a plain function of other ops) as a public function."""
    REGISTRY.add_function(fn.__name__.rstrip("_"), fn)
    return fn


# -- shared type rules ----------------------------------------------------------------------------
def elementwise(name: str, real: bool = False):
    """Type rule of an elementwise op: broadcast shapes, promote dtypes (to a float if ``real``)."""
    def infer(*inputs, **_params):
        first = inputs[0]
        for x in inputs:
            if x.shape != first.shape or x.dtype != first.dtype:
                break
        else:  # the common case, without the general rules
            if first.dtype != "bool":
                return first.shape, float_of(first.dtype) if real else first.dtype
        shape = broadcast_shapes(name, *(x.shape for x in inputs))
        dtype = promote(*(x.dtype for x in inputs))
        if dtype == "bool" and not real:
            dtype = "int64" if name not in ("maximum", "minimum") else "bool"
        return shape, float_of(dtype) if real else dtype
    return infer


def comparison(name: str):
    def infer(a, b):
        return broadcast_shapes(name, a.shape, b.shape), "bool"
    return infer


def needs(*ops: OpDef):
    """Mark a rule (an op's ``simplify``, or a rewrite rule of ``sg.optimize``) as able to fire
    only on a node with an input made by one of ``ops``: the rewrite driver then skips it on
    the other nodes without calling it."""
    def mark(rule):
        rule.needs = frozenset(ops)
        return rule
    return mark


def is_value(node: Node, number: float) -> bool:
    """True when ``node`` is a constant whose every element equals ``number``."""
    return node.op is CONST and node.params[0][1].uniform == number


def same_type(node: Node, *others: Node) -> bool:
    """True when replacing an op by ``node`` keeps the op's shape and dtype."""
    shape = broadcast_shapes("identity", node.shape, *(o.shape for o in others))
    dtype = promote(node.dtype, *(o.dtype for o in others))
    return shape == node.shape and dtype == node.dtype


# -- batched forms (OpDef.emit["batch"]): values carry leading batch dims ``batch`` -------------
def batch_axes(axes: tuple, batch: tuple) -> tuple:
    """Axes of an unbatched value, counted in its batched value."""
    return tuple(a + len(batch) for a in axes)


def batch_align(x, batch: tuple, ndim: int):
    """Batched ``x`` with size-1 axes inserted after the batch dims up to ``ndim`` own dims."""
    own = x.shape[len(batch):]
    return x.reshape(batch + (1,) * (ndim - len(own)) + own) if len(own) < ndim else x
