"""The generated-Python backend: every op gives the numpy interpreter's values bit for bit
(special values included) and dtypes; random graphs; deep chains; the numpy fallback."""

from __future__ import annotations

import hashlib
import marshal
import re

import numpy as np
import pytest

import symgrad as sg
from symgrad.backends import python as python_backend

from .cases import elementwise_graph, elementwise_ops, point_grid, tensor_graphs
from .helpers import assert_same


@pytest.fixture(autouse=True, params=["assembled", "source"])
def code_path(request, monkeypatch):
    """Every test runs both ways a graph of scalars becomes code: bytecode assembled directly
    (``backends/bytecode.py``) and generated source compiled by CPython."""
    monkeypatch.setattr(python_backend, "ASSEMBLE", request.param == "assembled")
    return request.param


def test_graphs_of_scalars_take_the_path_chosen_and_tensor_graphs_the_source(code_path):
    x, y = sg.var("x"), sg.var("y")
    fn = sg.compile(sg.Graph([sg.sin(x) * y, x < y]), backend="python")
    assert (fn._source is None) == (code_path == "assembled")
    assert "def sg_eval(a0, a1)" in fn.source        # generated on request when assembled
    v = sg.var("v", (3,))
    assert sg.compile(sg.Graph(sg.sin(v) * x), backend="python")._source is not None


@pytest.mark.parametrize("op", elementwise_ops(), ids=lambda op: op.name)
def test_every_elementwise_op_on_scalars_matches_the_interpreter_bit_for_bit(op):
    G, names = elementwise_graph(op)
    fn = sg.compile(G, backend="python", optimize=False)
    interpreter = sg.compile(G, optimize=False)
    rng = np.random.default_rng(0)
    for point in point_grid(len(names), rng):
        values = dict(zip(names, point))
        assert_same(fn(values)[0], interpreter(values)[0], (op.name, point))


@pytest.mark.parametrize("op", elementwise_ops(), ids=lambda op: op.name)
@pytest.mark.parametrize("dtype, shape", [("float32", ()), ("float64", (5,)), ("int64", ())])
def test_every_elementwise_op_on_other_types_matches_the_interpreter(op, dtype, shape):
    G, names = elementwise_graph(op, dtype, shape)
    fn = sg.compile(G, backend="python", optimize=False)
    rng = np.random.default_rng(1)
    for _ in range(5):
        if dtype == "int64":
            values = {n: int(rng.integers(-3, 4)) for n in names}
        else:
            values = {n: rng.uniform(-3, 3, shape).astype(dtype) for n in names}
        assert_same(fn(values)[0], sg.evaluate(G, values)[0], (op.name, values))


@pytest.mark.parametrize("index", range(len(tensor_graphs())))
def test_tensor_graphs_match_the_interpreter(index):
    G, values = tensor_graphs()[index]
    got = sg.compile(G, backend="python", optimize=False)(values)
    for g, e in zip(got, sg.evaluate(G, values)):
        assert_same(g, e, str(G))


def test_tensor_graphs_cut_into_parts_of_three_operations_match_the_interpreter(monkeypatch):
    monkeypatch.setattr(python_backend, "PART", 3)
    for G, values in tensor_graphs():
        got = sg.compile(G, backend="python", optimize=False)(values)
        for g, e in zip(got, sg.evaluate(G, values)):
            assert_same(g, e, str(G))


