"""sg.to_sympy: every op against its numpy forward, derivatives against sympy.diff, the cse
form, tensor outputs, deep graphs and error messages."""

from __future__ import annotations

import time

import numpy as np
import pytest
import sympy as sp

import symgrad as sg
from symgrad.ir import REGISTRY
from symgrad.ops import composite, gather, shape
from tests.ops.specs import SPECS_BY_NAME

LEAVES = {"var", "const"}
RNG_SEED = 7


def flat_entries(out) -> list:
    """The scalar sympy entries of one to_sympy output, in C order."""
    if isinstance(out, sp.MatrixBase):
        return list(out)
    if isinstance(out, sp.NDimArray):
        return list(sp.flatten(out.tolist()))
    return [out]


def input_symbols(graph: sg.Graph) -> list:
    """The sympy symbols to_sympy uses for the graph's inputs, each input flattened in C order."""
    symbols = []
    for v in graph.inputs:
        if not v.shape:
            symbols.append(sp.Symbol(v.name))
        else:
            symbols += [sp.Symbol("_".join([v.name, *map(str, i)])) for i in np.ndindex(*v.shape)]
    return symbols


def sample(graph: sg.Graph, rng, lo=-1.5, hi=1.5) -> dict:
    return {v.name: rng.uniform(lo, hi, size=v.shape) for v in graph.inputs}


def sympy_values(graph: sg.Graph, values: dict, outputs=None) -> list:
    """Every output of ``to_sympy(graph)`` evaluated with lambdify at ``values``."""
    outputs = sg.to_sympy(graph) if outputs is None else outputs
    flat_inputs = [float(x) for v in graph.inputs for x in np.ravel(values[v.name])]
    fn = sp.lambdify(input_symbols(graph), [flat_entries(o) for o in outputs], "numpy")
    return [np.array(vals, dtype=float) for vals in fn(*flat_inputs)]


def assert_matches_evaluate(graph: sg.Graph, values: dict, outputs=None, rtol=1e-10):
    if any(o.dtype == "float32" for o in graph.outputs):
        rtol = 1e-6                      # sympy computes exactly what float32 rounds
    expected = sg.evaluate(graph, values)
    got = sympy_values(graph, values, outputs)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, np.ravel(e).astype(float), rtol=rtol, atol=1e-12)


# -- every op, through the registry ---------------------------------------------------------------
def elementwise_case(op, rng):
    spec = SPECS_BY_NAME.get(op.name)
    if spec is None:   # a new elementwise op without a row: positive inputs, no params
        arity = len(op.bprop)
        inputs = [sg.var(f"a{i}") for i in range(arity)]
        return sg.Graph(op(*inputs), inputs=inputs), {f"a{i}": rng.uniform(0.5, 2) for i in
                                                      range(arity)}
    return spec.build(), spec.sample(rng)


def tensor_cases():
    X = sg.var("X", shape=(2, 3))
    v = sg.var("v", shape=(3,))
    labels = sg.const(np.array([2, 0]))
    return {
        "broadcast_to": shape.broadcast_to(v, (2, 3)),
        "sum_to": shape.sum_to(X, (1, 3)),
        "reshape": sg.reshape(X, (3, 2)),
        "concatenate": sg.concatenate([X, X * 2], axis=1),
        "slice_axis": shape.slice_axis(X, 1, 1, 3),
        "pad_axis": shape.pad_axis(X, 0, 1, 3, 4),
        "transpose": X.T,
        "getitem": X[1, ::2],
        "scatter": shape.scatter(sg.var("g", shape=(2,)), X[1, ::2].params[0][1], (2, 3)),
        "sum": sg.sum(X, axis=0),
        "max": sg.max(X, axis=1),
        "min": sg.min(X, axis=0),
        "cumsum": sg.cumsum(X, axis=1),
        "argmax": sg.argmax(X, axis=1),
        "argmin": sg.argmin(X),
        "matmul": X @ v,
        "softmax": sg.softmax(X),
        "log_softmax": sg.log_softmax(X, axis=0),
        "logsumexp": sg.logsumexp(X, axis=1),
        "cross_entropy": sg.cross_entropy(X, labels),
        "exp_minus_onehot": composite.softmax_minus_onehot(X, labels),
        "nll": composite.nll(sg.log_softmax(X, axis=1), labels),
        **issue10_cases(X, v),
    }


