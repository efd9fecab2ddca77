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
    jax       ``(jnp, *arrays, **params) -> array``: the forward in ``jax.numpy`` (export to JAX
              only; ops never import jax). Optional for ops whose forward is a numpy ufunc: the
              ufunc of the same name in ``jax.numpy`` is used.
    build     ``(op, args, params) -> Node``, set by the ops layer; calling the OpDef calls it
    """

    __slots__ = ("name", "infer", "forward", "bprop", "sympy", "simplify", "elementwise",
                 "build", "doc", "jax")

    def __init__(self, name: str, infer: Callable, forward: Callable, bprop, sympy,
                 simplify: Callable | None = None, elementwise: bool = False, doc: str = "",
                 jax: Callable | None = None):
        self.name, self.infer, self.forward = name, infer, forward
        self.bprop = bprop if callable(bprop) else tuple(bprop)
        self.sympy, self.simplify, self.elementwise, self.doc = sympy, simplify, elementwise, doc
        self.jax = jax
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
