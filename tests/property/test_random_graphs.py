"""Property tests over random expression DAGs (tests/property/graphs.py): first and second
derivatives against central differences and, for scalar graphs, ``sympy.diff`` of the export;
the ``to_sympy → from_sympy`` round trip; ``str(G)`` identical across PYTHONHASHSEEDs.

The default run draws a few hundred graphs (derandomized, so CI is reproducible); the
``slow`` variants draw thousands with fresh seeds (``pytest -m slow tests/property``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.export.sympy_export import input_symbols
from tests.property.graphs import RandomChooser, random_graph

H = 1e-5                          # central-difference step
ROOT = Path(__file__).resolve().parents[2]


def profile(examples: int, slow: bool = False):
    return settings(max_examples=examples, deadline=None, derandomize=not slow,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


class HypothesisChooser:
    def __init__(self, data):
        self.data = data

    def index(self, n: int) -> int:
        return self.data.draw(st.integers(0, n - 1))


def run(graph: sg.Graph, values: dict) -> list:
    with np.errstate(all="ignore"):
        return sg.evaluate(graph, {v.name: values[v.name] for v in graph.inputs})


def draw_case(data, tensors: bool):
    """A random graph, input values away from every kink, and a random direction."""
    case = random_graph(HypothesisChooser(data), tensors, steps=data.draw(st.integers(1, 6)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    values = {v.name: rng.uniform(-2, 2, size=v.shape) for v in case.inputs}
    if case.kinks:
        nodes = [n for _, args in case.kinks for n in args]
        evaluated = iter(run(sg.Graph(nodes), values))
        for avoid, args in case.kinks:
            arrays = np.broadcast_arrays(*[next(evaluated) for _ in args])
            assume(not np.any(avoid(*arrays)))
    assume(np.all(np.isfinite(run(case.graph, values)[0])))
    direction = {v.name: rng.standard_normal(v.shape) for v in case.graph.inputs}
    return case, values, direction


def shifted(values: dict, direction: dict, step: float) -> dict:
    return {k: v + step * direction[k] if k in direction else v for k, v in values.items()}


def along(graph_outputs: list, names: list, direction: dict) -> float:
    return float(sum(np.sum(g * direction[n]) for g, n in zip(graph_outputs, names)))


def central_difference(graph: sg.Graph, values: dict, direction: dict) -> float:
    plus = run(graph, shifted(values, direction, H))[0]
    minus = run(graph, shifted(values, direction, -H))[0]
    return float((plus - minus) / (2 * H))


def assert_close(got: float, expected: float, scale: float, what: str):
    assert abs(got - expected) <= 1e-5 * abs(expected) + 1e-6 * (1 + scale), (
        f"{what}: symgrad {got!r}, expected {expected!r}")


def directional_graph(B: sg.Graph, names: list, direction: dict) -> sg.Graph:
    """The scalar graph <grad f, d>, to differentiate once more."""
    total = None
    for node, name in zip(B.outputs, names):
        term = sg.sum(node * sg.const(direction[name]))
        total = term if total is None else total + term
    return sg.Graph(total)


def check_derivatives(data, tensors: bool):
    case, values, direction = draw_case(data, tensors)
    G = case.graph
    names = [v.name for v in G.inputs]
    B = sg.gradients(G, names)
    grads = run(B, values)
    assume(all(np.all(np.isfinite(g)) for g in grads))
    first = along(grads, names, direction)
    scale = float(sum(np.sum(np.abs(g * direction[n])) for g, n in zip(grads, names)))
    assert_close(first, central_difference(G, values, direction), scale,
                 f"first derivative of {sorted(case.ops)}")
    D = directional_graph(B, names, direction)
    inner = [v.name for v in D.inputs]
    second = along(run(sg.gradients(D, inner), values), inner, direction) if inner else 0.0
    fd = central_difference(D, values, direction) if inner else 0.0
    assert np.isfinite(second)
    assert_close(second, fd, abs(second) + abs(first), f"second derivative of {sorted(case.ops)}")
    return case, values, grads


@profile(150)
@given(st.data())
def test_scalar_graph_derivatives_match_central_differences(data):
    check_derivatives(data, tensors=False)


@profile(150)
@given(st.data())
def test_tensor_graph_derivatives_match_central_differences(data):
    check_derivatives(data, tensors=True)


@pytest.mark.slow
@profile(1000, slow=True)
@given(st.data(), st.booleans())
def test_many_graph_derivatives_match_central_differences(data, tensors):
    check_derivatives(data, tensors)


# -- sympy ---------------------------------------------------------------------------------------
def sympy_float(expr, point: dict):
    """``expr`` at ``point`` as a float, or None when sympy leaves it unevaluated (including
    a derivative it could not take, which cannot even be substituted into)."""
    if expr.has(sp.Derivative):
        return None
    value = expr.xreplace(point).evalf(30)
    return float(value) if value.is_Number and value.is_finite else None


def check_sympy(data):
    case, values, _ = draw_case(data, tensors=False)
    assume(not any(getattr(sg_spec(name), "oracle", None) for name in case.ops))
    G = case.graph
    names = [v.name for v in G.inputs]
    grads = run(sg.gradients(G, names), values)
    (expr,) = sg.to_sympy(G)
    real = {sp.Symbol(n): sp.Symbol(n, real=True) for n in names}
    try:       # rebuilt under the new assumptions, a Piecewise (trunc's export) has sympy
        expr = expr.xreplace(real)     # simplify its conditions, where sympy's inequality
    except (TypeError, NotImplementedError):   # solver can fail (a TypeError inside sympy):
        reject()                       # no oracle for this graph
    point = {real[sp.Symbol(n)]: sp.Float(float(values[n]), 30) for n in names}
    for name, grad in zip(names, grads):
        oracle = sympy_float(sp.diff(expr, real[sp.Symbol(name)]), point)
        if oracle is not None:
            assert float(grad) == pytest.approx(oracle, rel=1e-7, abs=1e-9), (
                f"d/d{name} of {sorted(case.ops)} disagrees with sympy.diff")


def sg_spec(name):
    from tests.ops.specs import SPECS_BY_NAME
    return SPECS_BY_NAME.get(name)


@profile(40)
@given(st.data())
def test_scalar_gradients_match_sympy_diff_of_the_export(data):
    check_sympy(data)


@pytest.mark.slow
@profile(250, slow=True)
@given(st.data())
def test_many_scalar_gradients_match_sympy_diff(data):
    check_sympy(data)


def check_round_trip(data, tensors: bool):
    case, values, _ = draw_case(data, tensors)
    G = case.graph
    imported = sg.from_sympy(sg.to_sympy(G))
    flat = {}
    for node, symbols in input_symbols(G.inputs).items():
        for index, symbol in np.ndenumerate(symbols):
            flat[str(symbol)] = float(values[node.name][index])
    (expected,) = run(G, values)
    (got,) = run(imported, flat)
    assert float(got) == pytest.approx(float(expected), rel=1e-8, abs=1e-10), (
        f"round trip of {sorted(case.ops)}")


@profile(60)
@given(st.data(), st.booleans())
def test_sympy_round_trip_evaluates_the_same(data, tensors):
    check_round_trip(data, tensors)


@pytest.mark.slow
@profile(600, slow=True)
@given(st.data(), st.booleans())
def test_many_sympy_round_trips_evaluate_the_same(data, tensors):
    check_round_trip(data, tensors)


# -- determinism ---------------------------------------------------------------------------------
LISTING = """
import symgrad as sg
from tests.property.graphs import RandomChooser, random_graph
for seed in range({count}):
    G = random_graph(RandomChooser(seed), tensors=seed % 2 == 1, steps=6).graph
    print(G)
    print(sg.gradients(G, [v.name for v in G.inputs]))
"""


def listings(count: int, hash_seeds) -> list:
    outputs = []
    for hash_seed in hash_seeds:
        env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
        done = subprocess.run([sys.executable, "-c", LISTING.format(count=count)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    return outputs


def test_listings_are_identical_across_hash_seeds():
    first, *others = listings(12, (0, 1, 4242))
    assert first.count("graph(") == 24
    assert all(other == first for other in others)


@pytest.mark.slow
def test_many_listings_are_identical_across_hash_seeds():
    first, *others = listings(150, (0, 7, 99, 123456))
    assert all(other == first for other in others)


def test_the_generator_covers_every_elementwise_op_with_a_spec_row():
    from tests.property.graphs import CONDITION_SPECS, VALUE_SPECS
    seen = set()
    for seed in range(600):
        seen |= random_graph(RandomChooser(seed), tensors=seed % 2 == 1, steps=8).ops
    missing = {spec.name for spec in VALUE_SPECS + CONDITION_SPECS} - seen
    assert not missing, f"never drawn: {sorted(missing)}"
    assert {"where", "sin", "greater", "matmul", "softmax"} <= seen