def issue10_cases(X, v):
    """Gather, einsum and sg.linalg ops (matrices kept well conditioned / positive definite)."""
    M = sg.var("M", shape=(2, 2)) + sg.const(4 * np.eye(2))
    S = sg.var("S", shape=(2, 2))
    ids = sg.const(np.array([1, -1, 1]))
    sign, logdet = sg.linalg.slogdet(M)
    return {
        "take": sg.take(X, ids, axis=1),
        "scatter_add": gather.scatter_add(sg.var("g", shape=(2, 3)), ids, 1, 3),
        "einsum": sg.einsum("ij,j,ii->i", X, v, M),
        "inv": sg.linalg.inv(M), "det": sg.linalg.det(M),
        "slogdet_sign": sign, "logabsdet": logdet,
        "solve": sg.linalg.solve(M, sg.var("b", shape=(2,))),
        "cholesky": sg.linalg.cholesky(S @ S.T + sg.const(3 * np.eye(2))),
    }


OPS = sorted(name for name in REGISTRY.ops if name not in LEAVES)


@pytest.mark.parametrize("name", OPS)
def test_every_op_exports_to_sympy_that_matches_its_forward(name):
    rng = np.random.default_rng(RNG_SEED)
    op = REGISTRY.ops[name]
    if op.elementwise:
        graph, values = elementwise_case(op, rng)
    else:
        cases = tensor_cases()
        assert name in cases, f"add a to_sympy test case for the tensor op {name!r}"
        graph = sg.Graph(cases[name])
        values = sample(graph, rng)
    assert any(n.op is op for n in graph.nodes), f"the {name} case does not contain {name}"
    for _ in range(3):
        assert_matches_evaluate(graph, values)
        values = elementwise_case(op, rng)[1] if op.elementwise else sample(graph, rng)


# -- derivatives against sympy.diff ---------------------------------------------------------------
def _expressions():
    x, y = sg.var("x"), sg.var("y")
    return {
        "poly": x ** 3 * y - 2 * x * y ** 2 + 5,
        "sigmoid": sg.sigmoid(x * y) + sg.softplus(x - y),
        "transcendental": sg.exp(sg.sin(x) * y) / (1 + sg.log(1 + x * x)) + sg.tanh(x / y),
        "kinks": sg.relu(x) * sg.abs(y) + sg.maximum(x, y) - sg.minimum(x * y, 0.5),
        "where": sg.where(x > y, x * x, sg.sqrt(y * y + 1)),
        "tensor": sg.sum(sg.tanh(sg.var("W", (2, 2)) @ sg.stack([x, y])) ** 2),
    }


@pytest.mark.parametrize("name", sorted(_expressions()))
def test_exported_gradients_agree_with_sympy_diff(name):
    f = sg.Graph(_expressions()[name])
    names = [v.name for v in f.inputs]
    grads = sg.to_sympy(sg.gradients(f, names))
    (expr,) = sg.to_sympy(f)
    symbols = input_symbols(f)
    real = {s: sp.Symbol(s.name, real=True) for s in symbols}   # so that diff(Abs) is sign
    oracle_expr = expr.subs(real)
    rng = np.random.default_rng(RNG_SEED)
    exported = {n: g for n, g in zip(names, grads)}
    for _ in range(4):
        point = {s: rng.choice([-1, 1]) * rng.uniform(0.3, 1.7) for s in symbols}
        real_point = {real[s]: v for s, v in point.items()}
        for n in names:
            wrt = [s for s in symbols if str(s) == n or str(s).startswith(n + "_")]
            for s, entry in zip(wrt, flat_entries(exported[n])):
                oracle = sp.diff(oracle_expr, real[s])
                assert float(entry.subs(point)) == pytest.approx(float(oracle.subs(real_point)),
                                                                 rel=1e-9, abs=1e-12)


def test_polynomial_gradient_simplifies_to_sympy_diff():
    x, y = sg.var("x"), sg.var("y")
    f = sg.Graph(x ** 3 * y + sg.sin(x) * sg.exp(y))
    dx, dy = sg.to_sympy(sg.gradients(f, ["x", "y"]))
    (expr,) = sg.to_sympy(f)
    X, Y = sp.symbols("x y")
    assert sp.simplify(dx - sp.diff(expr, X)) == 0
    assert sp.simplify(dy - sp.diff(expr, Y)) == 0


