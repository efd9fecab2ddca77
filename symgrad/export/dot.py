"""Pictures of graphs: DOT text (to_dot), matplotlib drawings (draw) and image files (render)."""

from __future__ import annotations

import os
import shutil
import subprocess

from ..errors import SymgradError
from ..ir import Graph
from ..ir.printing import node_label

# kind -> (fill colour, DOT node shape, legend text)
STYLES = {
    "input": ("#bcd9f5", "ellipse", "input"),
    "const": ("#e8e8e8", "box", "constant"),
    "op": ("#fff2b3", "box", "op of G"),
    "grad": ("#f7c3a3", "box", "op appended by gradients (B)"),
}
PICTURE_FORMATS = ("png", "svg", "pdf")


def node_kinds(graph: Graph) -> list:
    """The kind of each node of ``graph.nodes``: input, const, op, or grad (appended by
    ``gradients``, i.e. in B but not in the graph B was built from)."""
    forward = set(graph.forward.nodes) if graph.forward is not None else None
    kinds = []
    for node in graph.nodes:
        if node.is_input:
            kinds.append("input")
        elif node.is_const:
            kinds.append("const")
        elif forward is not None and node not in forward:
            kinds.append("grad")
        else:
            kinds.append("op")
    return kinds


def output_nodes(graph: Graph) -> set:
    """The outputs of ``graph`` and, for a derivative graph B, the outputs of its G."""
    marked = set(graph.outputs)
    if graph.forward is not None:
        marked.update(graph.forward.outputs)
    return marked


def picture_label(node) -> str:
    """Two-line label: the op (or input name, or constant) and the static shape."""
    shape = "scalar" if node.shape == () else str(list(node.shape))
    if node.is_input or node.is_const:
        text = node_label(node)
    else:  # the op, then each param on its own line
        text = "\n".join([node.op.name, *(f"{k}={v!r}" for k, v in node.params)])
    return f"{text}\n{shape}"


def to_dot(graph: Graph, title: str | None = None) -> str:
    """DOT text of ``graph`` (left to right): inputs, constants, ops and outputs styled apart;
    nodes appended by ``gradients`` (B's nodes) in their own colour; labels show op and shape.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> text = sg.to_dot(sg.gradients(sg.sin(x) * x, ["x"]))
    >>> text.splitlines()[0], "cos" in text
    ('digraph symgrad {', True)
    """
    if not isinstance(graph, Graph):
        raise SymgradError(f"to_dot: expected a Graph, got {type(graph).__name__}; wrap nodes "
                           f"with sg.Graph(...)")
    outputs = output_nodes(graph)
    lines = ["digraph symgrad {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10, style=filled];',
             '  edge [color="#555555", arrowsize=0.6];']
    if title:
        lines.append(f'  label="{_escape(title)}"; labelloc=t;')
    for i, (node, kind) in enumerate(zip(graph.nodes, node_kinds(graph))):
        fill, shape, _ = STYLES[kind]
        attrs = [f'label="{_escape(picture_label(node))}"', f'shape={shape}',
                 f'fillcolor="{fill}"']
        if kind == "const":
            attrs.append("fontsize=8")
        if node in outputs:
            attrs += ["peripheries=2", "penwidth=1.6"]
        lines.append(f"  n{i} [{', '.join(attrs)}];")
    index = {node: i for i, node in enumerate(graph.nodes)}
    for i, node in enumerate(graph.nodes):
        for parent in node.inputs:
            lines.append(f"  n{index[parent]} -> n{i};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def layered_positions(graph: Graph) -> dict:
    """Node index -> (x, y): x is the topological depth (longest path from a leaf), nodes of
    one depth spread evenly around y = 0. Iterative, linear in the graph size."""
    depth = {}
    for node in graph.nodes:
        depth[node] = 1 + max((depth[p] for p in node.inputs), default=-1)
    layers: dict = {}
    for i, node in enumerate(graph.nodes):
        layers.setdefault(depth[node], []).append(i)
    positions = {}
    for x, members in layers.items():
        top = (len(members) - 1) / 2
        for rank, i in enumerate(members):
            positions[i] = (float(x), top - rank)
    return positions


def draw(graph: Graph, ax=None):
    """Draw ``graph`` with matplotlib through networkx, left to right by topological depth.

    Colours as in ``to_dot``; outputs get a thick border. Needs matplotlib (the ``viz``
    extra). Returns the matplotlib Axes.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> ax = sg.draw(sg.gradients(x * x, ["x"]))
    >>> ax.get_title()
    'B (3 nodes)'
    """
    if not isinstance(graph, Graph):
        raise SymgradError(f"draw: expected a Graph, got {type(graph).__name__}; wrap nodes "
                           f"with sg.Graph(...)")
    try:
        from matplotlib.patches import Patch
    except ImportError:
        raise SymgradError("draw needs matplotlib; install it with "
                           "python -m pip install 'symgrad[viz]'") from None
    import networkx as nx

    positions = layered_positions(graph)
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figure_size(positions))
    dg = graph.to_networkx()
    kinds = node_kinds(graph)
    marked = output_nodes(graph)
    outputs = [i for i, node in enumerate(graph.nodes) if node in marked]
    size = 1600 if len(graph) <= 40 else 500
    for kind, (fill, shape, _) in STYLES.items():
        members = [i for i, k in enumerate(kinds) if k == kind]
        if members:
            nx.draw_networkx_nodes(dg, positions, nodelist=members, node_color=fill,
                                   node_shape="o" if shape == "ellipse" else "s",
                                   node_size=size, edgecolors="#444444", ax=ax)
    nx.draw_networkx_nodes(dg, positions, nodelist=outputs, node_color="none", node_shape="s",
                           node_size=size * 1.5, edgecolors="#222222", linewidths=2.0, ax=ax)
    nx.draw_networkx_edges(dg, positions, ax=ax, arrows=True, arrowsize=10,
                           edge_color="#666666", node_size=size)
    labels = {i: picture_label(node) for i, node in enumerate(graph.nodes)}
    nx.draw_networkx_labels(dg, positions, labels, font_size=7 if len(graph) <= 40 else 5,
                            ax=ax)
    used = sorted(set(kinds), key=list(STYLES).index)
    ax.legend(handles=[Patch(facecolor=STYLES[k][0], edgecolor="#444444", label=STYLES[k][2])
                       for k in used], loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncol=len(used), fontsize=8, frameon=False)
    ax.set_title(f"{'B' if graph.forward is not None else 'G'} ({len(graph)} nodes)")
    ax.margins(0.12)
    ax.set_axis_off()
    return ax


