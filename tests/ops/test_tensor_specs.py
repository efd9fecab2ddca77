"""Checks over TENSOR_SPECS: values vs numpy (float64 and float32), derivatives of order 1..3
vs central differences, the sympy export vs numpy; and the ops' own edge cases (repeated
indices, out-of-range indices, singular matrices, bad subscripts)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.ir import REGISTRY, toposort
from symgrad.ops import gather, linalg, products
from tests.helpers.gradcheck import check_gradients
from tests.ops.tensor_specs import TENSOR_SPECS


def ids(spec):
    return spec.name


def _rng(spec, salt=0):
    return np.random.default_rng([zlib.crc32(spec.name.encode()), salt])


@pytest.mark.parametrize("spec", TENSOR_SPECS, ids=ids)
def test_forward_matches_numpy(spec):
    inputs = spec.inputs()
    out = spec.build(*inputs)
    values = spec.sample(_rng(spec))
    got = sg.evaluate(sg.Graph(out, inputs), values)[0]
    expected = spec.reference(*values.values())
    assert got.shape == np.shape(expected) == out.shape
    assert got.dtype == np.dtype(out.dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("spec", [s for s in TENSOR_SPECS if s.order >= 1], ids=ids)
def test_derivatives_match_central_differences(spec):
    """Order k: the gradient of a random projection of the order k-1 derivative."""
    inputs = spec.inputs()
    names = spec.differentiable()
    rng = _rng(spec, 1)
    values = spec.sample(rng)
    out = spec.build(*inputs)
    scalar = sg.sum(sg.sin(out) * sg.const(rng.uniform(0.5, 1.5, out.shape)))
    for _ in range(spec.order):
        check_gradients(sg.Graph(scalar, inputs), values, wrt=names, rtol=spec.rtol, atol=1e-6)
        grads = sg.gradients(sg.Graph(scalar, inputs), names).outputs
        scalar = sum(sg.sum(g * sg.const(rng.standard_normal(g.shape))) for g in grads)


@pytest.mark.parametrize("spec", [s for s in TENSOR_SPECS if s.order >= 1], ids=ids)
def test_jvp_matches_central_differences(spec):
    inputs = spec.inputs()
    names = spec.differentiable()
    rng = _rng(spec, 4)
    values = spec.sample(rng)
    tangents = [rng.standard_normal(values[name].shape) for name in names]
    graph = sg.Graph(spec.build(*inputs), inputs)
    got = sg.evaluate(sg.jvp(graph, names, tangents), values)[0]
    fn, h = sg.compile(graph), 1e-6
    shifted = [fn({**values, **{n: values[n] + s * h * t for n, t in zip(names, tangents)}})[0]
               for s in (1, -1)]
    np.testing.assert_allclose(got, (shifted[0] - shifted[1]) / (2 * h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spec", [s for s in TENSOR_SPECS if s.order >= 1], ids=ids)
def test_float32_stays_float32(spec):
    inputs = spec.inputs("float32")
    out = spec.build(*inputs)
    assert out.dtype == "float32"
    values = spec.sample(_rng(spec, 2))
    B = sg.gradients(sg.Graph(sg.sum(out * out), inputs), spec.differentiable())
    assert all(n.dtype != "float64" for n in B.nodes), "float64 nodes in a float32 gradient"
    got = sg.evaluate(B, values)
    assert all(g.dtype == np.float32 for g in got)
    inputs64 = spec.inputs()
    out64 = spec.build(*inputs64)
    B64 = sg.gradients(sg.Graph(sg.sum(out64 * out64), inputs64), spec.differentiable())
    for g32, g64 in zip(got, sg.evaluate(B64, values)):
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("spec", [s for s in TENSOR_SPECS if s.sympy], ids=ids)
def test_sympy_export_matches_numpy(spec):
    inputs = spec.inputs()
    out = spec.build(*inputs)
    values = spec.sample(_rng(spec, 3))
    expr = sympy.Array(sg.to_sympy(sg.Graph(out, inputs))[0])
    subs = {}
    for name, value in values.items():
        value = np.asarray(value)
        for index in np.ndindex(value.shape):
            subs[sympy.Symbol("_".join([name, *map(str, index)]) if index else name)] = \
                sympy.Integer(int(value[index])) if value.dtype.kind == "i" else value[index]
    got = np.array(sympy.Array(expr).subs(subs).tolist() if expr.shape else expr.subs(subs),
                   dtype=float).reshape(out.shape)
    np.testing.assert_allclose(got, spec.reference(*values.values()), rtol=1e-9, atol=1e-12)


def test_every_new_op_is_covered_by_a_spec_row():
    covered = set()
    for spec in TENSOR_SPECS:
        graph = sg.Graph(spec.build(*spec.inputs()))
        covered |= {n.op.name for n in toposort(graph.outputs)}
        if spec.order:
            covered |= {n.op.name for n in sg.gradients(graph if not graph.outputs[0].shape else
                                                        sg.Graph(sg.sum(graph.outputs[0])),
                                                        spec.differentiable()).nodes}
    for module in (gather, products, linalg):
        for op in module.OPS:
            assert op.name in covered, f"no TENSOR_SPECS row exercises {op.name}"
    for name in ("take", "einsum", "tensordot", "outer", "trace", "diag", "diagonal", "tril",
                 "triu", "inv", "det", "slogdet", "solve", "cholesky"):
        assert name in REGISTRY.functions


# -- gather ---------------------------------------------------------------------------------------
def test_embedding_gradient_adds_repeated_ids_like_np_add_at():
    E = sg.var("E", (4, 2))
    ids = sg.var("ids", (5,), dtype="int64")
    G = np.arange(10.0).reshape(5, 2)
    values = {"E": np.ones((4, 2)), "ids": np.array([1, 3, 1, -1, 0])}
    got = sg.evaluate(sg.gradients(E[ids], [E], grad_output=G), values)[0]
    expected = np.zeros((4, 2))
    np.add.at(expected, values["ids"], G)
    np.testing.assert_array_equal(got, expected)
    assert got[3].tolist() == (G[1] + G[3]).tolist()


def test_scatter_add_differentiates_back_to_take():
    E = sg.var("E", (4, 2))
    ids = sg.const([2, 2, 0])
    grad = sg.gradients(sg.sum(E[ids] ** 3), [E]).outputs[0]
    H = sg.gradients(sg.sum(grad), [E])
    assert "take" in {n.op.name for n in H.nodes}
    e = np.random.default_rng(0).standard_normal((4, 2))
    expected = np.zeros((4, 2))
    expected[2] = 2 * 6 * e[2]
    expected[0] = 6 * e[0]
    np.testing.assert_allclose(sg.evaluate(H, {"E": e})[0], expected, rtol=1e-12)


def test_out_of_range_index_raises_input_error_at_evaluation():
    E = sg.var("E", (4, 2))
    ids = sg.var("ids", (2,), dtype="int64")
    with pytest.raises(sg.InputError, match="index 4 is out of range"):
        sg.evaluate(E[ids], {"E": np.zeros((4, 2)), "ids": [0, 4]})
    with pytest.raises(sg.InputError, match="out of range"):
        sg.evaluate(sg.gradients(sg.sum(E[ids]), [E]), {"E": np.zeros((4, 2)), "ids": [-5, 0]})


@pytest.mark.parametrize("bad, message", [
    (lambda E: E[sg.var("f", (2,))], "int64"),
    (lambda E: E[[0, 1], [1, 0]], "one array"),
    (lambda E: E[1, [0, 1]], "only with slices"),
    (lambda E: E[np.array([True, False, True, True])], "integers"),
    (lambda E: sg.take(E, [0], axis=2), "out of range"),
])
def test_bad_gathers_raise_shape_errors(bad, message):
    with pytest.raises(sg.ShapeError, match=message):
        bad(sg.var("E", (4, 2)))


# -- einsum ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("subscripts, shapes, message", [
    ("ij,jk", [(2, 3), (4, 5)], "sizes"),
    ("ij", [(2, 3), (3,)], "2 were given"),
    ("ij->ii", [(2, 2)], "repeat"),
    ("ij->k", [(2, 2)], "appear in no operand"),
    ("...i->i", [(2, 3)], "needs '...'"),
    ("i$", [(2, 3)], "invalid"),
    ("ijk", [(2, 3)], "does not fit"),
])
def test_bad_einsum_subscripts_raise_shape_errors(subscripts, shapes, message):
    operands = [sg.var(f"x{k}", s) for k, s in enumerate(shapes)]
    with pytest.raises(sg.ShapeError, match=message):
        sg.einsum(subscripts, *operands)
    with pytest.raises(ValueError):                # numpy refuses them too
        np.einsum(subscripts, *[np.ones(s) for s in shapes])


def test_einsum_bprop_of_a_diagonal_is_an_einsum_with_the_identity():
    A = sg.var("A", (3, 3))
    B = sg.gradients(sg.einsum("ii->i", A), [A], grad_output=np.array([1.0, 2.0, 3.0]))
    assert {n.op.name for n in B.nodes} >= {"einsum"}
    np.testing.assert_array_equal(sg.evaluate(B, {"A": np.zeros((3, 3))})[0],
                                  np.diag([1.0, 2.0, 3.0]))


# -- linear algebra -------------------------------------------------------------------------------
def test_singular_matrices_raise_input_error_or_give_documented_values():
    A = sg.var("A", (2, 2))
    singular = {"A": np.array([[1.0, 2.0], [2.0, 4.0]])}
    for node in (sg.linalg.inv(A), sg.linalg.solve(A, np.ones(2))):
        with pytest.raises(sg.InputError, match="singular matrix"):
            sg.evaluate(node, singular)
    sign, logdet = sg.linalg.slogdet(A)
    assert [v.item() for v in sg.evaluate(sg.Graph([sg.linalg.det(A), sign, logdet]),
                                          singular)] == [0.0, 0.0, -np.inf]
    with pytest.raises(sg.InputError, match="singular matrix"):
        sg.evaluate(sg.gradients(sg.linalg.det(A), [A]), singular)
    with pytest.raises(sg.InputError, match="not positive definite"):
        sg.evaluate(sg.linalg.cholesky(A), {"A": -np.eye(2)})


def test_solve_gradient_uses_solves_not_inverses():
    A, b = sg.var("A", (3, 3)), sg.var("b", (3,))
    B = sg.gradients(sg.sum(sg.linalg.solve(A, b) ** 2), [A, b])
    names = {n.op.name for n in B.nodes}
    assert "solve" in names and "inv" not in names


def test_slogdet_is_free_of_overflow_and_sign_has_no_gradient():
    A = sg.var("A", (2, 2))
    sign, logdet = sg.linalg.slogdet(A)
    big = {"A": np.array([[0.0, 1e200], [1e200, 0.0]])}
    s, log_abs = sg.evaluate(sg.Graph([sign, logdet]), big)
    assert s == -1.0 and log_abs == pytest.approx(2 * 200 * np.log(10))
    with pytest.raises(sg.GradientError, match="does not depend"):
        sg.gradients(sign, [A], disconnected="raise")


@pytest.mark.parametrize("builder, shape", [(sg.linalg.inv, (2, 3)), (sg.linalg.det, (3,)),
                                            (sg.linalg.cholesky, (3, 2))])
def test_linalg_needs_square_matrices(builder, shape):
    with pytest.raises(sg.ShapeError, match="square"):
        builder(sg.var("A", shape))


def test_linalg_is_a_namespace_of_registry_functions():
    for name in sg.linalg.__all__:
        assert getattr(sg.linalg, name) is REGISTRY.functions[name]


# -- shape functions ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, message", [
    (lambda x: sg.squeeze(x, 1), "has size 3, not 1"),
    (lambda x: sg.split(x, 4, axis=1), "cannot be split into 4"),
    (lambda x: sg.pad(x, ((1, 2), (3,), (4, 5))), "does not fit"),
    (lambda x: sg.pad(x, -1), "non-negative"),
    (lambda x: sg.pad(x, 1, constant_values=(1, 2)), "one number"),
    (lambda x: sg.repeat(x, [1, 2], axis=1), "do not fit"),
    (lambda x: sg.tile(x, (-1,)), "non-negative"),
    (lambda x: sg.moveaxis(x, (0, 1), 0), "differ in length"),
    (lambda x: sg.expand_dims(x, 4), "out of range"),
])
def test_bad_shape_calls_raise_shape_errors(bad, message):
    with pytest.raises(sg.ShapeError, match=message):
        bad(sg.var("x", (1, 3)))


def test_split_returns_a_list_of_nodes_whose_gradients_reassemble():
    x = sg.var("x", (5,))
    parts = sg.split(x, [2, -1])
    assert [p.shape for p in parts] == [(2,), (2,), (1,)]
    f = sum(sg.sum(p) * (k + 1) for k, p in enumerate(parts))
    np.testing.assert_array_equal(sg.evaluate(sg.gradients(f, [x]), {"x": np.zeros(5)})[0],
                                  [1, 1, 2, 2, 3])


# -- parsed text ----------------------------------------------------------------------------------
def test_parser_gathers_with_int64_inputs_and_int_lists():
    G = sg.parse("sum(E[ids] ** 2) + sum(E[:, [1, 1]])", shapes={"E": (4, 2), "ids": (3,)},
                 dtypes={"ids": "int64"})
    E = np.arange(8.0).reshape(4, 2)
    expected = (E[[0, 3, 3]] ** 2).sum() + E[:, [1, 1]].sum()
    assert sg.evaluate(G, {"E": E, "ids": [0, 3, -1]})[0] == expected
    with pytest.raises(sg.ParseError, match="declare index inputs"):
        sg.parse("E[f]", shapes={"E": (4, 2)})


def test_parser_takes_string_subscripts_and_indexes_returned_sequences():
    shapes = {"A": (2, 2), "B": (2, 3), "x": (4,)}
    G = sg.parse("p = split(x, 2)\n"
                 "einsum('ij,jk->k', A, B)[1] + slogdet(A)[1] + sum(p[0] * p[-1]) + det(A)",
                 shapes=shapes)
    values = {"A": np.array([[2.0, 1.0], [0.0, 3.0]]), "B": np.ones((2, 3)),
              "x": np.array([1.0, 2.0, 3.0, 4.0])}
    expected = (values["A"] @ values["B"]).sum(0)[1] + np.log(6.0) + (1 * 3 + 2 * 4) + 6.0
    np.testing.assert_allclose(sg.evaluate(G, values)[0], expected, rtol=1e-12)


def test_parser_accepts_the_linalg_prefix():
    G = sg.parse("linalg.inv(A)[0, 0] + linalg.slogdet(A)[1] + det(A)", shapes={"A": (2, 2)})
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    expected = np.linalg.inv(A)[0, 0] + np.log(5.0) + 5.0
    np.testing.assert_allclose(sg.evaluate(G, {"A": A})[0], expected, rtol=1e-12)
    assert [v.name for v in sg.parse("linalg.T * 2").inputs] == ["linalg"]   # still a name


@pytest.mark.parametrize("text, message", [
    ("linalg.sin(x)", "linalg has inv, det"),
    ("split(x, 2)", "not a list"), ("slogdet(A)", "not a tuple"),
    ("split(x, 2)[2]", "returned 2 values"), ("'ij' * x", "cannot be applied to the string"),
    ("einsum('i, x)", "never closed"),
])
def test_parser_errors_for_sequences_and_strings(text, message):
    with pytest.raises(sg.ParseError, match=message):
        sg.parse(text, shapes={"x": (4,), "A": (2, 2)})


def test_ill_conditioned_matrices_are_not_detected_and_stay_finite():
    A = sg.var("A", (2, 2))
    nearly = {"A": np.array([[1.0, 1.0], [1.0, 1.0 + 1e-13]])}
    inverse = sg.evaluate(sg.linalg.inv(A), nearly)[0]
    assert np.isfinite(inverse).all() and np.abs(inverse).max() > 1e12
    np.testing.assert_allclose(inverse @ nearly["A"], np.eye(2), atol=1e-2)


def test_batched_gather_uses_each_batch_points_own_indices():
    E = sg.var("E", (4, 3))
    ids = sg.var("ids", (2, 2), dtype="int64")
    out = sg.take(E, ids, axis=1)
    G = sg.Graph([out, sg.gradients(sg.sum(out ** 2), [E]).outputs[0]])
    rng = np.random.default_rng(5)
    values = {"E": rng.standard_normal((2, 3, 4, 3)), "ids": rng.integers(-3, 3, (2, 3, 2, 2))}
    batched = sg.evaluate(G, values, batched=True)
    for index in np.ndindex(2, 3):
        point = sg.evaluate(G, {k: v[index] for k, v in values.items()})
        for got, want in zip(batched, point):
            np.testing.assert_array_equal(got[index], want)


@st.composite
def einsum_cases(draw):
    """Random numpy-valid subscripts over letters a-d (repeats, sums, implicit outputs)."""
    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    terms = [draw(st.text("abcd", min_size=0, max_size=3))
             for _ in range(draw(st.integers(1, 3)))]
    used = sorted(set("".join(terms)))
    if draw(st.booleans()):
        output = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
        subscripts = ",".join(terms) + "->" + output
    else:
        subscripts = ",".join(terms)
    return subscripts, [tuple(sizes[c] for c in t) for t in terms]


@settings(max_examples=25, deadline=None)
@given(einsum_cases())
def test_random_einsums_match_numpy_and_central_differences(case):
    subscripts, shapes = case
    inputs = [sg.var(f"x{k}", shape) for k, shape in enumerate(shapes)]
    rng = np.random.default_rng(0)
    values = {v.name: rng.standard_normal(v.shape) for v in inputs}
    out = sg.einsum(subscripts, *inputs)
    expected = np.einsum(subscripts, *values.values())
    np.testing.assert_allclose(sg.evaluate(sg.Graph(out, inputs), values)[0], expected,
                               rtol=1e-10, atol=1e-12)
    check_gradients(sg.Graph(sg.sum(sg.sin(out)), inputs), values, atol=1e-6)
