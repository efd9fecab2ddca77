"""Pictures that stay readable (issue 11 item 12): ids, output names, short labels, B's nodes
in a cluster, and summaries of big graphs with a warning naming the size."""

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import pydot  # noqa: E402
import pytest  # noqa: E402

import symgrad as sg  # noqa: E402
from symgrad.cli import main  # noqa: E402
from symgrad.export.dot import PICTURE_LIMIT, SUMMARY_BOXES, summarize  # noqa: E402


def chain(length):
    x = sg.var("x")
    y = x
    for i in range(length):
        y = sg.sin(y) * 1.5 if i % 2 else sg.tanh(y) + y
    return y


def test_outputs_are_named_and_b_is_a_cluster():
    x, y = sg.var("x"), sg.var("y")
    B = sg.gradients(sg.sin(x) * y, ["x", "y"])
    text = sg.to_dot(B, output_names=["df/dx", "df/dy"])
    dot = pydot.graph_from_dot_data(text)[0]
    (cluster,) = dot.get_subgraphs()
    assert cluster.get_name() == "cluster_B"
    inside = {n.get_name() for n in cluster.get_nodes()}
    appended = {f"n{i}" for i, n in enumerate(B.nodes) if n not in set(B.forward.nodes)
                and not n.is_const}
    assert appended and appended <= inside
    labels = re.findall(r'xlabel="([^"]+)"', text)
    assert sorted(labels) == ["df/dx", "df/dy", "f"]
    with pytest.raises(sg.SymgradError, match="2 outputs"):
        sg.to_dot(B, output_names=["df/dx"])


def test_labels_carry_ids_and_abbreviate_parameters():
    W = sg.var("W", (2, 3))
    G = sg.Graph(sg.sum(sg.reshape(W, (1, 1, 1, 1, 1, 2, 3)), axis=(0, 1, 2, 3, 4, 5),
                        keepdims=False))
    text = sg.to_dot(G)
    assert "keepdims" not in text and "%2 sum" in text
    assert "shape=(1, 1, 1, 1, 1, 2…" in text  # long values are cut
    assert max(len(line) for line in re.findall(r'label="([^"]+)"', text)) < 60


def test_big_graphs_are_drawn_as_summaries_with_a_warning(tmp_path):
    B = sg.gradients(chain(3000), ["x"])
    assert len(B) > PICTURE_LIMIT
    with pytest.warns(UserWarning, match=f"{len(B):,} nodes"):
        ax = sg.draw(B, output_names=["df/dx"])
    assert "summary" in ax.get_title() and len(ax.texts) < 2 * SUMMARY_BOXES
    boxes, edges, note = summarize(B)
    assert len(boxes) <= SUMMARY_BOXES and "grouped by op" in note
    total = sum(int(b["label"].split("×")[1].replace(",", "")) for b in boxes)
    assert total == sum(1 for n in B.nodes if not n.is_const)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sg.to_dot(B)  # the text keeps every node and does not warn


def test_a_chain_collapses_into_one_box():
    x = sg.var("x")
    y = x
    for _ in range(30):
        y = sg.sin(y)
    boxes, edges, note = summarize(sg.Graph(sg.exp(y) + x))
    labels = [b["label"] for b in boxes]
    assert any(label.startswith("chain of 31") for label in labels), labels
    assert "chains collapsed" in note and len(boxes) == 3


def test_cli_png_of_a_big_graph_says_its_size(capsys, tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("sin(" * 2000 + "x" + ")" * 2000)
    png = tmp_path / "b.png"
    status = main(["graph", "-f", str(path), "--wrt", "x", "--png", str(png)])
    out, err = capsys.readouterr()
    assert status == 0 and png.read_bytes()[:4] == b"\x89PNG"
    assert "6,000 nodes" in err and "summary" in err