def test_kink_derivatives_keep_the_api_convention():
    x = sg.var("x")
    X = sp.Symbol("x")
    (relu_grad,) = sg.to_sympy(sg.gradients(sg.Graph(sg.relu(x)), ["x"]))
    assert relu_grad == sp.Heaviside(X, 0)
    (abs_grad,) = sg.to_sympy(sg.gradients(sg.Graph(sg.abs(x)), ["x"]))
    assert abs_grad == sp.sign(X) and abs_grad.subs(X, 0) == 0
    (max_grad,) = sg.to_sympy(sg.gradients(sg.Graph(sg.maximum(x, sg.var("y"))), ["x"]))
    assert max_grad.subs({X: 1, sp.Symbol("y"): 1}) == sp.Rational(1, 2)


# -- leaves, constants and output kinds ----------------------------------------------------------
def test_constants_become_exact_numbers():
    x = sg.var("x")
    (expr,) = sg.to_sympy(sg.Graph(x * 0.25 + 3.0 * sg.sin(x) + 0.1))
    X = sp.Symbol("x")
    assert expr.coeff(sp.sin(X)) == 3 and isinstance(expr.coeff(sp.sin(X)), sp.Integer)
    assert expr.coeff(X) == sp.Rational(1, 4)
    floats = [a for a in expr.args if isinstance(a, sp.Float)]
    assert len(floats) == 1 and float(floats[0]) == 0.1


def test_inputs_are_plain_symbols_and_tensor_elements_are_named_by_index():
    W = sg.var("W", shape=(2, 3))
    (out,) = sg.to_sympy(sg.Graph(W * sg.var("s")))
    assert out.shape == (2, 3)
    assert out[1, 2] == sp.Symbol("W_1_2") * sp.Symbol("s")
    assert sp.Symbol("s").is_real is None       # no assumptions: diff and lambdify just work


def test_matmul_exports_as_sympy_matrix_product():
    W, x = sg.var("W", shape=(2, 3)), sg.var("x", shape=(3,))
    (out,) = sg.to_sympy(sg.Graph(W @ x))
    Wm = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"W_{i}_{j}"))
    xm = sp.Matrix(3, 1, lambda i, j: sp.Symbol(f"x_{i}"))
    assert isinstance(out, sp.MatrixBase) and out.shape == (2, 1)
    assert sp.simplify(out - Wm * xm) == sp.zeros(2, 1)


def test_output_kinds_by_rank():
    A = sg.var("A", shape=(2, 1, 2))
    outs = sg.to_sympy(sg.Graph([sg.sum(A), sg.sum(A, axis=(1, 2)), A[:, 0, :] * 1.5, A * 2]))
    assert isinstance(outs[0], sp.Expr)
    assert isinstance(outs[1], sp.MatrixBase) and outs[1].shape == (2, 1)
    assert isinstance(outs[2], sp.MatrixBase) and outs[2].shape == (2, 2)
    assert isinstance(outs[3], sp.NDimArray) and outs[3].shape == (2, 1, 2)
    assert outs[3][1, 0, 1] == 2 * sp.Symbol("A_1_0_1")


def test_a_node_is_accepted_and_non_graphs_are_rejected():
    x = sg.var("x")
    assert sg.to_sympy(sg.exp(x)) == [sp.exp(sp.Symbol("x"))]
    with pytest.raises(sg.SymgradError, match="expects a symgrad Graph"):
        sg.to_sympy("exp(x)")


def test_an_op_without_sympy_rule_is_named():
    from symgrad.ir import OpDef, intern
    blank = OpDef("blank_op", infer=lambda x: (x.shape, x.dtype), forward=np.negative,
                  bprop=(None,), sympy=None)
    node = intern(blank, (sg.var("x"),))
    with pytest.raises(sg.SymgradError, match="'blank_op' has no sympy translation"):
        sg.to_sympy(sg.Graph(node))


