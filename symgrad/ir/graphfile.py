"""Graph files: a versioned JSON form of a graph (``dumps``/``loads``, ``save``/``load``) with
an exact round trip, and the pickling of nodes and graphs built on it.

The document is ``{"format": "symgrad-graph", "version": 1, "nodes": [...], "inputs": [...],
"outputs": [...], "forward": null | {"inputs": [...], "outputs": [...]}}``. Nodes are listed in
topological order as ``{"op": name, "inputs": [earlier node ids], "params": [[key, value],
...]}``. Values that JSON cannot hold exactly are tagged: ``{"float": "0x1.8p+1"}`` (hex, so
``-0.0`` and infinities survive), ``{"float_bits": "7ff8000000000001"}`` (a NaN with its
payload), ``{"tuple": [...]}``, ``{"slice": [start, stop, step]}`` and ``{"array": {"dtype":
"<f8", "shape": [...], "base64": ...}}`` (a constant's bytes). No pickle inside it.
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct
import tempfile

import numpy as np

from ..errors import SymgradError
from .graph import Graph
from .node import ConstValue, Node, intern
from .opdef import REGISTRY
from .types import DTYPES, check_dtype, check_shape, numpy_dtype

FORMAT, VERSION = "symgrad-graph", 1
_DEPTH = 16  # params nest a few levels at most (tuples of tuples)


# -- writing ------------------------------------------------------------------------------------
def _encode(value, depth: int = 0):
    if depth > _DEPTH:
        raise SymgradError(f"graph file: a parameter nests more than {_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return {"float_bits": struct.pack(">d", value).hex()}
        return {"float": value.hex()}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [_encode(v, depth + 1) for v in value]
    if isinstance(value, slice):
        return {"slice": [_encode(v, depth + 1) for v in (value.start, value.stop, value.step)]}
    if isinstance(value, ConstValue):
        array = value.array
        return {"array": {"dtype": array.dtype.str, "shape": list(array.shape),
                          "base64": base64.b64encode(array.tobytes()).decode("ascii")}}
    raise SymgradError(f"graph file: cannot write a parameter of type {type(value).__name__} "
                       f"({value!r})")


def to_document(graph: Graph) -> dict:
    """The JSON-ready dict of ``graph`` (see the module docstring)."""
    if not isinstance(graph, Graph):
        raise SymgradError(f"expected a symgrad Graph, got {type(graph).__name__}; wrap nodes "
                           f"with sg.Graph(...)")
    index = {node: i for i, node in enumerate(graph.nodes)}
    nodes = [{"op": node.op.name, "inputs": [index[p] for p in node.inputs],
              "params": [[key, _encode(value)] for key, value in node.params]}
             for node in graph.nodes]
    forward = graph.forward
    return {"format": FORMAT, "version": VERSION, "nodes": nodes,
            "inputs": [index[v] for v in graph.inputs],
            "outputs": [index[o] for o in graph.outputs],
            "forward": None if forward is None else {
                "inputs": [index[v] for v in forward.inputs],
                "outputs": [index[o] for o in forward.outputs]}}


def dumps(graph: Graph) -> str:
    """The graph as versioned JSON text: an exact round trip through ``loads`` (constants bit
    for bit, shapes, dtypes, input and output order).

    >>> import symgrad as sg
    >>> G = sg.Graph(sg.var("x") * -0.0)
    >>> text = sg.dumps(G)
    >>> str(sg.loads(text)) == str(G), '"version":1' in text
    (True, True)
    """
    return json.dumps(to_document(graph), separators=(",", ":"), allow_nan=False)


def save(graph: Graph, path) -> None:
    """Write ``graph`` to ``path`` as versioned JSON (``dumps``): into a temporary file in the
    same folder, then renamed into place, so the file is never left half written.

    >>> import os, tempfile, symgrad as sg
    >>> path = os.path.join(tempfile.mkdtemp(), "B.json")
    >>> sg.save(sg.gradients(sg.sin(sg.var("x")), ["x"]), path)
    >>> sg.evaluate(sg.load(path), {"x": 0.0})[0]
    array(1.)
    """
    text = dumps(graph)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".symgrad-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# -- reading ------------------------------------------------------------------------------------
class _Bad(Exception):
    """A problem found while reading a document (turned into one SymgradError)."""


def _decode(value, depth: int = 0):
    if depth > _DEPTH:
        raise _Bad(f"a parameter nests more than {_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, list):
        return [_decode(v, depth + 1) for v in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise _Bad(f"unexpected parameter value {_short(value)}")
    (tag, body), = value.items()
    if tag == "float" and isinstance(body, str):
        try:
            return float.fromhex(body)
        except (ValueError, OverflowError):
            raise _Bad(f"bad float {_short(body)}") from None
    if tag == "float_bits" and isinstance(body, str) and len(body) == 16:
        try:
            return struct.unpack(">d", bytes.fromhex(body))[0]
        except ValueError:
            raise _Bad(f"bad float bits {_short(body)}") from None
    if tag == "tuple" and isinstance(body, list):
        return tuple(_decode(v, depth + 1) for v in body)
    if tag == "slice" and isinstance(body, list) and len(body) == 3:
        parts = [_decode(v, depth + 1) for v in body]
        if not all(p is None or type(p) is int for p in parts):
            raise _Bad(f"bad slice {_short(body)}")
        return slice(*parts)
    if tag == "array" and isinstance(body, dict):
        return ConstValue(_array(body))
    raise _Bad(f"unexpected parameter value {_short(value)}")


def _array(body: dict) -> np.ndarray:
    try:
        dtype = numpy_dtype(body["dtype"])
        shape = check_shape(body["shape"])
        data = base64.b64decode(body["base64"], validate=True)
    except (KeyError, TypeError, ValueError, SymgradError):
        raise _Bad(f"bad constant {_short(body)}") from None
    if dtype.name not in DTYPES:
        raise _Bad(f"constant of unsupported dtype {dtype.name}")
    if len(data) != math.prod(shape) * dtype.itemsize:
        raise _Bad(f"constant of shape {shape} and dtype {dtype.name} needs "
                   f"{math.prod(shape) * dtype.itemsize} bytes, the file has {len(data)}")
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _ids(items, count: int, what: str) -> list:
    if not isinstance(items, list) or not all(type(i) is int and 0 <= i < count for i in items):
        raise _Bad(f"{what} must be a list of ids of earlier nodes, got {_short(items)}")
    return items


def _node(record, made: list) -> Node:
    if not isinstance(record, dict) or set(record) != {"op", "inputs", "params"}:
        raise _Bad("a node must be {\"op\": ..., \"inputs\": [...], \"params\": [...]}")
    name = record["op"]
    op = REGISTRY.lookup(name) if isinstance(name, str) else None
    if op is None and name not in REGISTRY.retired:
        raise _Bad(f"unknown op {_short(name)} (a custom op must be defined with "
                   f"sg.define_op or sg.custom_gradient before loading)")
    inputs = tuple(made[i] for i in _ids(record["inputs"], len(made), "node inputs"))
    params = record["params"]
    if not isinstance(params, list) or not all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in params):
        raise _Bad(f"params must be a list of [name, value] pairs, got {_short(params)}")
    params = tuple((key, _decode(value)) for key, value in params)
    if op is None:                              # an op of an older version: its replacement
        try:
            return REGISTRY.retired[name](*inputs, **dict(params))
        except (TypeError, SymgradError) as error:
            raise _Bad(f"bad {name} node {_short(record)}: {error}") from None
    if name == "var":
        kwargs = dict(params)
        if (set(kwargs) != {"name", "shape", "dtype"} or not isinstance(kwargs["name"], str)
                or not kwargs["name"].isidentifier() or inputs):
            raise _Bad(f"bad input node {_short(record)}")
        params = (("name", kwargs["name"]), ("shape", check_shape(kwargs["shape"])),
                  ("dtype", check_dtype(kwargs["dtype"], ("float64", "float32", "int64"))))
    elif name == "const" and (inputs or len(params) != 1 or params[0][0] != "value"
                              or not isinstance(params[0][1], ConstValue)):
        raise _Bad(f"bad constant node {_short(record)}")
    if isinstance(op.bprop, tuple) and len(inputs) != len(op.bprop):
        raise _Bad(f"op {name} takes {len(op.bprop)} input(s), the node has {len(inputs)}")
    return intern(op, inputs, params)


def from_document(document) -> Graph:
    """The graph of a document made by ``to_document``; raises SymgradError saying what is
    wrong with a malformed one."""
    try:
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise _Bad(f"not a symgrad graph (no \"format\": \"{FORMAT}\")")
        version = document.get("version")
        if version != VERSION:
            raise _Bad(f"version {_short(version)}, but this symgrad reads version {VERSION}; "
                       f"save it again with a matching symgrad")
        records = document.get("nodes")
        if not isinstance(records, list):
            raise _Bad("\"nodes\" must be a list")
        made: list = []
        for i, record in enumerate(records):
            try:
                made.append(_node(record, made))
            except _Bad as exc:
                raise _Bad(f"node {i}: {exc}") from None
            except (SymgradError, TypeError, ValueError, KeyError, IndexError,
                    AttributeError, OverflowError) as exc:
                raise _Bad(f"node {i} ({_short(record.get('op'))}) is not valid: "
                           f"{type(exc).__name__}: {str(exc)[:200]}") from None
        count = len(made)
        outputs = [made[i] for i in _ids(document.get("outputs"), count, "outputs")]
        inputs = [made[i] for i in _ids(document.get("inputs"), count, "inputs")]
        forward = document.get("forward")
        if forward is not None:
            if not isinstance(forward, dict):
                raise _Bad("\"forward\" must be null or {\"inputs\": ..., \"outputs\": ...}")
            forward = Graph([made[i] for i in _ids(forward.get("outputs"), count,
                                                  "forward outputs")],
                            [made[i] for i in _ids(forward.get("inputs"), count,
                                                   "forward inputs")])
        return Graph(outputs, inputs, _forward=forward)
    except _Bad as exc:
        raise SymgradError(f"graph file: {exc}") from None
    except SymgradError as exc:
        raise SymgradError(f"graph file: {exc}") from None


def loads(text) -> Graph:
    """The graph of JSON text written by ``dumps``; raises SymgradError for malformed,
    truncated or wrong-version text.

    >>> import symgrad as sg
    >>> sg.loads('{"format": "symgrad-graph", "version": 99}')
    Traceback (most recent call last):
    ...
    symgrad.errors.SymgradError: graph file: version 99, but this symgrad reads version 1; save it again with a matching symgrad
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SymgradError(f"graph file: not UTF-8 text ({exc})") from None
    if not isinstance(text, str):
        raise SymgradError(f"loads expects JSON text, got {type(text).__name__}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        end = "; the text ends early: truncated?" if not text.rstrip().endswith("}") else ""
        raise SymgradError(f"graph file: not valid JSON ({exc.msg} at line {exc.lineno}, "
                           f"column {exc.colno}){end}") from None
    except RecursionError:
        raise SymgradError("graph file: JSON nested too deeply") from None
    return from_document(document)


def load(path) -> Graph:
    """The graph saved in the file ``path`` by ``save`` (see ``loads``).

    >>> import os, tempfile, symgrad as sg
    >>> path = os.path.join(tempfile.mkdtemp(), "G.json")
    >>> sg.save(sg.Graph(sg.var("x") + 1), path)
    >>> [v.name for v in sg.load(path).inputs]
    ['x']
    """
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return loads(data)
    except SymgradError as exc:
        raise SymgradError(f"{os.fspath(path)}: {exc}") from None


# -- pickling -----------------------------------------------------------------------------------
def graph_from_text(text: str) -> Graph:
    """Unpickle a graph (pickle calls this with its ``dumps`` text)."""
    return loads(text)


def node_from_text(text: str) -> Node:
    """Unpickle a node: the output of its one-output graph, re-interned in this process."""
    return loads(text).outputs[0]