def figure_size(positions: dict) -> tuple:
    """Inches (width, height) for a layered layout, capped at 40."""
    width = max(x for x, _ in positions.values()) + 1
    height = max(abs(y) for _, y in positions.values()) * 2 + 1
    return min(2 + 1.6 * width, 40), min(1.5 + 0.9 * height, 40)


def render(graph: Graph, path: str, engine: str = "auto") -> str:
    """Write a picture of ``graph`` to ``path`` (.png, .svg or .pdf) and return the engine
    used: Graphviz's ``dot`` when it is installed (or ``engine="dot"``), else matplotlib.

    >>> import os, tempfile, symgrad as sg
    >>> path = os.path.join(tempfile.mkdtemp(), "g.svg")
    >>> sg.render(sg.Graph(sg.var("x") * 2), path) in ("dot", "matplotlib"), os.path.exists(path)
    (True, True)
    """
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in PICTURE_FORMATS:
        raise SymgradError(f"cannot write a picture to {path!r}: the name must end in "
                           f"{', '.join('.' + f for f in PICTURE_FORMATS)}")
    if engine not in ("auto", "dot", "matplotlib"):
        raise SymgradError(f"render: engine must be 'auto', 'dot' or 'matplotlib', got {engine!r}")
    dot = shutil.which("dot")
    if engine == "dot" and dot is None:
        raise SymgradError("render: Graphviz's dot executable is not installed (install "
                           "graphviz, or use engine='matplotlib')")
    if dot is not None and engine != "matplotlib":
        done = subprocess.run([dot, f"-T{fmt}", "-o", path], input=to_dot(graph), text=True,
                              capture_output=True, check=False)
        if done.returncode != 0:
            raise SymgradError(f"render: dot failed: {done.stderr.strip()}")
        return "dot"
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise SymgradError("writing a picture needs Graphviz's dot or matplotlib; install "
                           "one (python -m pip install 'symgrad[viz]')") from None
    figure = Figure(figsize=figure_size(layered_positions(graph)))
    FigureCanvasAgg(figure)
    draw(graph, ax=figure.add_subplot())
    figure.savefig(path, format=fmt, bbox_inches="tight")
    return "matplotlib"
