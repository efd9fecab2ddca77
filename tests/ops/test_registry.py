"""Completeness of the op registry: every op has a test spec, an explicit bprop decision of the
right arity and a sympy rule; every public function of the API is reachable as sg.<name>."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import symgrad as sg
import symgrad.ops
from symgrad.ir import REGISTRY
from tests.ops.specs import OP_SPECS, SPECS_BY_NAME

LEAVES = {"var", "const"}
OP_MODULES = [importlib.import_module(f"symgrad.ops.{m.name}")
              for m in pkgutil.iter_modules(symgrad.ops.__path__)]

# The public functions API.md lists (sections 1 to 4), with the error classes.
API_NAMES = (
    "var const Graph parse exp log sqrt sin cos tan tanh sigmoid relu abs sign square softplus "
    "log1p expm1 maximum minimum where greater less matmul transpose reshape sum mean max dot "
    "concatenate stack softmax log_softmax logsumexp cross_entropy gradients jacobian hessian "
    "evaluate compile to_sympy from_sympy SymgradError ParseError ShapeError GradientError "
    "InputError").split()
# API §6 groups this branch implements: elementwise, comparisons and logic, reductions.
API_OPERATIONS = (
    "arcsin arccos arctan sinh cosh arcsinh arccosh arctanh log2 log10 exp2 erf erfc logaddexp "
    "hypot arctan2 clip floor ceil round mod greater_equal less_equal equal not_equal "
    "logical_and logical_or logical_not min prod variance std norm cumsum argmax argmin "
    "trunc cbrt logical_xor cumprod").split()   # the last four: ones users meet on the way


def module_of(op) -> str:
    """The module that defines ``op``: the ops module whose OPS tuple lists it."""
    for module in OP_MODULES:
        if any(o is op for o in getattr(module, "OPS", ())):
            return module.__name__
    return "unknown"


ALL_OPS = [op for name, op in sorted(REGISTRY.ops.items()) if name not in LEAVES]
SCALAR_OPS = [op for op in ALL_OPS if op.elementwise]   # tested through OP_SPECS rows


def test_registry_is_frozen_and_ops_come_from_known_modules():
    assert REGISTRY.frozen
    with pytest.raises(RuntimeError, match="frozen"):
        REGISTRY.add_function("late", lambda: None)
    unknown = [op.name for op in ALL_OPS if module_of(op) == "unknown"]
    assert not unknown, f"ops not listed in any ops module's OPS tuple: {unknown}"


def test_every_scalar_op_has_exactly_one_spec_row():
    names = [spec.name for spec in OP_SPECS]
    assert len(names) == len(set(names)), "duplicate spec rows"
    missing = sorted(op.name for op in SCALAR_OPS if op.name not in SPECS_BY_NAME)
    assert not missing, f"add rows to tests/ops/specs.py OP_SPECS for: {missing}"
    stale = sorted(set(names) - {op.name for op in SCALAR_OPS})
    assert not stale, f"spec rows for ops that are not registered scalar ops: {stale}"


@pytest.mark.parametrize("spec", OP_SPECS, ids=lambda s: s.name)
def test_spec_rows_are_consistent_with_their_ops(spec):
    op = spec.op
    assert isinstance(op.bprop, tuple) and len(op.bprop) == len(spec.args)
    assert (spec.order >= 1) == bool(spec.differentiable), (
        f"{spec.name}: order {spec.order} but differentiable arguments {spec.differentiable}")
    for arg in spec.args:
        assert arg.lo < arg.hi


@pytest.mark.parametrize("op", ALL_OPS, ids=lambda op: op.name)
def test_every_op_has_an_explicit_bprop_decision_of_the_right_arity(op):
    if callable(op.bprop):                              # variadic: position -> rule
        for position in range(3):
            rule = op.rule(position)
            assert rule is None or callable(rule)
        return
    assert isinstance(op.bprop, tuple) and op.bprop, f"{op.name} declares no bprop rules"
    arity = len(op.bprop)
    infer = inspect.signature(op.infer).parameters.values()
    if not any(p.kind is p.VAR_POSITIONAL for p in infer):
        positional = [p for p in infer if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        assert len(positional) == arity, (
            f"{op.name}: infer takes {len(positional)} inputs but bprop has {arity} rules")
    params = SPECS_BY_NAME[op.name].params if op.name in SPECS_BY_NAME else None
    for position, rule in enumerate(op.bprop):
        if rule is None:
            continue
        assert callable(rule), f"{op.name}: rule {position} is neither a function nor None"
        signature = inspect.signature(rule)
        if params is None:
            signature.bind_partial(*range(2 + arity))    # (g, out, *inputs) must fit
        else:
            signature.bind(*range(2 + arity), **params)


@pytest.mark.parametrize("op", ALL_OPS, ids=lambda op: op.name)
def test_every_op_has_a_sympy_rule_and_a_forward(op):
    assert callable(op.sympy), f"{op.name} has no sympy translation"
    assert callable(op.forward), f"{op.name} has no numpy forward"


def test_leaves_have_no_rules():
    for name in LEAVES:
        assert REGISTRY.ops[name].bprop == ()


@pytest.mark.parametrize("name", API_NAMES + API_OPERATIONS)
def test_api_names_are_reachable_from_the_package(name):
    assert hasattr(sg, name), f"sg.{name} is missing (API.md lists it)"
    if name in REGISTRY.functions:
        assert getattr(sg, name) is REGISTRY.functions[name], (
            f"sg.{name} and the registry (used by the parser) disagree")


def test_package_exports_every_registry_function_and_nothing_shadows_one():
    assert set(REGISTRY.functions) <= set(sg.__all__)
    assert len(sg.__all__) == len(set(sg.__all__)), "a non-op name repeats a registry name"
    for name in sg.__all__:
        assert hasattr(sg, name), name


def test_public_functions_are_callable_and_named_as_registered():
    for name, fn in REGISTRY.functions.items():
        assert callable(fn), name
        assert name.isidentifier() and not name.endswith("_"), name
