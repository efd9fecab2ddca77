"""Pictures of graphs: DOT text (to_dot), matplotlib drawings (draw) and image files (render)."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from collections import Counter

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
PICTURE_LIMIT = 120   # pictures of bigger graphs are summaries (chains collapsed, ops grouped)
SUMMARY_BOXES = 60    # a summary with more chains than this groups the nodes by op instead
PARAM_TEXT = 18       # characters of one parameter value shown in a label


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


def output_labels(graph: Graph, names=None) -> dict:
    """Node -> the name shown beside an output: ``names`` (one per output, e.g. ``df/dx``),
    else ``f`` for G's output and ``out[i]`` for the outputs of B or of a multi-output G."""
    labels = {}
    if graph.forward is not None:
        for k, node in enumerate(graph.forward.outputs):
            labels[node] = "f" if len(graph.forward.outputs) == 1 else f"f[{k}]"
    if names is not None and len(names) != len(graph.outputs):
        raise SymgradError(f"output_names has {len(names)} names for {len(graph.outputs)} "
                           f"outputs")
    for k, node in enumerate(graph.outputs):
        default = ("f" if len(graph.outputs) == 1 else f"out[{k}]") if graph.forward is None \
            else f"out[{k}]"
        labels[node] = names[k] if names is not None else default
    return labels


def _param_text(key: str, value) -> str:
    text = repr(value)
    return f"{key}={text if len(text) <= PARAM_TEXT else text[:PARAM_TEXT - 1] + '…'}"


def picture_label(node, number: int | None = None) -> str:
    """Label of one node: ``%number`` (its line in ``str(graph)``) and the op (or input name,
    or constant), at most two parameters (False/None ones left out, long values cut), and
    the static shape."""
    shape = "scalar" if node.shape == () else str(list(node.shape))
    head = "" if number is None else f"%{number} "
    if node.is_input or node.is_const:
        lines = [head + node_label(node)]
    else:
        shown = [(k, v) for k, v in node.params if v is not None and v is not False]
        lines = [head + node.op.name, *(_param_text(k, v) for k, v in shown[:2])]
        if len(shown) > 2:
            lines[-1] += f" +{len(shown) - 2}"
    return "\n".join(lines + [shape])


