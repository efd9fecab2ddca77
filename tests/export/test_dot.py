"""Pictures: DOT text parsed back with pydot, matplotlib drawings made without a display."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pydot  # noqa: E402
import pytest  # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad.export.dot import STYLES, layered_positions, render  # noqa: E402

X, Y, Z = sg.var("x"), sg.var("y"), sg.var("z")


def parsed(graph):
    found = pydot.graph_from_dot_data(sg.to_dot(graph))
    assert found is not None and len(found) == 1
    dot = found[0]
    every = dot.get_nodes() + [n for sub in dot.get_subgraphs() for n in sub.get_nodes()]
    nodes = {n.get_name(): n for n in every if re.fullmatch(r"n\d+", n.get_name())}
    return dot, nodes


def test_dot_parses_with_one_vertex_per_node_and_one_edge_per_input():
    G = sg.Graph((X + Y) * sg.maximum(Y, Z) + 2.5)
    dot, nodes = parsed(G)
    assert len(nodes) == len(G)
    assert len(dot.get_edges()) == sum(len(node.inputs) for node in G.nodes)


def test_kinds_are_styled_apart_and_b_nodes_are_marked():
    G = sg.Graph(X * sg.sin(X) + 3.0)
    B = sg.gradients(G, ["x"])
    _, nodes = parsed(B)
    fill = {name: node.get("fillcolor").strip('"') for name, node in nodes.items()}
    index = {node: f"n{i}" for i, node in enumerate(B.nodes)}
    assert fill[index[X]] == STYLES["input"][0]
    assert fill[index[G.outputs[0]]] == STYLES["op"][0]
    appended = [n for n in B.nodes if n not in set(G.nodes) and not n.is_const]
    assert appended and all(fill[index[n]] == STYLES["grad"][0] for n in appended)
    consts = [n for n in B.nodes if n.is_const]
    assert consts and all(fill[index[n]] == STYLES["const"][0] for n in consts)
    # the outputs of B (the gradient) and of G are drawn with a double border
    assert nodes[index[B.outputs[0]]].get("peripheries") == "2"
    assert nodes[index[G.outputs[0]]].get("peripheries") == "2"
    assert nodes[index[X]].get("peripheries") is None


def test_labels_show_op_and_shape():
    W, v = sg.var("W", shape=(2, 3)), sg.var("v", shape=(3,))
    G = sg.Graph(sg.tanh(sg.reshape(W, (3, 2))))
    _, nodes = parsed(G)
    labels = [node.get("label").strip('"') for node in nodes.values()]
    assert "%0 W\\n[2, 3]" in labels
    assert "%2 tanh\\n[3, 2]" in labels
    assert "%1 reshape\\nshape=(3, 2)\\n[3, 2]" in labels
    assert v not in G.nodes


def test_to_dot_rejects_a_node():
    with pytest.raises(sg.SymgradError, match="wrap nodes"):
        sg.to_dot(X)


def test_layout_puts_every_node_right_of_its_inputs():
    B = sg.gradients((X + Y) * sg.maximum(Y, Z), ["x", "y", "z"])
    positions = layered_positions(B)
    for i, node in enumerate(B.nodes):
        for parent in node.inputs:
            assert positions[B.index(parent)][0] < positions[i][0]


def test_draw_makes_a_png_without_a_display(tmp_path):
    B = sg.gradients(sg.Graph(X * sg.exp(Y)), ["x", "y"])
    fig, ax = plt.subplots()
    assert sg.draw(B, ax=ax) is ax
    assert ax.get_title() == f"B ({len(B)} nodes)"
    path = tmp_path / "b.png"
    fig.savefig(path)
    plt.close(fig)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_writes_png_and_svg(tmp_path):
    G = sg.Graph(sg.sigmoid(X * Y))
    png, svg = tmp_path / "g.png", tmp_path / "g.svg"
    assert render(G, str(png), engine="matplotlib") == "matplotlib"
    assert png.read_bytes()[:4] == b"\x89PNG"
    render(G, str(svg))
    assert b"<svg" in svg.read_bytes()[:2000]
    with pytest.raises(sg.SymgradError, match="must end in"):
        render(G, str(tmp_path / "g.gif"))


def test_long_chain_to_dot_and_layout():
    node = X
    for _ in range(100_000):
        node = sg.sin(node)
    G = sg.Graph(node)
    text = sg.to_dot(G)
    assert text.count("->") == 100_000
    assert layered_positions(G)[len(G) - 1] == (100_000.0, 0.0)