# -- the cse form ---------------------------------------------------------------------------------
def test_cse_form_names_each_shared_node_once():
    x, y = sg.var("x"), sg.var("y")
    u = x * y
    G = sg.Graph([sg.exp(u) + sg.sin(u), u])
    replacements, outputs = sg.to_sympy(G, cse=True)
    assert [str(s) for s, _ in replacements] == ["x0"]
    x0 = replacements[0][0]
    assert replacements[0][1] == sp.Symbol("x") * sp.Symbol("y")
    assert outputs == [sp.exp(x0) + sp.sin(x0), x0]
    rebuilt = [o.subs(x0, replacements[0][1]) for o in outputs]
    assert rebuilt == sg.to_sympy(G)


def test_cse_symbols_avoid_input_names():
    x0, x1 = sg.var("x0"), sg.var("x1")
    u = sg.sin(x0 * x1)
    replacements, outputs = sg.to_sympy(sg.Graph(u * u + u), cse=True)
    names = [str(s) for s, _ in replacements]
    assert names and not {"x0", "x1"} & set(names)


def lambdify_cse(replacements, outputs, graph: sg.Graph, values: dict) -> list:
    """Evaluate a cse form with one sympy.lambdify that assigns the replacements in order."""
    symbols = [sp.Symbol(v.name) for v in graph.inputs]
    fn = sp.lambdify(symbols, outputs, "numpy", cse=lambda exprs: (replacements, outputs))
    return [float(v) for v in fn(*(float(values[v.name]) for v in graph.inputs))]


def shared_chain(steps: int) -> sg.Graph:
    u = x = sg.var("x")
    for _ in range(steps):             # each u is used twice: 2^steps leaves as a tree
        u = u * 0.5 + sg.sin(u)
    assert x is not u
    return sg.Graph(u)


def test_cse_of_a_long_shared_chain_is_linear():
    G = shared_chain(3_000)            # 2^3000 leaves as a tree; sympy builds ~10^4 ops/s
    assert len(G) > 9_000
    start = time.perf_counter()
    replacements, outputs = sg.to_sympy(G, cse=True)
    assert time.perf_counter() - start < 60
    assert len(replacements) == 2_999 and len(outputs) == 1
    assert all(sp.count_ops(e) <= 4 for _, e in replacements[:500])


def test_cse_of_a_shared_chain_lambdifies_to_evaluate():
    G = shared_chain(1_000)
    replacements, outputs = sg.to_sympy(G, cse=True)
    for value in (0.3, -1.1):
        np.testing.assert_allclose(lambdify_cse(replacements, outputs, G, {"x": value}),
                                   [float(sg.evaluate(G, {"x": value})[0])], rtol=1e-9)


def test_cse_of_a_small_gradient_graph_lambdifies_to_evaluate():
    x, y = sg.var("x"), sg.var("y")
    f = sg.Graph(sg.sigmoid(x * y) * sg.exp(x * y) + sg.relu(x - y))
    B = sg.gradients(f, ["x", "y"])
    replacements, outputs = sg.to_sympy(B, cse=True)
    values = {"x": 0.7, "y": -0.4}
    expected = [float(v) for v in sg.evaluate(B, values)]
    np.testing.assert_allclose(lambdify_cse(replacements, outputs, B, values), expected,
                               rtol=1e-12)


# -- deep graphs ----------------------------------------------------------------------------------
def iterative_depth(expr) -> int:
    """Depth of a sympy tree, walked with an explicit stack (sympy's own walkers recurse)."""
    deepest, stack, seen = 0, [(expr, 1)], set()
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        deepest = max(deepest, depth)
        stack.extend((arg, depth + 1) for arg in node.args)
    return deepest


def test_plain_export_of_a_deep_unary_chain():
    x = sg.var("x")
    u = x
    for i in range(100_000):
        u = sg.sin(u)
    (expr,) = sg.to_sympy(sg.Graph(u))
    assert isinstance(expr, sp.Expr)
    assert iterative_depth(expr) >= 100_000


def test_plain_export_of_a_deep_piecewise_chain_and_shallow_values():
    x = sg.var("x")
    u = x
    for i in range(500):
        u = sg.where(u > 1, sg.relu(u) * 0.5, sg.maximum(u, x) + 0.25)
    (expr,) = sg.to_sympy(sg.Graph(u))
    assert iterative_depth(expr) >= 500
    small = x
    for i in range(6):                   # lambdify walks the tree (3^levels): keep it small
        small = sg.where(small > 1, sg.relu(small) * 0.5, sg.maximum(small, x) + 0.25)
    G = sg.Graph(small)
    for value in (-0.3, 0.8, 3.0):
        assert_matches_evaluate(G, {"x": np.array(value)})


