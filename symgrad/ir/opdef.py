"""The op contract (OpDef) and the one registry that holds every op and public builder."""

from __future__ import annotations

import inspect
from typing import Callable

from ..errors import SymgradError


class _PerOp:
    """A class attribute read one way on the class and another way on each op instance."""

    def __init__(self, on_class, on_op: Callable):
        self.on_class, self.on_op = on_class, on_op

    def __get__(self, op, owner=None):
        return self.on_class if op is None else self.on_op(op)


class OpDef:
    __doc__ = _PerOp("""Everything about one primitive operation, in one record.

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
              -> array``, the op on arrays carrying extra leading batch dimensions;
              ``"scalarize"``, ``(*arrays, **params) -> array``, the op on numpy object arrays
              of scalar nodes built from symgrad ops (``symgrad.ops.elements``), for an op whose
              numpy forward cannot run on them (max, argmax, the softmax family): the C
              backend compiles tensors as such scalars. Backends derive the first two for numpy
              ufunc forwards and elementwise ops; ops without a form run their numpy forward
              (Python backend, scalarization) or per batch point (batched evaluation).
    deps      how each output element depends on input elements, for structural sparsity:
              "elementwise" (numpy broadcasting), "gather" (pure data movement: the numpy
              forward applied to arrays of element numbers gives the map), "reduce" (over
              ``axis``, or down to ``shape``), "along_axis" (each element depends on its whole
              fiber along ``axis``), "matmul", or "dense" (every output on every input, always
              safe). Default: "elementwise" for elementwise ops, else "dense"
    jax       ``(jnp, *arrays, **params) -> array``: the forward in ``jax.numpy`` (export to JAX
              only; ops never import jax). Optional for ops whose forward is a numpy ufunc: the
              ufunc of the same name in ``jax.numpy`` is used.
    build     ``(op, args, params) -> Node``, set by the ops layer; calling the OpDef calls it
    jvp       optional forward-mode rule ``(tangents, out, *inputs, **params) -> Node`` given
              to ``sg.define_op``, kept on the record (forward mode derives J·t from bprop)

    An OpDef is the public function of its op: ``help(sg.sin)`` and ``inspect.signature``
    show its own signature and a docstring (``doc`` plus a generated example).
    """, lambda op: op_docstring(op))

    __slots__ = ("name", "infer", "forward", "bprop", "sympy", "simplify", "elementwise",
                 "same_dtype", "emit", "deps", "jvp", "jax", "build", "doc")

    def __init__(self, name: str, infer: Callable, forward: Callable, bprop, sympy,
                 simplify: Callable | None = None, elementwise: bool = False, doc: str = "", *,
                 same_dtype: tuple | None = None, emit: dict | None = None,
                 deps: str | None = None, jvp: Callable | None = None,
                 jax: Callable | None = None):
        self.name, self.infer, self.forward = name, infer, forward
        self.bprop = bprop if callable(bprop) else tuple(bprop)
        self.sympy, self.simplify, self.elementwise, self.doc = sympy, simplify, elementwise, doc
        self.same_dtype = same_dtype
        self.emit = emit or {}
        self.deps = deps or ("elementwise" if elementwise else "dense")
        self.jvp = jvp
        self.jax = jax
        self.build: Callable | None = None

    def rule(self, position: int):
        """The bprop rule for input ``position`` (None: no gradient flows through it)."""
        return self.bprop(position) if callable(self.bprop) else self.bprop[position]

    def __call__(self, *args, **params):
        return self.build(self, args, params)

    def __get__(self, instance, owner=None):
        """Ops are functions: as a class attribute they stay unbound (like staticmethod), and
        ``help()`` and ``inspect`` treat them as routines."""
        return self

    @property
    def __name__(self) -> str:
        return self.name

    @property
    def __signature__(self) -> inspect.Signature:
        return op_signature(self)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def _positional_names(fn) -> list | None:
    """Names of ``fn``'s leading positional parameters (None if it takes ``*args`` or cannot
    be inspected)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return None
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.default is p.empty]


def _keyword_parameters(fn) -> list:
    if not inspect.isfunction(fn):  # numpy ufuncs' own keywords are not the op's
        return []
    return [p for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]


def op_signature(op: OpDef) -> inspect.Signature:
    """The builder's signature: input names from the shape rule or the numpy forward (else
    ``x`` / ``x1, x2, ...`` by arity, ``*xs`` for a variadic op), keyword parameters from them.

    >>> import symgrad as sg
    >>> import inspect
    >>> inspect.signature(sg.maximum), inspect.signature(sg.where)
    (<Signature (x1, x2, /) -> 'Node'>, <Signature (cond, a, b, /) -> 'Node'>)
    """
    arity = None if callable(op.bprop) else len(op.bprop)
    names = _positional_names(op.infer) or _positional_names(op.forward)
    if arity is not None and (names is None or len(names) != arity):
        names = ["x"] if arity == 1 else [f"x{i + 1}" for i in range(arity)]
    if names is None:
        positional = [inspect.Parameter("xs", inspect.Parameter.VAR_POSITIONAL)]
    else:
        positional = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names]
    keywords: dict = {}
    for p in _keyword_parameters(op.infer) + _keyword_parameters(op.forward):
        keywords.setdefault(p.name, p.replace(annotation=inspect.Parameter.empty))
    return inspect.Signature(positional + list(keywords.values()), return_annotation="Node")


def op_docstring(op: OpDef) -> str:
    """``op``'s own docstring: its ``doc``, how gradients flow, and an example built and
    evaluated on scalar inputs (generated from the record, so every op has one)."""
    flows = ("variadic" if callable(op.bprop) else
             ", ".join(n for n, rule in zip(op_signature(op).parameters, op.bprop)
                       if rule is not None))
    numpy_name = getattr(op.forward, "__name__", "<lambda>")
    summary = op.doc or (f"{op.name}, as numpy.{numpy_name}" if numpy_name.isidentifier()
                         else op.name)
    lines = [summary.rstrip(".") + ".", ""]
    if op.elementwise:
        lines.append("Elementwise, with numpy broadcasting.")
    lines.append(f"Gradient flows to: {flows}." if flows else "Not differentiable.")
    example = _example(op)
    if example:
        lines += ["", "Example:", "", *example]
    return "\n".join(lines)


def _example(op: OpDef) -> list:
    """Doctest lines that build ``op`` on scalar inputs and evaluate it (empty when the record
    gives no scalar example, e.g. a variadic or tensor-only op)."""
    import numpy as np

    signature = op_signature(op)
    names = [n for n, p in signature.parameters.items() if p.kind is p.POSITIONAL_ONLY]
    if not names or callable(op.bprop):
        return []
    var, greater = REGISTRY.functions["var"], REGISTRY.functions.get("greater")
    samples = [0.5, 2.0, 1.5, 3.0][:len(names)]
    def sample(name):
        return "float32" if name == "dtype" else 0.5

    keyword_only = {n: p for n, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY}
    required = {n: sample(n) for n, p in keyword_only.items() if p.default is p.empty}
    optional = {n: sample(n) for n, p in keyword_only.items() if p.default is None}
    tries = [(required, False), (required | optional, False), (required, True)]
    for keywords, condition in tries:  # a first input that must be bool is a comparison
        shown_keywords = "".join(f", {k}={v!r}" for k, v in keywords.items())
        try:
            args = [var(n) for n in names]
            if condition:
                args[0] = greater(args[0], 0.0)
            node = op(*args, **keywords)
            arrays = [np.asarray(v) for v in samples]
            if condition:
                arrays[0] = arrays[0] > 0
            with np.errstate(all="ignore"):
                value = np.asarray(op.forward(*arrays, **keywords)).astype(node.dtype)
        except (SymgradError, TypeError, ValueError):
            continue
        call = ", ".join(names)
        if condition:
            call = f"sg.greater({names[0]}, 0.0)" + call[len(names[0]):]
        return [">>> import symgrad as sg",
                f">>> {', '.join(names)} = " + ", ".join(f"sg.var({n!r})" for n in names),
                f">>> f = sg.{op.name}({call}{shown_keywords})",
                ">>> f.shape, f.dtype",
                repr((node.shape, node.dtype)),
                f">>> sg.evaluate(sg.Graph(f, [{', '.join(names)}]), "
                + "{" + ", ".join(f"{n!r}: {v!r}" for n, v in zip(names, samples)) + "})[0]",
                repr(value)]
    return []


class Registry:
    """Name → OpDef for primitives, name → builder for every public function.

    Filled once by ``symgrad.ops`` at import and then frozen; the parser, the operator sugar
    on Node, ``from_sympy`` and the completeness tests all read it.
    """

    def __init__(self):
        self.ops: dict[str, OpDef] = {}
        self.functions: dict[str, Callable] = {}
        self.user_ops: dict[str, OpDef] = {}
        self.user_functions: dict[str, Callable] = {}
        # ops of earlier versions, gone since: name -> builder of what replaced them (called
        # with the old node's inputs and params), so that older graph files still load
        self.retired: dict[str, Callable] = {}
        self.frozen = False

    def add_op(self, op: OpDef) -> OpDef:
        self._check_open(op.name, self.ops)
        self.ops[op.name] = op
        return op

    def add_function(self, name: str, fn: Callable) -> Callable:
        self._check_open(name, self.functions)
        self.functions[name] = fn
        return fn

    def add_user_op(self, op: OpDef, public: bool = True) -> OpDef:
        """Register a user's op (``sg.define_op``, ``sg.custom_gradient``) after the built-in
        ones are frozen, in tables of its own (``user_ops``, and ``user_functions`` for the
        parser if ``public``); a name already taken raises SymgradError."""
        if not isinstance(op.name, str) or not op.name.isidentifier():
            raise SymgradError(f"an op name must be an identifier, got {op.name!r}")
        if self.lookup(op.name) is not None or op.name in self.functions or op.name in (
                "e", "pi") or op.name in self.user_functions:
            raise SymgradError(f"an op or function named {op.name!r} already exists; choose "
                               f"another name")
        self.user_ops[op.name] = op
        if public:
            self.user_functions[op.name] = op
        return op

    def lookup(self, name: str) -> OpDef | None:
        """The built-in or user op called ``name`` (None if there is none)."""
        return self.ops.get(name) or self.user_ops.get(name)

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