def _random_scalar_graph(rng, n_inputs=3, n_ops=120):
    inputs = [sg.var(f"x{i}") for i in range(n_inputs)]
    nodes = list(inputs)
    unary = [sg.sin, sg.cos, sg.exp, sg.log, sg.sqrt, sg.tanh, sg.sigmoid, sg.abs, sg.relu,
             sg.log1p, sg.expm1, sg.neg, sg.softplus, sg.sign]
    binary = [sg.add, sg.sub, sg.mul, sg.div, sg.maximum, sg.minimum, sg.pow]
    for _ in range(n_ops):
        a, b = (nodes[int(i)] for i in rng.integers(0, len(nodes), 2))
        kind = rng.integers(4)
        if kind == 0:
            nodes.append(unary[int(rng.integers(len(unary)))](a))
        elif kind == 1:
            nodes.append(binary[int(rng.integers(len(binary)))](a, b))
        elif kind == 2:
            nodes.append(sg.where(sg.greater(a, b), a * 0.5, b - 1.0))
        else:
            nodes.append(a * float(rng.uniform(-2, 2)) + b)
    outs = [nodes[-1], nodes[len(nodes) // 2], nodes[-3]]
    return sg.Graph(outs, inputs=inputs)


@pytest.mark.parametrize("seed", range(6))
def test_random_scalar_graphs_and_their_gradients_match_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    G = _random_scalar_graph(rng)
    B = sg.gradients(sg.Graph(sg.sum(sg.stack(list(G.outputs))), inputs=G.inputs),
                     [v.name for v in G.inputs])
    for graph in (G, B):
        fn = sg.compile(graph, backend="python", optimize=False)
        for _ in range(8):
            values = {v.name: float(rng.choice([0.0, -0.0, *rng.uniform(-3, 3, 4)]))
                      for v in graph.inputs}
            for g, e in zip(fn(values), sg.evaluate(graph, values)):
                assert_same(g, e, values)


def test_division_by_zero_and_domain_errors_fall_back_to_numpy_values():
    x, y = sg.var("x"), sg.var("y")
    G = sg.Graph([x / y, sg.sqrt(x), sg.sin(y / x), sg.log(x)])
    fn = sg.compile(G, backend="python")
    for values in ({"x": 1.0, "y": 0.0}, {"x": -1.0, "y": 2.0}, {"x": 0.0, "y": 0.0},
                   {"x": np.inf, "y": 1.0}):
        for g, e in zip(fn(values), sg.evaluate(G, values)):
            assert_same(g, e, values)


def test_to_python_is_a_module_with_sg_eval_that_runs_on_its_own():
    x, y = sg.var("x"), sg.var("y")
    G = sg.gradients(sg.exp(sg.sin(x) * y) / (1 + x * x), ["x", "y"])
    source = sg.to_python(G)
    assert "def sg_eval(a0, a1)" in source and "symgrad" not in source
    namespace: dict = {}
    exec(compile(source, "<test>", "exec"), namespace)
    for g, e in zip(namespace["sg_eval"](0.3, -1.2), sg.evaluate(G, {"x": 0.3, "y": -1.2})):
        assert_same(g, e)


def test_a_deep_chain_of_100000_nodes_compiles_in_parts_and_runs(monkeypatch):
    monkeypatch.setattr(python_backend, "PART", 10_000)
    x = sg.var("x")
    node = x
    for i in range(50_000):
        node = sg.sin(node) * 0.999 if i % 2 else node + 0.25
    G = sg.Graph(node)
    fn = sg.compile(G, backend="python", optimize=False)
    assert fn.source.count("def _part") == 8        # 75,000 operations
    assert_same(fn(x=0.5)[0], sg.evaluate(G, {"x": 0.5})[0])


def _statements(source: str) -> list:
    """The statements of the generated parts (``_part0``, ``_part1``, ...), inputs' loads left
    out."""
    body = source.split("\ndef sg_eval")[0].split("\ndef _part", 1)[1]
    return [line for line in body.splitlines()
            if line.startswith("    ") and not re.fullmatch(r" +v\d+ = R\[\d+\]", line)]


def _max_nesting(source: str) -> int:
    """The deepest nesting of parentheses in ``source``."""
    chars = np.frombuffer(source.encode(), dtype=np.uint8)
    return int(np.cumsum((chars == ord("(")).astype(np.int64) - (chars == ord(")"))).max())


def test_a_single_use_chain_of_100000_nodes_is_fused_into_bounded_expressions():
    x, y = sg.var("x"), sg.var("y")
    node = x
    for i in range(44_448):         # each value is used once: one expression, were it unbounded
        node = [lambda a: a * 1.0001 + y, lambda a: sg.sin(a) - y, lambda a: 0.5 / (a - y),
                lambda a: -sg.exp(a * 1e-3)][i % 4](node)
    G = sg.Graph(node)
    operations = sum(1 for n in G.nodes if not (n.is_input or n.is_const))
    assert operations >= 100_000
    fn = sg.compile(G, backend="python", optimize=False)
    statements = len(_statements(fn.source))
    assert operations // python_backend.FUSE_DEPTH <= statements <= operations // 4
    assert _max_nesting(fn.source) <= 3 * python_backend.FUSE_DEPTH
    values = {"x": 0.5, "y": 0.25}
    assert_same(fn(values)[0], sg.evaluate(G, values)[0], values)


def test_operator_precedence_of_fused_expressions_keeps_every_rounding():
    rng = np.random.default_rng(7)
    xs = [sg.var(f"x{i}") for i in range(4)]
    binary = [sg.add, sg.sub, sg.mul, sg.div, sg.pow, sg.maximum]
    outputs = []
    for _ in range(40):             # random trees of single-use values: every shape of nesting
        stack = [xs[int(i)] for i in rng.integers(0, 4, 6)]
        while len(stack) > 1:
            a, kind = stack.pop(), int(rng.integers(6))
            if kind == 0:
                stack.append(-a)
            elif kind == 1:
                stack.append(sg.where(sg.less(a, stack[-1]), a, -stack.pop()))
            else:
                stack.append(binary[int(rng.integers(len(binary)))](a, stack.pop()))
        outputs.append(stack[0])
    G = sg.Graph(outputs, inputs=xs)
    fn = sg.compile(G, backend="python", optimize=False)
    assert len(_statements(fn.source)) < 40 * 3       # 40 trees of 5 or more operations
    for _ in range(20):
        values = {v.name: float(rng.choice([0.0, -0.0, 1e300, *rng.uniform(-3, 3, 3)]))
                  for v in xs}
        for g, e in zip(fn(values), sg.evaluate(G, values)):
            assert_same(g, e, values)


def test_a_fused_expression_that_raises_falls_back_to_the_interpreter():
    x, y = sg.var("x"), sg.var("y")
    G = sg.Graph(sg.sin(x / y * 2.0 + 1.0) - sg.sqrt(x - y) * 3.0)
    fn = sg.compile(G, backend="python", optimize=False)
    assert len(_statements(fn.source)) == 1     # the division and the sqrt are fused
    for values in ({"x": 1.0, "y": 0.0}, {"x": 0.0, "y": 0.0}, {"x": 1.0, "y": 4.0},
                   {"x": 3.0, "y": 2.0}):
        assert_same(fn(values)[0], sg.evaluate(G, values)[0], values)


def test_parts_pass_values_through_R_and_stay_bit_identical(monkeypatch):
    monkeypatch.setattr(python_backend, "PART", 40)
    rng = np.random.default_rng(3)
    G = _random_scalar_graph(rng)
    B = sg.gradients(sg.Graph(sg.sum(sg.stack(list(G.outputs))), inputs=G.inputs),
                     [v.name for v in G.inputs])
    fn = sg.compile(B, backend="python", optimize=False)
    assert fn.source.count("def _part") > 3 and "= R[" in fn.source
    for _ in range(8):
        values = {name: float(v) for name, v in zip(("x0", "x1", "x2"), rng.uniform(-3, 3, 3))}
        for g, e in zip(fn(values), sg.evaluate(B, values)):
            assert_same(g, e, values)


def test_user_ops_run_and_only_plain_parameters_become_source(code_path):
    op = sg.define_op(f"scaled_in_python_{code_path}", infer=lambda x, *, k: (x.shape, x.dtype),
                      forward=lambda x, *, k: x * k, bprop=(lambda g, out, x, *, k: g * k,))
    x = sg.var("x")
    assert float(sg.compile(sg.Graph(op(x, k=2.5)), backend="python")(x=2.0)[0]) == 5.0

    class Sneaky:                   # a parameter whose repr is code must never be written out
        def __repr__(self):
            return "__import__('os').getcwd()"

        def __hash__(self):
            return 1

        def __eq__(self, other):
            return isinstance(other, Sneaky)

    with pytest.raises(sg.BackendError, match="literal"):
        sg.compile(sg.Graph(op(x, k=Sneaky())), backend="python")


def _chain(n: int) -> sg.Graph:
    x = sg.var("x")
    node = x
    for i in range(n):
        node = sg.sin(node) * 0.5 + x if i % 3 else sg.exp(node * 1e-3) - x
    return sg.Graph([node, node * x])


def test_compiled_code_is_cached_on_disk_and_a_damaged_cache_file_is_rewritten(
        monkeypatch, tmp_path):
    monkeypatch.setenv("SYMGRAD_CACHE", str(tmp_path))
    monkeypatch.setattr(python_backend, "CACHE_MIN", 0)
    monkeypatch.setattr(python_backend, "ASSEMBLE", False)   # assembled code is not cached
    G = _chain(300)
    expected = sg.evaluate(G, {"x": 0.3})
    calls = []
    real_compile = python_backend.builtins.compile

    def counting_compile(source, filename, *args, **kwargs):
        calls.append(filename)
        return real_compile(source, filename, *args, **kwargs)
    monkeypatch.setattr(python_backend.builtins, "compile", counting_compile)

    def compile_and_check():
        fn = sg.compile(G, backend="python", optimize=False)
        for g, e in zip(fn(x=0.3), expected):
            assert_same(g, e)
        return calls.count(python_backend._FILENAME)

    assert compile_and_check() == 1
    (cached,) = tmp_path.glob("sg_*.pycode")
    good = cached.read_bytes()
    assert compile_and_check() == 1                  # the code object came from the file
    for damage in (b"", b"garbage", good[:len(good) // 2], good[:40] + b"x" + good[41:],
                   good[:32] + good[32:].replace(b"sin", b"cos"),
                   hashlib.sha256(marshal.dumps(1.5)).digest() + marshal.dumps(1.5)):
        cached.write_bytes(damage)
        before = calls.count(python_backend._FILENAME)
        assert compile_and_check() == before + 1     # ignored, compiled and written again
        assert cached.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == [cached.name]   # no temporary left over


def test_an_unwritable_cache_folder_only_costs_the_compile(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SYMGRAD_CACHE", str(blocker / "cache"))
    monkeypatch.setattr(python_backend, "CACHE_MIN", 0)
    G = _chain(30)
    assert_same(sg.compile(G, backend="python")(x=0.3)[0], sg.evaluate(G, {"x": 0.3})[0])


def test_compile_leaves_the_cycle_collector_as_it_found_it(monkeypatch):
    import gc
    G = _chain(10)
    assert gc.isenabled()
    sg.compile(G, backend="python")
    assert gc.isenabled()
    gc.disable()
    try:
        sg.compile(G, backend="python")
        assert not gc.isenabled()
    finally:
        gc.enable()

    def failing(self, schedule):
        raise sg.BackendError("failed while the collector is off")
    monkeypatch.setattr(python_backend.PythonProgram, "__init__", failing)
    with pytest.raises(sg.BackendError, match="collector is off"):
        sg.compile(G, backend="python")
    assert gc.isenabled()


def test_params_python_calls_equal_keep_their_own_form(code_path):
    x = sg.var("x")
    G = sg.Graph([sg.heaviside(x, at0=0.0), sg.heaviside(x, at0=-0.0) * x,
                  sg.heaviside(x, at0=-0.0), x, sg.const(2.0)])     # outputs read by no step
    fn = sg.compile(G, backend="python", optimize=False)
    assert (fn._source is None) == (code_path == "assembled")
    for value in (0.0, -0.0, 1.5):
        for g, e in zip(fn(x=value), sg.evaluate(G, {"x": value})):
            assert_same(g, e, value)
    assert np.signbit(fn(x=0.0)[2]) and not np.signbit(fn(x=0.0)[0])


def _free_list_locals(reads, arity, kept) -> tuple:
    """``_reused_locals`` the plain way: a list of free locals, one step at a time."""
    last = {value: j for j, value in enumerate(reads)}
    local, free, start = [], [], 0
    for step, count in enumerate(arity):
        for j in range(start, start + count):
            value = reads[j]
            if value >= 0 and last[value] == j and value not in kept:
                free.append(local[value])
        start += count
        local.append(free.pop() if free else len(set(local)))
    return local, len(set(local))


@pytest.mark.parametrize("seed", range(4))
def test_values_take_the_local_freed_last_as_a_free_list_gives_it(seed):
    rng = np.random.default_rng(seed)
    steps = 400
    arity = rng.integers(0, 4, steps)
    # each step reads earlier values, near or far, sometimes twice, or values held elsewhere
    reads = np.array([max(step - rng.integers(1, rng.choice([2, 3, 30, 400])), -1)
                      for step, count in enumerate(arity) for _ in range(count)], dtype=np.intp)
    kept = [steps - 1, 5, 17]
    local, count = python_backend._reused_locals(reads, arity, kept)
    assert (local.tolist(), count) == _free_list_locals(reads.tolist(), arity, kept)
    assert count < steps / 2                                 # reused
