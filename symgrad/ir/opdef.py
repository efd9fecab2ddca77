"""The op contract (OpDef) and the one registry that holds every op and public builder."""

from __future__ import annotations

from typing import Callable


class OpDef:
    """Everything about one primitive operation, in one record.

    name      the op's name (printed, used by the parser when public)
    infer     ``(*inputs, **params) -> (shape, dtype)``; raises ShapeError
    forward   numpy implementation ``(*arrays, **params) -> array`` (evaluator only)
    bprop     one rule per input, ``(g, out, *inputs, **params) -> Node | None``: the
              vector-Jacobian product for that input, built from symgrad ops; ``None`` in place
              of a rule means no gradient flows through that input (comparisons, conditions,
              int labels), so it is not a differentiable path. Variadic ops give a function
              ``position -> rule`` instead of a tuple.
    sympy     ``(sp, *args, **params) -> sympy object`` with ``sp`` the sympy module
              (export only; ops never import sympy). For an ``elementwise`` op the rule maps
              sympy scalars and the exporter applies it element by element; for any other op
              it maps numpy object arrays of sympy scalars to one.
    elementwise  True for ops that act element by element with numpy broadcasting
    simplify  optional construction-time identity ``(*inputs, **params) -> Node | None``
    same_dtype  positions of the inputs the forward computes in the result's dtype: ``apply``
              casts them to it first, so numpy's own promotion (which differs from the
              declared dtype for bool and int inputs, and across numpy versions) never decides
              the evaluated dtype. None: every input of an elementwise op whose result is not
              bool, no input of any other op.
    emit      optional backend knowledge, a dict: ``"scalar"``, the op's value on scalars as an
              expression template in numpy function names and operators (``"{0} * {1}"``,
              ``"exp(-logaddexp(0.0, -{0}))"``, params by name as ``{at0}``), used by the
              generated Python and C backends; ``"batch"``, ``(batch_shape, *arrays, **params)
              -> array``, the op on arrays carrying extra leading batch dimensions. Backends
              derive both for numpy ufunc forwards and elementwise ops; ops without a form run
              their numpy forward (Python backend) or per batch point (batched evaluation).
    deps      how each output element depends on input elements, for structural sparsity:
              "elementwise" (numpy broadcasting), "gather" (pure data movement: the numpy
              forward applied to arrays of element numbers gives the map), "reduce" (over
              ``axis``, or down to ``shape``), "along_axis" (each element depends on its whole
              fiber along ``axis``), "matmul", or "dense" (every output on every input, always
              safe). Default: "elementwise" for elementwise ops, else "dense"
    build     ``(op, args, params) -> Node``, set by the ops layer; calling the OpDef calls it
    """

    __slots__ = ("name", "infer", "forward", "bprop", "sympy", "simplify", "elementwise",
                 "same_dtype", "emit", "deps", "build", "doc")

    def __init__(self, name: str, infer: Callable, forward: Callable, bprop, sympy,
                 simplify: Callable | None = None, elementwise: bool = False, doc: str = "", *,
                 same_dtype: tuple | None = None, emit: dict | None = None,
                 deps: str | None = None):
        self.name, self.infer, self.forward = name, infer, forward
        self.bprop = bprop if callable(bprop) else tuple(bprop)
        self.sympy, self.simplify, self.elementwise, self.doc = sympy, simplify, elementwise, doc
        self.same_dtype = same_dtype
        self.emit = emit or {}
        self.deps = deps or ("elementwise" if elementwise else "dense")
        self.build: Callable | None = None

    def rule(self, position: int):
        """The bprop rule for input ``position`` (None: no gradient flows through it)."""
        return self.bprop(position) if callable(self.bprop) else self.bprop[position]

    def __call__(self, *args, **params):
        return self.build(self, args, params)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


class Registry:
    """Name → OpDef for primitives, name → builder for every public function.

    Filled once by ``symgrad.ops`` at import and then frozen; the parser, the operator sugar
    on Node, ``from_sympy`` and the completeness tests all read it.
    """

    def __init__(self):
        self.ops: dict[str, OpDef] = {}
        self.functions: dict[str, Callable] = {}
        self.frozen = False

    def add_op(self, op: OpDef) -> OpDef:
        self._check_open(op.name, self.ops)
        self.ops[op.name] = op
        return op

    def add_function(self, name: str, fn: Callable) -> Callable:
        self._check_open(name, self.functions)
        self.functions[name] = fn
        return fn

    def _check_open(self, name, table):
        if self.frozen:
            raise RuntimeError(f"registry is frozen; cannot add {name!r}")
        if name in table:
            raise RuntimeError(f"{name!r} registered twice")

    def freeze(self) -> None:
        self.frozen = True

    def op(self, name: str) -> OpDef:
        return self.ops[name]

    def function(self, name: str) -> Callable:
        return self.functions[name]


REGISTRY = Registry()
