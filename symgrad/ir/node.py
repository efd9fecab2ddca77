"""Node: an immutable, interned vertex of a static graph, with Python operator sugar."""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import sys
import threading

import numpy as np

from ..errors import SymgradError
from .opdef import REGISTRY, OpDef

# Structural interning: one live Node per (op, params, inputs). Inputs hash by identity, so
# the key is built in O(arity) with no recursion, and equal subexpressions share one node.
# A plain dict (a WeakValueDictionary costs ~40% of node creation); nodes nobody else holds
# are dropped by ``_collect`` whenever the table has doubled, so memory follows live graphs,
# whatever the settings of Python's cycle collector (nodes are reclaimed by reference count).
# Thread safety: inserts and collections hold ``_LOCK``; lookups need no lock (see
# ``_collect``), so two threads building the same node get one node, and a collection never
# drops a node that another thread has just looked up.
_TABLE: dict = {}
_COLLECT_MIN = 1 << 16           # the table is never collected below this size
_COLLECT_AT = [_COLLECT_MIN]
_LOCK = threading.Lock()


class ConstValue:
    """A constant's numpy array, hashable by dtype, shape and bytes (so constants intern)."""

    __slots__ = ("array", "uniform", "_key")

    def __init__(self, array: np.ndarray):
        array = np.array(array, copy=True)
        array.flags.writeable = False
        self.array = array
        self._key = (array.dtype.str, array.shape, array.tobytes())
        first = array.flat[0].item() if array.size else None
        # the one value every element has (None if they differ): cheap identity checks
        self.uniform = first if array.size == 1 or (array.size and (array == first).all()) else None

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, ConstValue) and self._key == other._key

    def __repr__(self):
        return repr(self.array.item() if self.array.ndim == 0 else self.array)


class Node:
    """One value of a static graph: ``op`` applied to ``inputs`` with ``params``.

    Nodes are made only through ``intern`` (ops call it), never mutated, and compared by
    identity: two nodes are equal exactly when they are the same object, which interning makes
    the same as being structurally equal. ``shape`` is a static tuple, ``dtype`` a name.
    """

    __slots__ = ("op", "inputs", "params", "shape", "dtype")
    __array_ufunc__ = None  # make numpy defer to our reflected operators

    op: OpDef
    inputs: tuple
    params: tuple
    shape: tuple
    dtype: str

    # -- introspection ------------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        """The input's name for an input node, else None."""
        return self.params[0][1] if self.op.name == "var" else None

    @property
    def kwargs(self) -> dict:
        return dict(self.params)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def is_input(self) -> bool:
        return self.op.name == "var"

    @property
    def is_const(self) -> bool:
        return self.op.name == "const"

    @property
    def value(self) -> np.ndarray:
        """A constant's value (read-only array)."""
        if not self.is_const:
            raise SymgradError(f"{self!r} is not a constant")
        return self.params[0][1].array

    def __repr__(self) -> str:
        if self.is_input:
            return f"var({self.name!r}, shape={self.shape}, dtype={self.dtype!r})"
        if self.is_const:
            return f"const({self.params[0][1]!r}, dtype={self.dtype!r})"
        return f"<{self.op.name} node shape={self.shape} dtype={self.dtype}>"

    def __setattr__(self, name, value):
        raise AttributeError(f"symgrad nodes are immutable (cannot set {name!r}); build a new "
                             f"node with the ops instead")

    __delattr__ = __setattr__

    def __reduce__(self):
        """Pickle as the graph file of the node's graph; unpickling re-interns it."""
        from .graph import Graph
        from .graphfile import dumps, node_from_text
        return node_from_text, (dumps(Graph(self)),)

    def __bool__(self):
        raise SymgradError("a symgrad Node has no truth value: it is symbolic. Use sg.where "
                           "with sg.greater / sg.less for conditions")

    def __iter__(self):
        raise TypeError("a symgrad Node is not iterable; index it with x[i]")

    # -- operator sugar: every operator is a registered builder -----------------------------
    def _f(name):
        def method(self, *args):
            return REGISTRY.functions[name](self, *args)
        method.__name__ = name
        return method

    def _r(name):
        def method(self, other):
            return REGISTRY.functions[name](other, self)
        method.__name__ = "r" + name
        return method

    __add__, __radd__ = _f("add"), _r("add")
    __sub__, __rsub__ = _f("sub"), _r("sub")
    __mul__, __rmul__ = _f("mul"), _r("mul")
    __truediv__, __rtruediv__ = _f("div"), _r("div")
    __pow__, __rpow__ = _f("pow"), _r("pow")
    __matmul__, __rmatmul__ = _f("matmul"), _r("matmul")
    __neg__ = _f("neg")
    __gt__, __lt__ = _f("greater"), _f("less")
    __getitem__ = _f("getitem")
    del _f, _r

    def __pos__(self):
        return self

    @property
    def T(self) -> "Node":
        return REGISTRY.functions["transpose"](self)

    __hash__ = object.__hash__
    __eq__ = object.__eq__


