"""Graph files (sg.save/load/dumps/loads) and pickling: exact round trips, atomic writes, clear
errors, deep chains, and a fuzz of mutated files (only a Graph or a SymgradError comes out)."""

import json
import os
import pickle
import random
import struct
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg


def sample_graph():
    x, W = sg.var("x"), sg.var("W", (2, 3))
    labels = sg.var("labels", (2,), "int64")
    special = np.array([-0.0, np.inf, -np.inf, np.nan, 5e-324, 1 / 3])
    payload = struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_0000_0ABC))[0]
    f = (sg.sum(sg.tanh(W * x)[:, 1:], axis=1, keepdims=True).T @ sg.const(special[:2])
         + sg.cross_entropy(W, labels) + sg.sum(sg.const(special) * x)
         + sg.const(np.float32(0.1), "float32") * x + payload * x)
    return sg.gradients(sg.sum(f), ["x", "W"])


def test_round_trip_is_exact():
    B = sample_graph()
    C = sg.loads(sg.dumps(B))
    assert C.nodes == B.nodes  # re-interned: the very same nodes
    assert C.inputs == B.inputs and C.outputs == B.outputs
    assert C.forward.nodes == B.forward.nodes
    for a, b in zip(B.nodes, C.nodes):
        if a.is_const:
            assert a.value.tobytes() == b.value.tobytes() and a.dtype == b.dtype


def test_round_trip_in_a_fresh_process_is_bit_for_bit(tmp_path):
    B = sample_graph()
    path = tmp_path / "B.json"
    sg.save(B, path)
    code = ("import sys, symgrad as sg; B = sg.load(sys.argv[1]); "
            "print(sg.dumps(B) == open(sys.argv[1]).read()); "
            "print([n.value.tobytes().hex() for n in B.nodes if n.is_const])")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, check=True, cwd=os.path.dirname(os.path.dirname(
                              os.path.dirname(os.path.abspath(__file__)))))
    same, consts = done.stdout.splitlines()
    assert same == "True"
    assert consts == str([n.value.tobytes().hex() for n in B.nodes if n.is_const])
    x = 0.7
    W = np.arange(6.0).reshape(2, 3) / 7
    values = {"x": x, "W": W, "labels": np.array([0, 2])}
    for a, b in zip(sg.evaluate(B, values), sg.evaluate(sg.load(path), values)):
        assert a.tobytes() == b.tobytes()


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "G.json"
    sg.save(sg.Graph(sg.var("x") + 1), path)
    before = path.read_text()

    def fail(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        sg.save(sample_graph(), path)
    assert path.read_text() == before and os.listdir(tmp_path) == ["G.json"]


@pytest.mark.parametrize("text, message", [
    ("", "not valid JSON"),
    ('{"format": "symgrad-graph", "version": 1, "nodes": [', "truncated"),
    ('{"format": "symgrad-graph", "version": 1, "nodes": [{"op": "si', "truncated"),
    ('{"format": "symgrad-graph", "version": 2, "nodes": []}', "version 2"),
    ('{"format": "other"}', "not a symgrad graph"),
    ('[1, 2]', "not a symgrad graph"),
    ('{"format": "symgrad-graph", "version": 1, "nodes": [{"op": "nope", "inputs": [], '
     '"params": []}], "inputs": [], "outputs": [0]}', "unknown op 'nope'"),
    ('{"format": "symgrad-graph", "version": 1, "nodes": [{"op": "sin", "inputs": [3], '
     '"params": []}], "inputs": [], "outputs": [0]}', "ids of earlier nodes"),
    ('[' * 100000 + ']' * 100000, "nested too deeply"),
])
def test_malformed_files_raise_a_clear_error(text, message):
    with pytest.raises(sg.SymgradError, match="graph file") as info:
        sg.loads(text)
    assert message in str(info.value)


def test_a_constant_of_structured_dtype_text_is_refused_before_numpy_parses_it(
        literal_eval_refused):
    """numpy reads "1,f8" with ast.literal_eval, i.e. compile(): a file's text must not reach it."""
    text = sg.dumps(sg.Graph(sg.var("v", (2,)) * sg.const(np.array([1.0, 2.0]))))
    assert '"dtype":"<f8"' in text
    for dtype in ("1,f8", "2f8", "(1)f8"):
        with pytest.raises(sg.SymgradError, match="graph file.*bad constant"):
            sg.loads(text.replace('"dtype":"<f8"', f'"dtype":"{dtype}"'))


def test_a_chain_of_100000_nodes_saves_and_loads(tmp_path):
    x = sg.var("x")
    y = x
    for i in range(100000):
        y = sg.sin(y) if i % 2 else y * 1.0000001
    G = sg.Graph(y)
    path = tmp_path / "chain.json"
    sg.save(G, path)
    assert sg.load(path).nodes == G.nodes


def test_nodes_and_graphs_pickle_and_reintern():
    B = sample_graph()
    assert pickle.loads(pickle.dumps(B)).nodes == B.nodes
    node = B.outputs[1]
    assert pickle.loads(pickle.dumps(node)) is node
    x, y = sg.var("x"), sg.var("y")
    code = ("import pickle, sys, symgrad as sg; G = pickle.loads(sys.stdin.buffer.read()); "
            "print(sg.evaluate(G, {'x': 2.0, 'y': 3.0})[0])")
    done = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(sg.Graph(x * y)),
                          capture_output=True, check=True)
    assert done.stdout.strip() == b"6.0"