# -- linear time at any sharing and depth (issue 7, items 17-18) --------------------------------
def numeric_value(expr, point: dict) -> float:
    """A sympy expression's value at ``point`` (Symbol -> float), computed bottom-up with an
    explicit stack (sympy's subs and lambdify recurse), each node by sympy itself."""
    values, stack = {}, [expr]
    while stack:
        node = stack[-1]
        if id(node) in values:
            stack.pop()
            continue
        pending = [a for a in node.args if id(a) not in values]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        if node.is_Symbol:
            values[id(node)] = sp.Float(point[node], 30)
        elif not node.args:
            values[id(node)] = node
        else:
            values[id(node)] = node.func(*(values[id(a)] for a in node.args)).evalf(30)
    return float(values[id(expr)])


def sigmoid_tanh_chain(levels: int) -> sg.Graph:
    """The issue's example: each level uses its input twice (2^levels leaves as a tree)."""
    h = sg.var("c")
    for _ in range(levels):
        m = sg.sigmoid(h) * sg.sigmoid(h)
        h = m + sg.tanh(m)
    return sg.Graph(sg.sigmoid(sg.sin(h) + h))


@pytest.mark.parametrize("levels, nodes", [(2, 12), (3, 16)])
def test_shared_example_exports_in_under_a_second(levels, nodes):
    source = ("m1 = sigmoid(c)*sigmoid(c); h1 = m1 + tanh(m1); m2 = sigmoid(h1)*sigmoid(h1); "
              "h2 = m2 + tanh(m2); sigmoid(sin(h2) + h2)")
    G = sg.parse(source) if levels == 2 else sigmoid_tanh_chain(levels)
    assert len(G) == nodes
    sg.to_sympy(sg.Graph(sg.sigmoid(sg.var("warm"))))          # sympy's first-use costs
    start = time.perf_counter()
    (expr,) = sg.to_sympy(G)
    assert time.perf_counter() - start < 1.0
    for c in (-0.7, 0.4):
        assert numeric_value(expr, {sp.Symbol("c"): c}) == pytest.approx(
            float(sg.evaluate(G, {"c": c})[0]), rel=1e-12)


def sin_chain(depth: int):
    x = sg.var("x")
    u = x
    for _ in range(depth):
        u = sg.sin(u)
    return x, u


def test_gradient_of_a_200_deep_sin_chain_exports_with_its_value():
    x, u = sin_chain(200)
    B = sg.gradients(sg.Graph(u), ["x"])
    (grad,) = sg.to_sympy(B)
    for value in (0.5, -1.2):
        assert numeric_value(grad, {sp.Symbol("x"): value}) == pytest.approx(
            float(sg.evaluate(B, {"x": value})[0]), rel=1e-10)


def test_a_300_deep_chain_times_its_input_exports():
    x, u = sin_chain(300)
    G = sg.Graph(u * x)
    (expr,) = sg.to_sympy(G)
    assert iterative_depth(expr) > 300
    hash(expr)                      # primed bottom-up at export: no recursion here
    assert numeric_value(expr, {sp.Symbol("x"): 0.9}) == pytest.approx(
        float(sg.evaluate(G, {"x": 0.9})[0]), rel=1e-10)
    X = sp.Symbol("x")
    assert float(expr.xreplace({X: sp.Float(0.9)})) == pytest.approx(
        float(sg.evaluate(G, {"x": 0.9})[0]), rel=1e-10)


def random_bounded_dag(steps: int, seed: int = 3) -> sg.Graph:
    """2 * steps nodes: each step combines two recent nodes and squashes the result (values stay
    in [-1, 1]), so nodes are shared at random."""
    rng = np.random.default_rng(seed)
    nodes = [sg.var(f"x{i}") for i in range(4)]
    squash = (sg.sin, sg.tanh, sg.sigmoid)
    combine = (lambda a, b: a * b, lambda a, b: a + b, lambda a, b: a - b)
    for _ in range(steps):
        a, b = (nodes[-1 - int(rng.integers(min(len(nodes), 20)))] for _ in range(2))
        nodes.append(squash[rng.integers(3)](combine[rng.integers(3)](a, b)))
    return sg.Graph(nodes[-1])