class _Unfrozen:
    """Node's slot layout without its immutability: ``intern`` fills one, then makes it a Node."""

    __slots__ = Node.__slots__


def intern(op: OpDef, inputs: tuple, params: tuple = (), like: Node | None = None) -> Node:
    """The node ``op(*inputs, **dict(params))``: the existing one if built before, else a new one
    whose shape and dtype come from ``op.infer`` (which raises ShapeError on a mismatch), or are
    those of ``like``, a node the caller knows has the same type (a rewrite rebuilding a node
    from inputs of unchanged types)."""
    key = (op, params_key(params) if params else (), inputs)   # table_key, inlined: hot
    node = _TABLE.get(key)           # no lock needed: see _collect
    if node is not None:
        return node
    if like is not None:
        shape, dtype = like.shape, like.dtype
    else:
        shape, dtype = op.infer(*inputs, **dict(params)) if params else op.infer(*inputs)
    new = object.__new__(_Unfrozen)  # filled through the mutable twin, then frozen
    new.op, new.inputs, new.params, new.shape, new.dtype = op, inputs, params, shape, dtype
    new.__class__ = Node
    _LOCK.acquire()                  # (not ``with _LOCK``: half the cost, paid per new node)
    try:
        node = _TABLE.setdefault(key, new)   # another thread may have made it meanwhile
        if len(_TABLE) > _COLLECT_AT[0]:
            _collect()
    finally:
        _LOCK.release()
    return node


def interned(op: OpDef, inputs: tuple, params: tuple = ()) -> Node | None:
    """The node ``op(*inputs, **dict(params))`` if it has been built, else None (builds nothing)."""
    return _TABLE.get(table_key(op, inputs, params))


def table_key(op: OpDef, inputs: tuple, params: tuple) -> tuple:
    """The intern table's key of ``op(*inputs, **dict(params))``."""
    return op, params_key(params) if params else (), inputs


def params_key(params: tuple) -> tuple:
    """``params`` as a key where a float zero's sign counts: ``heaviside(x, at0=-0.0)`` is not
    ``at0=0.0``, although Python calls the two equal (``at0=1`` and ``at0=1.0`` stay one)."""
    return tuple((name, value, isinstance(value, float) and math.copysign(1.0, value) < 0)
                 for name, value in params)


def _collect() -> None:
    """Drop the table's nodes that nothing outside it references (the caller holds ``_LOCK``).

    The reference counts of all nodes are read in one pass at C speed; a node the table alone
    holds (count 2 there: the table and the count's argument) is a candidate. Candidates are
    visited newest first, and each node dropped puts its inputs on the list (it may have been
    their last consumer), so a whole dead subgraph goes in one collection. A candidate is taken
    out of the table and counted again (2 if dead); if another thread looked it up meanwhile,
    that thread's reference shows and the node goes back. So a lock-free lookup either holds
    the node (which keeps it) or misses it and waits on ``_LOCK`` in ``intern``, then finds it
    again or, if it was dead, makes the only one.
    """
    table = _TABLE
    unreferenced = map((2).__ge__, map(sys.getrefcount, table.values()))
    keys = list(itertools.compress(table, unreferenced))
    while keys:
        key = keys.pop()
        node = table.get(key)
        if node is None or sys.getrefcount(node) > 3:   # (the table, ``node``, the argument)
            continue
        del node
        node = table.pop(key)
        if sys.getrefcount(node) > 2:  # looked up by another thread meanwhile: still live
            table[key] = node
        else:
            keys.extend(table_key(x.op, x.inputs, x.params) for x in node.inputs)
        del node
    _COLLECT_AT[0] = max(_COLLECT_MIN, 2 * len(table))


_PAUSE_LOCK = threading.Lock()
_PAUSES = {"count": 0, "was_enabled": False}   # builds now pausing the collector, its state


@contextlib.contextmanager
def paused_gc():
    """Pause Python's cycle collector while many nodes are built (by gradients, optimize, ...).

    Building allocates many small acyclic objects (nodes are immutable, so they cannot form
    cycles); left on, the collector re-scans every live node several times per call, which
    measured as ~45% of ``gradients()`` on a 10^5-node graph. The pause is counted across
    threads: the collector comes back on (if it was on) when the last concurrent build ends.
    Nodes do not depend on it: the table is collected by reference count (``_collect``).
    """
    with _PAUSE_LOCK:
        if _PAUSES["count"] == 0:
            _PAUSES["was_enabled"] = gc.isenabled()
            gc.disable()
        _PAUSES["count"] += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSES["count"] -= 1
            if _PAUSES["count"] == 0 and _PAUSES["was_enabled"]:
                gc.enable()