def mutations(text: str, rng: random.Random):
    """Mutated copies of a graph file: cut, byte flips, and edits of the parsed document."""
    yield text[:rng.randrange(len(text))]
    chars = list(text)
    for _ in range(rng.randrange(1, 4)):
        chars[rng.randrange(len(chars))] = rng.choice('{}[]",:0123456789-.eEaxz ')
    yield "".join(chars)
    document = json.loads(text)
    node = rng.choice(document["nodes"])
    choice = rng.randrange(6)
    if choice == 0:
        node["op"] = rng.choice(["sin", "add", "matmul", "sum", "var", "const", "getitem", 3])
    elif choice == 1:
        node["inputs"] = [rng.randrange(-1, len(document["nodes"]) + 1)
                          for _ in range(rng.randrange(3))]
    elif choice == 2 and node["params"]:
        key = rng.randrange(len(node["params"]))
        node["params"][key][1] = rng.choice([None, True, -1, 10**30, "x", [1], {"tuple": [1]},
                                             {"float": "zz"}, {"slice": [1, "a", None]},
                                             {"array": {"dtype": "<f8", "shape": [2],
                                                        "base64": "AAAA"}}])
    elif choice == 3:
        document[rng.choice(["inputs", "outputs", "forward", "version"])] = rng.choice(
            [None, [], [0], [10**6], "x", {"inputs": [0]}])
    elif choice == 4:
        node["params"] = rng.choice([[], [["axis", 0]], "x", [["a"]]])
    else:
        document["nodes"] = document["nodes"][::-1]
    yield json.dumps(document)


def test_fuzzed_files_give_a_graph_or_a_symgrad_error():
    rng = random.Random(11)
    texts = [sg.dumps(sample_graph()), sg.dumps(sg.Graph(sg.var("v", (3,))[1:] * 2.0))]
    outcomes = {"graph": 0, "error": 0}
    for _ in range(700):
        for text in mutations(rng.choice(texts), rng):
            try:
                result = sg.loads(text)
            except sg.SymgradError:
                outcomes["error"] += 1
            else:
                assert isinstance(result, sg.Graph)
                outcomes["graph"] += 1
    assert outcomes["error"] > 1000 and outcomes["graph"] > 10, outcomes


def test_a_file_with_an_op_retired_since_loads_as_its_replacement():
    # softmax_minus_onehot was an op of its own until cross_entropy and its gradient came to
    # share one log_softmax: a file saved then holds it by name
    z = sg.var("z", (2, 3))
    y = sg.var("y", (2,), "int64")
    document = {"format": "symgrad-graph", "version": 1, "nodes": [
        {"op": "var", "inputs": [], "params": [["name", "z"], ["shape", [2, 3]],
                                                ["dtype", "float64"]]},
        {"op": "var", "inputs": [], "params": [["name", "y"], ["shape", [2]],
                                                ["dtype", "int64"]]},
        {"op": "softmax_minus_onehot", "inputs": [0, 1], "params": []}],
        "inputs": [0, 1], "outputs": [2]}
    G = sg.loads(json.dumps(document))
    values = {"z": np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]), "y": np.array([2, 0])}
    zs = values["z"]
    expected = np.exp(zs) / np.exp(zs).sum(axis=1, keepdims=True) - np.eye(3)[values["y"]]
    np.testing.assert_allclose(sg.evaluate(G, values)[0], expected, rtol=1e-15, atol=1e-16)
    assert [v.name for v in G.inputs] == [z.name, y.name]
    document["nodes"][2]["inputs"] = [0]
    with pytest.raises(sg.SymgradError, match="softmax_minus_onehot"):
        sg.loads(json.dumps(document))
