"""User-defined ops: ``define_op`` (a primitive with its own record) and ``custom_gradient``
(a composite whose gradient is written by hand), both registered after the built-in ops."""

from __future__ import annotations

import functools
import inspect

from ..errors import SymgradError
from ..ir import REGISTRY, Node, OpDef
from ._define import apply


def define_op(name: str, *, infer, forward, bprop, sympy=None, jvp=None):
    """Register a primitive op and return its builder (also callable by ``name`` in parsed
    text). The record is the one built-in ops have:

    - ``infer(*inputs, **params) -> (shape, dtype)``: the static type rule (inputs are nodes
      with ``.shape`` and ``.dtype``); raise ``sg.ShapeError`` for inputs that do not fit;
    - ``forward(*arrays, **params) -> array``: the numpy implementation;
    - ``bprop``: one rule per input, ``(g, out, *inputs, **params) -> node or None``, the
      vector-Jacobian product for that input built from symgrad ops (so it differentiates
      again); None where no gradient flows;
    - ``sympy(sp, *args, **params)``: optional sympy form (``sp`` is the sympy module, args
      numpy object arrays of sympy scalars), for ``to_sympy``;
    - ``jvp``: optional forward-mode rule, kept on the record.

    >>> import numpy as np, symgrad as sg
    >>> cube = sg.define_op("cube_doc", infer=lambda x: (x.shape, x.dtype),
    ...                     forward=lambda x: x ** 3,
    ...                     bprop=(lambda g, out, x: g * 3 * x * x,))
    >>> x = sg.var("x")
    >>> B = sg.gradients(cube(x), ["x"])
    >>> sg.evaluate(B, {"x": 2.0})
    [array(12.)]
    >>> sg.evaluate(sg.parse("cube_doc(x) + 1"), {"x": 2.0})[0]
    array(9.)
    """
    if callable(bprop):
        raise SymgradError(f"define_op {name!r}: bprop must be a tuple with one rule (or None) "
                           f"per input")
    if not callable(infer) or not callable(forward):
        raise SymgradError(f"define_op {name!r}: infer and forward must be functions")
    op = OpDef(name, infer, forward, tuple(bprop), sympy, jvp=jvp)
    op.build = apply
    return REGISTRY.add_user_op(op)


def custom_gradient(forward, bprop, name: str | None = None):
    """A builder for a composite with a hand-written gradient.

    ``forward(*nodes) -> node`` builds the value from symgrad ops; ``bprop(g, out, *inputs)``
    returns one contribution per input (a node, or None), built from symgrad ops so that it
    can be differentiated again. The value is computed (and exported to sympy) by the forward
    subgraph; gradients come from ``bprop`` only. The op is registered as ``name`` (default:
    ``forward``'s name), which ``sg.load`` needs defined to read a saved graph that uses it.

    >>> import symgrad as sg
    >>> log1pexp = sg.custom_gradient(lambda x: sg.log(1 + sg.exp(x)),
    ...                               lambda g, out, x: (g * sg.sigmoid(x),))
    >>> x = sg.var("x")
    >>> B = sg.gradients(log1pexp(x), ["x"])
    >>> float(sg.evaluate(B, {"x": 800.0})[0])   # log(1 + exp(x))' would be inf / inf = nan
    1.0
    """
    if not callable(forward) or not callable(bprop):
        raise SymgradError("custom_gradient(forward, bprop): both must be functions")
    if name is None:
        name = getattr(forward, "__name__", "")
        name = name if name.isidentifier() and name != "<lambda>" else "custom"
        base, k = name, 2
        while REGISTRY.lookup(name) is not None or name in REGISTRY.functions:
            name, k = f"{base}_{k}", k + 1

    def rule(position: int):
        if position == 0:
            return None  # the forward subgraph carries the value, never the gradient

        def contribution(g, out, value, *inputs):
            parts = tuple(bprop(g, out, *inputs))
            if len(parts) != len(inputs):
                raise SymgradError(f"custom_gradient {name!r}: bprop returned {len(parts)} "
                                   f"contribution(s) for {len(inputs)} input(s)")
            return parts[position - 1]
        return contribution

    op = OpDef(name, infer=lambda value, *inputs: (value.shape, value.dtype),
               forward=lambda value, *inputs: value, bprop=rule,
               sympy=lambda sp, value, *inputs: value,
               doc=f"{name}: value from {getattr(forward, '__name__', 'forward')}, "
                   f"gradient from {getattr(bprop, '__name__', 'bprop')}")
    op.build = apply
    REGISTRY.add_user_op(op, public=False)

    @functools.wraps(forward)
    def build(*inputs: Node) -> Node:
        value = forward(*inputs)
        if not isinstance(value, Node):
            raise SymgradError(f"custom_gradient {name!r}: forward must return a symgrad node, "
                               f"got {type(value).__name__}")
        return op(value, *inputs)

    build.__name__ = build.__qualname__ = name
    build.__signature__ = inspect.signature(forward)
    build.__doc__ = (forward.__doc__ or
                     f"{name}: a composite with a hand-written gradient (sg.custom_gradient).")
    build.op = op
    return build

