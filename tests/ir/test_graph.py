"""Graph: input order, explicit inputs, G[i], len, the deterministic listing and to_networkx."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symgrad as sg

x, y, z = sg.var("x"), sg.var("y"), sg.var("z")


def test_inputs_in_order_of_first_appearance_left_to_right():
    assert [v.name for v in sg.Graph(y * x + z).inputs] == ["y", "x", "z"]
    assert [v.name for v in sg.Graph(sg.sin(z) + x * y).inputs] == ["z", "x", "y"]
    assert [v.name for v in sg.Graph([x * z, y + x]).inputs] == ["x", "z", "y"]
    assert [v.name for v in sg.Graph(sg.const(1.0) + y).inputs] == ["y"]
    assert sg.Graph(sg.const(2.0)).inputs == ()


def test_explicit_inputs_fix_the_order_and_may_add_unused_inputs():
    t = sg.var("t", shape=(2,))
    G = sg.Graph(y * x, inputs=["x", "y"])
    assert G.inputs == (x, y)
    G = sg.Graph(y * x, inputs=[t, x, y])
    assert G.inputs == (t, x, y)
    out = sg.evaluate(G, {"t": np.zeros(2), "x": 2.0, "y": 3.0})
    assert float(out[0]) == 6.0
    with pytest.raises(sg.InputError, match="miss 'y'"):
        sg.Graph(y * x, inputs=[x])
    with pytest.raises(sg.InputError, match="twice"):
        sg.Graph(y * x, inputs=[x, y, x])
    with pytest.raises(sg.InputError, match="input nodes"):
        sg.Graph(y * x, inputs=[x, y, x * y])
    with pytest.raises(sg.ShapeError, match="'x'"):
        sg.Graph(y * x, inputs=[sg.var("x", shape=(3,)), y])


def test_outputs_must_be_nodes():
    with pytest.raises(sg.SymgradError, match="sg.const"):
        sg.Graph([x, 2.0])
    with pytest.raises(sg.SymgradError):
        sg.Graph([])


def test_len_and_indexing():
    f, g = x * y, sg.sin(x)
    G = sg.Graph([f, g])
    assert len(G) == 4 and G.outputs == (f, g)
    assert len(G.nodes) == len(set(G.nodes))
    G1 = G[1]
    assert G1.outputs == (g,) and G1.inputs == G.inputs      # same inputs, one output
    assert set(G1.nodes) <= set(G.nodes)
    assert G[-1].outputs == (g,)
    with pytest.raises(sg.SymgradError, match="int index in -2..1"):
        G[2]
    with pytest.raises(TypeError):
        iter(G)


def test_nodes_are_topologically_ordered():
    G = sg.Graph(sg.exp(x * y) + sg.sin(x * y) * z)
    position = {node: i for i, node in enumerate(G.nodes)}
    for node in G.nodes:
        assert all(position[parent] < position[node] for parent in node.inputs)
    assert G.nodes[-1] is G.outputs[0]


def _depth_first_listing(roots) -> list:
    """The listing's definition, written plainly: post-order, inputs left to right, each node
    at its first visit (an explicit stack of input iterators)."""
    seen, order = set(), []
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.inputs))]
        while stack:
            node, children = stack[-1]
            child = next((c for c in children if c not in seen), None)
            if child is None:
                stack.pop()
                order.append(node)
            else:
                seen.add(child)
                stack.append((child, iter(child.inputs)))
    return order


def test_listing_is_the_depth_first_post_order_with_narrow_and_wide_nodes():
    rng = np.random.default_rng(7)
    pool = [x, y, z]
    for i in range(300):          # shared subexpressions, unary to wide (> WIDE inputs) nodes
        picks = [pool[j] for j in rng.integers(0, len(pool), size=rng.choice([1, 2, 3, 12]))]
        node = (sg.sin(picks[0]) + i if len(picks) == 1 else picks[0] * picks[1] if
                len(picks) == 2 else sg.where(picks[0] > 0, picks[1], picks[2]) if
                len(picks) == 3 else sg.sum(sg.stack(picks)))
        pool.append(node)
    roots = pool[-1:-40:-3]
    assert list(sg.Graph(roots).nodes) == _depth_first_listing(roots)
    assert max(len(node.inputs) for node in sg.Graph(roots).nodes) == 12


def test_listing_is_readable_and_one_line_per_node():
    G = sg.Graph(sg.sin(x) * 2.0 + y)
    text = str(G)
    lines = text.splitlines()
    assert lines[0] == "graph(x: float64[], y: float64[]):"
    assert len(lines) == len(G) + 2 and lines[-1].strip() == f"return %{len(G) - 1}"
    assert "sin %0" in text and "const 2.0" in text


SCRIPT = textwrap.dedent("""
    import symgrad as sg
    names = ["q%d" % i for i in range(40)]
    xs = [sg.var(n) for n in names]
    f = xs[0]
    for i, v in enumerate(xs[1:]):
        f = sg.maximum(f, v) * sg.sin(v + i) + sg.exp(f * 0.01)
    print(str(sg.gradients(f, names[::3])))
""")


def test_listing_is_the_same_text_in_two_processes_with_different_hash_seeds():
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                              env=env, timeout=120, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and len(outputs[0].splitlines()) > 100


def test_listing_is_the_same_after_a_rebuild_in_one_process():
    def build():
        return str(sg.gradients(sg.tanh(x * y) / (1 + z * z), ["x", "z"]))
    assert build() == build()


def test_to_networkx_vertices_attributes_and_edges():
    import networkx as nx
    v = sg.var("v", shape=(3,), dtype="float32")
    f = sg.sin(v) * x + v * v
    G = sg.Graph(f)
    dg = G.to_networkx()
    assert isinstance(dg, nx.DiGraph) and dg.number_of_nodes() == len(G)
    for _, attrs in dg.nodes(data=True):
        assert {"op", "shape", "dtype"} <= set(attrs)
    # the expected graph, written from the node list: one vertex per node, parent -> child
    expected = nx.DiGraph()
    for i, node in enumerate(G.nodes):
        expected.add_node(i, op=node.op.name, shape=tuple(node.shape), dtype=node.dtype)
    index = {node: i for i, node in enumerate(G.nodes)}
    expected.add_edges_from((index[p], index[node]) for node in G.nodes for p in node.inputs)
    # v * v is one edge; the two float32 terms enter the float64 ops through explicit casts
    assert dg.number_of_edges() == expected.number_of_edges() == 8

    def same(a, b):
        return (a["op"], tuple(a["shape"]), a["dtype"]) == (b["op"], tuple(b["shape"]),
                                                            b["dtype"])
    assert nx.is_isomorphic(dg, expected, node_match=same)
    sinks = [k for k in dg if dg.out_degree(k) == 0]
    assert len(sinks) == 1 and dg.nodes[sinks[0]]["op"] == "add"
    assert nx.is_directed_acyclic_graph(dg)