def to_dot(graph: Graph, title: str | None = None, output_names=None,
           summary: bool = False) -> str:
    """DOT text of ``graph`` (left to right): inputs, constants, ops and outputs styled apart,
    each labelled with its ``%id`` (as in ``str(graph)``), op, parameters and shape; the nodes
    appended by ``gradients`` (B's nodes) in a cluster of their own colour; outputs with a
    double border and their name (``output_names``, e.g. ``["df/dx"]``). With ``summary``
    the picture of ``summarize``: chains collapsed, or nodes grouped by op.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> text = sg.to_dot(sg.gradients(sg.sin(x) * x, ["x"]), output_names=["df/dx"])
    >>> text.splitlines()[0], "cos" in text, "df/dx" in text, "cluster_B" in text
    ('digraph symgrad {', True, True, True)
    """
    if not isinstance(graph, Graph):
        raise SymgradError(f"to_dot: expected a Graph, got {type(graph).__name__}; wrap nodes "
                           f"with sg.Graph(...)")
    names = output_labels(graph, output_names)
    boxes, edges, note = summarize(graph, names) if summary else _full(graph, names)
    lines = ["digraph symgrad {", "  rankdir=LR; newrank=true;",
             '  node [fontname="Helvetica", fontsize=10, style=filled, margin="0.08,0.04"];',
             '  edge [color="#555555", arrowsize=0.6];']
    caption = "\n".join(t for t in (title, note) if t)
    if caption:
        lines.append(f'  label="{_escape(caption)}"; labelloc=t;')
    appended = []
    for i, box in enumerate(boxes):
        fill, shape, _ = STYLES[box["kind"]]
        attrs = [f'label="{_escape(box["label"])}"', f"shape={shape}", f'fillcolor="{fill}"']
        if box["kind"] == "const":
            attrs.append("fontsize=8")
        if box.get("output"):
            attrs += ["peripheries=2", "penwidth=1.6", f'xlabel="{_escape(box["output"])}"']
        line = f"  n{i} [{', '.join(attrs)}];"
        (appended if box["kind"] == "grad" else lines).append(line)
    if appended:
        lines += ["  subgraph cluster_B {",
                  '    label="appended by gradients (B)"; style="rounded,dashed"; '
                  'color="#c0703f"; fontname="Helvetica"; fontsize=9;',
                  *("  " + line for line in appended), "  }"]
    for (a, b), count in edges.items():
        lines.append(f"  n{a} -> n{b}" + (f' [label="×{count}", fontsize=8];' if count > 1
                                           else ";"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _full(graph: Graph, names: dict) -> tuple:
    """(boxes, edges, note) with one box per node and one edge per input."""
    boxes = [{"label": picture_label(node, i), "kind": kind, "output": names.get(node)}
             for i, (node, kind) in enumerate(zip(graph.nodes, node_kinds(graph)))]
    edges: Counter = Counter()
    index = {node: i for i, node in enumerate(graph.nodes)}
    for i, node in enumerate(graph.nodes):
        for parent in node.inputs:
            edges[index[parent], i] += 1
    return boxes, edges, None


def summarize(graph: Graph, names: dict | None = None) -> tuple:
    """A readable picture of a big graph: ``(boxes, edges, note)``. Chains (a node whose one
    non-constant input feeds nothing else, of the same kind) collapse into one box listing
    their ops; when more than ``SUMMARY_BOXES`` remain, the nodes are grouped by kind and op
    instead (edges counted). Constants are left out. Linear time, no recursion."""
    names = names if names is not None else output_labels(graph)
    kinds = node_kinds(graph)
    kind_of = dict(zip(graph.nodes, kinds))
    consumers: Counter = Counter(p for node in graph.nodes for p in node.inputs)
    group: dict = {}
    members: list = []
    for node, kind in zip(graph.nodes, kinds):
        if kind == "const":
            continue
        feeding = [p for p in node.inputs if not p.is_const]
        if (kind != "input" and len(feeding) == 1 and consumers[feeding[0]] == 1
                and kind_of[feeding[0]] == kind and feeding[0] not in names
                and not feeding[0].is_input):
            group[node] = group[feeding[0]]
            members[group[node]].append(node)
        else:
            group[node] = len(members)
            members.append([node])
    if len(members) <= SUMMARY_BOXES:
        note = (f"summary of {len(graph):,} nodes: chains collapsed, constants left out")
        boxes = [_chain_box(chain, kind_of, names) for chain in members]
    else:
        keys: dict = {}
        for node in group:
            key = (kind_of[node], node.name if node.is_input else node.op.name)
            group[node] = keys.setdefault(key, len(keys))
        counts = Counter((kind_of[n], n.name if n.is_input else n.op.name) for n in group)
        outputs: dict = {}
        for node, label in names.items():
            if node in group:
                outputs.setdefault(group[node], []).append(label)
        boxes = [{"label": f"{op} ×{counts[kind, op]:,}", "kind": kind,
                  "output": ", ".join(outputs.get(i, [])[:3]) or None}
                 for i, (kind, op) in enumerate(keys)]
        note = (f"summary of {len(graph):,} nodes grouped by op (×: how many); constants "
                f"left out")
    edges: Counter = Counter()
    for node in group:
        for parent in node.inputs:
            if parent in group and group[parent] != group[node]:
                edges[group[parent], group[node]] += 1
    return boxes, edges, note


def _chain_box(chain: list, kind_of: dict, names: dict) -> dict:
    last = chain[-1]
    if len(chain) == 1:
        label = picture_label(last)
    else:
        ops = Counter(n.op.name for n in chain).most_common()
        shown = ", ".join(f"{op}×{k}" if k > 1 else op for op, k in ops[:3])
        label = f"chain of {len(chain):,}\n{shown}{', …' if len(ops) > 3 else ''}"
    return {"label": label, "kind": kind_of[last], "output": names.get(last)}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def draw(graph: Graph, ax=None, output_names=None, summary: bool | None = None):
    """Draw ``graph`` with matplotlib, left to right by topological depth: each node a box
    sized to its label (as ``to_dot``: ``%id``, op, parameters, shape), colours by kind, B's
    nodes in orange, outputs with a thick border and their name (``output_names``). A graph
    of more than ``PICTURE_LIMIT`` nodes is drawn as a summary (``summarize``) with a warning
    naming its size, unless ``summary=False``. Needs matplotlib (the ``viz`` extra).
    Returns the matplotlib Axes.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> ax = sg.draw(sg.gradients(x * x, ["x"]), output_names=["df/dx"])
    >>> ax.get_title()
    'B (4 nodes)'
    """
    if not isinstance(graph, Graph):
        raise SymgradError(f"draw: expected a Graph, got {type(graph).__name__}; wrap nodes "
                           f"with sg.Graph(...)")
    try:
        from matplotlib.patches import Patch
    except ImportError:
        raise SymgradError("draw needs matplotlib; install it with "
                           "python -m pip install 'symgrad[viz]'") from None
    names = output_labels(graph, output_names)
    boxes, edges, note = (summarize(graph, names) if wants_summary(graph, summary)
                          else _full(graph, names))
    positions = box_positions(len(boxes), edges)
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=figure_size(positions))
    small = len(boxes) <= 40
    for (a, b) in edges:
        (xa, ya), (xb, yb) = positions[a], positions[b]
        bend = 0.0 if xb - xa <= 1 or ya != yb else 0.25  # arcs around boxes between them
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya), zorder=1,
                    arrowprops=dict(arrowstyle="-|>", color="#777777", lw=0.8,
                                    shrinkA=14, shrinkB=14,
                                    connectionstyle=f"arc3,rad={bend}"))
    for i, box in enumerate(boxes):
        fill = STYLES[box["kind"]][0]
        style = "round,pad=0.35" if box["kind"] == "input" else "square,pad=0.3"
        ax.text(*positions[i], box["label"], ha="center", va="center", zorder=2,
                fontsize=7 if small else 5,
                bbox=dict(boxstyle=style, fc=fill, ec="#222222" if box.get("output") else
                          "#666666", lw=2.0 if box.get("output") else 0.8))
        if box.get("output"):
            ax.annotate(box["output"], positions[i], xytext=(0, 18 if small else 12),
                        textcoords="offset points", ha="center", fontsize=8 if small else 6,
                        fontweight="bold", zorder=3)
    used = sorted({box["kind"] for box in boxes}, key=list(STYLES).index)
    ax.legend(handles=[Patch(facecolor=STYLES[k][0], edgecolor="#444444", label=STYLES[k][2])
                       for k in used], loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncol=len(used), fontsize=8, frameon=False)
    name = "B" if graph.forward is not None else "G"
    ax.set_title(f"{name} ({len(graph)} nodes)" + (f"\n{note}" if note else ""))
    xs = [x for x, _ in positions.values()] or [0.0]
    ys = [y for _, y in positions.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    return ax


def wants_summary(graph: Graph, summary: bool | None) -> bool:
    """Whether a picture of ``graph`` is a summary; warns when it is one by size."""
    if summary is None and len(graph) > PICTURE_LIMIT:
        warnings.warn(f"the graph has {len(graph):,} nodes, more than {PICTURE_LIMIT} can be "
                      f"drawn readably: drawing a summary (chains collapsed or ops grouped); the "
                      f"DOT text (to_dot, or --dot on the command line) has every node", stacklevel=3)
        return True
    return bool(summary)


def box_positions(count: int, edges) -> dict:
    """Box index -> (x, y): x the longest path from a source (boxes are in topological
    order), boxes of one depth spread evenly around y = 0. Iterative, linear."""
    parents: dict = {}
    for a, b in edges:
        parents.setdefault(b, []).append(a)
    depth = [0] * count
    for i in range(count):
        depth[i] = 1 + max((depth[p] for p in parents.get(i, ())), default=-1)
    layers: dict = {}
    for i in range(count):
        layers.setdefault(depth[i], []).append(i)
    positions = {}
    for x, members in layers.items():
        top = (len(members) - 1) / 2
        for rank, i in enumerate(members):
            positions[i] = (float(x), top - rank)
    return positions


def layered_positions(graph: Graph) -> dict:
    """Node index -> (x, y) of the full picture of ``graph`` (see ``box_positions``)."""
    return box_positions(len(graph), _full(graph, {})[1])


def figure_size(positions: dict) -> tuple:
    """Inches (width, height) for a layered layout, capped at 40."""
    width = max(x for x, _ in positions.values()) + 1
    height = max(abs(y) for _, y in positions.values()) * 2 + 1
    return min(2 + 1.6 * width, 40), min(1.5 + 0.9 * height, 40)


def render(graph: Graph, path: str, engine: str = "auto", output_names=None,
           summary: bool | None = None) -> str:
    """Write a picture of ``graph`` to ``path`` (.png, .svg or .pdf) and return the engine
    used: Graphviz's ``dot`` when it is installed (or ``engine="dot"``), else matplotlib.
    ``output_names`` and ``summary`` as in ``draw`` (big graphs become summaries, with a
    warning naming the size).

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
    if not isinstance(graph, Graph):
        raise SymgradError(f"render: expected a Graph, got {type(graph).__name__}")
    summary = wants_summary(graph, summary)
    dot = shutil.which("dot")
    if engine == "dot" and dot is None:
        raise SymgradError("render: Graphviz's dot executable is not installed (install "
                           "graphviz, or use engine='matplotlib')")
    if dot is not None and engine != "matplotlib":
        text = to_dot(graph, output_names=output_names, summary=summary)
        done = subprocess.run([dot, f"-T{fmt}", "-o", path], input=text, text=True,
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
    boxes, edges, _ = summarize(graph) if summary else _full(graph, {})
    figure = Figure(figsize=figure_size(box_positions(len(boxes), edges)))
    FigureCanvasAgg(figure)
    draw(graph, ax=figure.add_subplot(), output_names=output_names, summary=summary)
    figure.savefig(path, format=fmt, bbox_inches="tight")
    return "matplotlib"