def test_cse_of_a_ten_thousand_node_random_dag_takes_seconds():
    G = random_bounded_dag(6_300)
    assert len(G) >= 10_000
    start = time.perf_counter()
    replacements, outputs = sg.to_sympy(G, cse=True)
    assert time.perf_counter() - start < 30
    assert replacements and all(iterative_depth(e) <= 20 for _, e in replacements)
    values = {v.name: 0.3 - 0.4 * i for i, v in enumerate(G.inputs)}
    point = {sp.Symbol(name): value for name, value in values.items()}
    for symbol, expr in replacements:        # the SSA form, assigned in order
        point[symbol] = numeric_value(expr, point)
    assert numeric_value(outputs[0], point) == pytest.approx(
        float(sg.evaluate(G, values)[0]), rel=1e-9)


# -- input names never collide (item 19) ---------------------------------------------------------
def test_tensor_element_names_avoid_a_scalar_input_of_the_same_name():
    W, W_0 = sg.var("W", shape=(2,)), sg.var("W_0")
    G = sg.Graph(sg.sum(W) + 10 * W_0)
    (expr,) = sg.to_sympy(G)
    names = sorted(str(s) for s in expr.free_symbols)
    assert names == ["W_0", "W__0", "W__1"]
    value = expr.subs({sp.Symbol("W__0"): 1, sp.Symbol("W__1"): 2, sp.Symbol("W_0"): 3})
    assert value == 33 == float(sg.evaluate(G, {"W": np.array([1.0, 2.0]), "W_0": 3.0})[0])


def test_two_tensors_whose_element_names_collide_get_distinct_symbols():
    A, A_0 = sg.var("A", shape=(2, 2)), sg.var("A_0", shape=(2,))
    G = sg.Graph(sg.sum(A) + 10 * sg.sum(A_0))
    (expr,) = sg.to_sympy(G)
    assert len(expr.free_symbols) == 6
    point = {s: 1 for s in expr.free_symbols}
    assert expr.subs(point) == 24


# -- decided comparisons (item 20) ---------------------------------------------------------------
def test_a_comparison_of_numbers_is_decided_so_subs_diff_and_xreplace_work():
    x = sg.var("x")
    X = sp.Symbol("x")
    (expr,) = sg.to_sympy(sg.Graph(sg.where(sg.greater(x - x, sg.exp(x - x) + .25), x, 2 * x)))
    assert expr == 2 * X
    assert expr.subs(X, 1) == 2 and sp.diff(expr, X) == 2 and expr.xreplace({X: 3}) == 6


def test_a_nan_comparison_is_false_as_in_numpy():
    x = sg.var("x")
    zero = x - x
    G = sg.Graph(sg.where(sg.less(zero, zero / zero), x, 3 * x))     # 0 < nan is False
    (expr,) = sg.to_sympy(G)
    with np.errstate(invalid="ignore"):
        expected = float(sg.evaluate(G, {"x": 2.0})[0])
    assert expected == 6.0 and expr.subs(sp.Symbol("x"), 2) == 6


def test_export_never_evaluates_text(monkeypatch):
    """heaviside's at0 goes through nsimplify, whose sympy version parses text with eval."""
    import builtins
    real_eval = builtins.eval

    def no_text(source, *args, **kwargs):
        assert not isinstance(source, str), f"to_sympy evaluated text {source!r}"
        return real_eval(source, *args, **kwargs)
    monkeypatch.setattr(builtins, "eval", no_text)
    x, y = sg.var("x"), sg.var("y")
    (expr,) = sg.to_sympy(sg.Graph(sg.heaviside(x, at0=0.3) + sg.heaviside(x - y, at0=0.5)))
    X, Y = sp.Symbol("x"), sp.Symbol("y")
    assert expr.has(sp.Heaviside(X - Y, sp.Rational(1, 2)))
    assert float(expr.subs({X: 0, Y: 0})) == pytest.approx(0.8, rel=1e-15)
    assert float(expr.subs({X: 1, Y: 2})) == 1.0
