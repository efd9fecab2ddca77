"""Compiled evaluation: a graph becomes a flat instruction list over numbered slots.

Each instruction is ``(forward, a, b, c, output slot, slots to free)``, ``a, b, c`` the slots of
up to three arguments (-1 for none); values are dropped right after their last use, so peak
memory follows the live set, not the graph size. An elementwise numpy ufunc whose input dies at
that instruction writes its result into that input's buffer (``out=``) when nothing else can
still see the buffer, which saves an allocation (and its page faults) per step on large
tensors.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from ..errors import InputError, SymgradError
from ..ir import REGISTRY, Graph, Node
from ..ops._define import CONST

# Checking mode: every instruction's value is checked against its node's declared dtype and
# shape (the test suite turns it on; set SYMGRAD_CHECK=1 to use it elsewhere).
CHECK = os.environ.get("SYMGRAD_CHECK", "") not in ("", "0")


class Schedule:
    """A graph's needed nodes in topological order, resolved once and shared by every backend.

    ``nodes`` lists only what the outputs need (the graph's own listing, filtered by one
    backward sweep where it holds more: no second topological sort); ``last_use[node]`` is the
    position of its last consumer, and ``frees_at[k]`` the positions whose values die at step
    ``k`` (both computed on first use: a backend that keeps every value never pays for them).
    """

    def __init__(self, graph: Graph):
        if not isinstance(graph, Graph):
            raise SymgradError(f"expected a Graph, got {type(graph).__name__}; wrap nodes with "
                               f"sg.Graph(...)")
        self.graph = graph
        if graph.forward is None:          # the listing is exactly the outputs' ancestors
            nodes = list(graph.nodes)
        else:                              # a derivative graph also lists its forward graph
            needed = set(graph.outputs)
            for node in reversed(graph.nodes):
                if node in needed:
                    needed.update(node.inputs)
            nodes = [node for node in graph.nodes if node in needed]
        self.nodes = nodes
        self.slot = slot = dict(zip(nodes, range(len(nodes))))
        self.keep = set(graph.outputs)
        self.inputs = [(v.name, v, slot.get(v)) for v in graph.inputs]
        self.names = {v.name for v in graph.inputs}
        self.output_slots = [slot[o] for o in graph.outputs]
        self.scalar = not any(node.shape for node in nodes)

    @functools.cached_property
    def last_use(self) -> dict:
        """node -> the position of its last consumer (nodes no other node reads are absent)."""
        last_use = {}
        for k, node in enumerate(self.nodes):
            for parent in node.inputs:
                last_use[parent] = k
        return last_use

    @functools.cached_property
    def frees_at(self) -> dict:
        """step -> the slots whose values die there: read for the last time, neither an
        output nor a constant."""
        frees_at: dict[int, list] = {}
        keep, slot = self.keep, self.slot
        for node, k in self.last_use.items():
            if node not in keep and node.op is not CONST:
                slots = frees_at.get(k)
                if slots is None:
                    frees_at[k] = [slot[node]]
                else:
                    slots.append(slot[node])
        return frees_at

    def load(self, values: dict, batch: bool = False) -> list:
        """The checked input arrays, in ``self.inputs`` order (InputError on a bad value); a
        Python float for a float64 scalar input becomes ``np.float64`` (the common case, fast)."""
        if len(values) != len(self.names) or not self.names.issuperset(values):
            unknown = [k for k in values if k not in self.names]
            if unknown:
                raise InputError(f"unknown input(s) {', '.join(map(repr, unknown))}; the "
                                 f"graph's inputs are "
                                 f"{', '.join(map(repr, sorted(self.names))) or 'none'}")
        arrays = []
        for name, node, _k in self.inputs:
            try:
                value = values[name]
            except KeyError:
                raise InputError(f"missing input {name!r} ({_type(node)})") from None
            kind = type(value)
            if kind is np.ndarray and value.dtype == _NUMPY_DTYPES[node.dtype] and (
                    value.shape == node.shape and not batch):
                arrays.append(value)                    # already what check_value returns
            elif kind is float and node.shape == () and node.dtype == "float64":
                arrays.append(_FLOAT64(value))
            else:
                arrays.append(check_value(node, value, batch))
        return arrays


_FLOAT64 = np.float64


class Runnable:
    """What every compiled program shares: ``fn(inputs=None, /, **named)`` evaluates with
    inputs given as a mapping and/or keyword arguments (by name) through ``self.run``."""

    def __call__(self, inputs=None, /, **named) -> list:
        if inputs is not None:
            named = {**by_name(inputs), **named}
        return self.run(named)


class Program(Runnable):
    """The schedule of a graph, resolved once; calling it evaluates the graph.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> fn = sg.compile(sg.Graph(x * x + 1))
    >>> fn(x=3.0)[0].item()
    10.0
    """

    backend = "numpy"

    def __init__(self, graph: Graph, schedule: Schedule | None = None):
        schedule = schedule or Schedule(graph)
        self.graph, self.schedule = schedule.graph, schedule
        nodes = schedule.nodes
        self.nodes = nodes
        self.n_slots = len(nodes)
        self.inputs, self.names = schedule.inputs, schedule.names
        calls, arguments = step_calls(schedule)
        self.template, viewed = constant_template(nodes, calls, arguments)
        for k in viewed:
            calls[k] = functools.partial(calls[k], order="C")
        buffers = {} if schedule.scalar else plan_buffers(
            nodes, schedule.last_use, schedule.keep, fixed=self.template)
        frees_at = moved_frees(schedule.frees_at, buffers)
        program, template = [], self.template
        for k, fn in calls.items():
            if template[k] is not None:
                continue
            args = arguments[k]
            if k in buffers:
                into = writing_in_place if buffers[k] in args else writing_into
                fn, args = into(fn, len(args)), args + (buffers[k],)
            padding = _PADDING.get(len(args))
            if padding is None:
                fn, args, padding = _gathering(fn, args), (), (-1, -1, -1)
            program.append((fn,) + args + padding + (k, tuple(frees_at.get(k, ()))))
        self.program = program
        self.output_slots = schedule.output_slots

    def run(self, values: dict) -> list:
        return self.run_loaded(self.schedule.load(values))

    def run_loaded(self, arrays: list) -> list:
        """Evaluate on input arrays already checked by ``Schedule.load``."""
        regs = self.template.copy()
        for (_name, _node, k), array in zip(self.inputs, arrays):
            if k is not None:
                regs[k] = array
        with np.errstate(all="ignore"):
            if CHECK:
                self._run_checked(regs)
            else:
                for fn, a, b, c, out, frees in self.program:
                    if c >= 0:
                        regs[out] = fn(regs[a], regs[b], regs[c])
                    elif b >= 0:
                        regs[out] = fn(regs[a], regs[b])
                    elif a >= 0:
                        regs[out] = fn(regs[a])
                    else:
                        regs[out] = fn(regs)
                    if frees:
                        for k in frees:
                            regs[k] = None
        return fresh_outputs([regs[k] for k in self.output_slots], arrays)

    def _run_checked(self, regs: list) -> None:
        for fn, a, b, c, out, frees in self.program:
            regs[out] = fn(regs) if a < 0 else fn(*[regs[i] for i in (a, b, c) if i >= 0])
            check_result(self.nodes[out], regs[out])
            for k in frees:
                regs[k] = None


# A step reads up to three argument slots, -1 where there are fewer; a step of another arity
# is a closure gathering its arguments from the registers (all three slots -1).
_PADDING = {1: (-1, -1), 2: (-1,), 3: ()}


def _gathering(fn, args: tuple):
    return lambda regs: fn(*[regs[i] for i in args])


def step_calls(schedule: Schedule) -> tuple:
    """(calls, arguments): per operation's slot, its numpy forward (op parameters bound) and the
    slots of its inputs."""
    slot, calls, arguments = schedule.slot, {}, {}
    for k, node in enumerate(schedule.nodes):
        if not (node.is_const or node.is_input):
            fn = node.op.forward
            if node.params:
                fn = functools.partial(fn, **dict(node.params))
            calls[k] = fn
            arguments[k] = tuple([slot[p] for p in node.inputs])
    return calls, arguments


def check_result(node: Node, value, batch: tuple = ()) -> None:
    """Checking mode: raise SymgradError when an op's value contradicts its declared type."""
    shape, dtype = np.shape(value), np.asarray(value).dtype
    if shape != batch + node.shape or dtype != _NUMPY_DTYPES[node.dtype]:
        raise SymgradError(f"internal error: op {node.op.name!r} is declared dtype {node.dtype}, "
                           f"shape {batch + node.shape} but evaluated to dtype {dtype}, shape "
                           f"{shape} (symgrad checking mode, SYMGRAD_CHECK=1); please report it")


def fresh_outputs(values: list, inputs: list) -> list:
    """``values`` as arrays the caller owns: a copy of any that is an input array, a view, a
    read-only constant or an array already returned (never two outputs sharing memory)."""
    taken = {id(a) for a in inputs}
    out = []
    for value in values:
        array = value if type(value) is np.ndarray else np.asarray(value)
        if (array.base is not None or id(array) in taken or not array.flags.writeable):
            array = array.copy()
        taken.add(id(array))
        out.append(array)
    return out


def _makes_new_array(node: Node, varying=None) -> bool:
    """True when node's forward always returns a new array that no other value shares: a numpy
    ufunc (elementwise ops, matmul) with a result of at least one dimension (in a batched
    program, ``varying`` nodes carry the batch dimensions: only they count)."""
    if not isinstance(node.op.forward, np.ufunc) or node.params:
        return False
    return node.ndim > 0 if varying is None else node in varying


def plan_buffers(nodes: list, last_use: dict, keep: set, varying: set | None = None,
                 fixed: list | None = None) -> dict:
    """{instruction index: slot whose array buffer that elementwise ufunc writes into}.

    A buffer is made by a ufunc and belongs to its node's slot; it may be written again once
    neither that value nor any value that may be a view of it (results of non-ufunc ops such as
    transpose or reshape are assumed to alias all their inputs) is used any more, and it is never
    written when returned as an output. Step k takes, in this order, the buffer of one of its
    own inputs that dies at k (in place), or the buffer most recently left dead by an earlier
    step with the same shape and dtype (so a program allocates about its peak live set instead
    of one array per step). Inputs, constants and ``fixed`` slots (values computed once at
    compile time) are never written.
    """
    end = len(nodes)
    slot = {node: k for k, node in enumerate(nodes)}
    roots: list = [()] * end       # per slot: the fresh buffers its value may share memory with
    last_seen: dict = {}           # fresh buffer's slot -> last step it or an alias is read
    fresh = [False] * end
    for k, node in enumerate(nodes):
        if node.is_input or node.is_const or (fixed is not None and fixed[k] is not None):
            continue
        fresh[k] = _makes_new_array(node, varying)
        roots[k] = (k,) if fresh[k] else tuple({r: None for p in node.inputs
                                                for r in roots[slot[p]]})
        done = end if node in keep else last_use.get(node, -1)
        for root in roots[k]:
            last_seen[root] = max(last_seen.get(root, -1), done)
    dying: dict = {}
    for root, step in last_seen.items():
        dying.setdefault(step, []).append(root)
    free: dict = {}                # (shape, dtype) -> slots whose buffer is free, newest last
    plan: dict = {}
    for k, node in enumerate(nodes):
        if fresh[k] and node.op.elementwise:
            for parent in node.inputs:
                j = slot[parent]
                if (roots[j] == (j,) and last_seen[j] == k and parent.shape == node.shape
                        and parent.dtype == node.dtype):
                    plan[k] = j
                    break
            else:
                spare = free.get((node.shape, node.dtype))
                if spare:
                    plan[k] = spare.pop()
        taken = plan.get(k)
        for root in dying.get(k, ()):
            if root != taken:
                free.setdefault((nodes[root].shape, nodes[root].dtype), []).append(root)
    return plan


def moved_frees(frees_at: dict, buffers: dict) -> dict:
    """``frees_at`` with each reused buffer's slot kept alive until the step that writes it."""
    if not buffers:
        return frees_at
    moved = {k: list(slots) for k, slots in frees_at.items()}
    freed_at = {s: k for k, slots in frees_at.items() for s in slots}
    for k, source in buffers.items():
        step = freed_at.get(source)
        if step != k:
            if step is not None:
                moved[step].remove(source)
            moved.setdefault(k, []).append(source)
    return moved


def writing_into(ufunc, arity: int):
    """The ufunc called with one more argument, an array to write the result into, used when it
    has the result's shape, the ufunc's loop yields its dtype exactly (``casting="equiv"``) and,
    unless it is an input itself, numpy would lay the result out in C order too (a reduction or
    matmul downstream sums in memory order); otherwise the plain call, so a value, shape or
    dtype never changes."""
    if arity == 1:
        def one(a, out):
            try:
                if a.shape == out.shape and (out is a or _c_ordered(a)):
                    return ufunc(a, out=out, casting="equiv")
            except (AttributeError, TypeError):       # not an array; a cast would be needed
                pass
            return ufunc(a)
        return one

    def two(a, b, out):
        try:
            shape = out.shape
            if ((getattr(a, "shape", ()) == shape or getattr(b, "shape", ()) == shape
                    or np.broadcast_shapes(np.shape(a), np.shape(b)) == shape)
                    and (out is a or out is b or (_c_ordered(a) and _c_ordered(b)))):
                return ufunc(a, b, out=out, casting="equiv")
        except (TypeError, ValueError):
            pass
        return ufunc(a, b)
    return two


def writing_in_place(ufunc, arity: int):
    """``writing_into`` for a step whose buffer is one of its own operands: the result keeps
    that operand's shape and memory order, so only the dtype (``casting="equiv"``) and the
    broadcast are left to check, by the call itself; the plain call where either fails."""
    if arity == 1:
        def one(a, out):
            try:
                return ufunc(a, out=out, casting="equiv")
            except (TypeError, ValueError):
                return ufunc(a)
        return one

    def two(a, b, out):
        try:
            return ufunc(a, b, out=out, casting="equiv")
        except (TypeError, ValueError):
            return ufunc(a, b)
    return two


def _c_ordered(value) -> bool:
    """True when a ufunc's result on ``value`` comes out in C order: fewer than two axes, or
    strides that do not grow from one axis to the next (C-contiguous, sliced or broadcast)."""
    strides = getattr(value, "strides", ())
    return len(strides) < 2 or all(s >= t for s, t in zip(strides, strides[1:]))


def constant_template(nodes: list, calls: dict, arguments: dict, views: bool = True) -> tuple:
    """(template, viewed): per slot, the value known at compile time (None for the others): the
    constants, and each built-in op (``calls[k]`` on the slots ``arguments[k]``) whose inputs
    are all known, computed once here when its result is small (``FOLD_BYTES``) or a view, and
    frozen read-only (an op that raises is left to raise per call). With ``views``, a constant
    whose elements are all bit-identical and which only ufuncs of its own shape read becomes a
    read-only broadcast view of one element (the same values, read without memory traffic);
    ``viewed`` lists the steps reading one, which must ask for a C-ordered result (as the
    C-contiguous constant gave them)."""
    template = [node.value if node.is_const else None for node in nodes]
    viewed = set()
    arrays = [k for k, node in enumerate(nodes) if node.is_const and node.shape] if views else ()
    if arrays:
        readers = {k: [] for k in arrays}
        for j, args in arguments.items():
            for a in args:
                if a in readers:
                    readers[a].append(j)
        for k, steps in readers.items():
            if steps and all(isinstance(calls[j], np.ufunc) and nodes[j].shape == nodes[k].shape
                             for j in steps):
                view = _uniform_view(template[k])
                if view is not template[k]:
                    template[k] = view
                    viewed.update(steps)
    with np.errstate(all="ignore"):
        for k, args in arguments.items():
            if not args or any(template[a] is None for a in args):
                continue
            node = nodes[k]
            if REGISTRY.ops.get(node.op.name) is not node.op:
                continue
            try:
                value = calls[k](*[template[a] for a in args])
            except Exception:            # noqa: BLE001 - it raises again, in order, per call
                continue
            if isinstance(value, np.ndarray):
                if value.flags.owndata and value.nbytes > FOLD_BYTES:
                    continue
            elif not isinstance(value, np.generic):
                continue
            frozen(value)
            if CHECK:
                check_result(node, value)
            template[k] = value
    return template, viewed


FOLD_BYTES = 1 << 16


def frozen(value):
    """``value``, made read-only when it is an array (a value computed once, shared by calls)."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    return value


def _uniform_view(value: np.ndarray) -> np.ndarray:
    flat = value.reshape(-1)
    if flat.size < 2 or value.strides.count(0) == value.ndim:
        return value
    first = flat[:1]
    if flat[-1:].tobytes() != first.tobytes() or flat.tobytes() != first.tobytes() * flat.size:
        return value
    return np.broadcast_to(first.reshape(()), value.shape)


def _type(node: Node) -> str:
    return f"dtype {node.dtype}, shape {node.shape}"


def by_name(inputs) -> dict:
    if type(inputs) is dict and all(type(key) is str for key in inputs):
        return inputs                 # the common case: names already (keys are unique)
    try:
        items = list(inputs.items())
    except AttributeError:
        raise InputError(f"inputs must be a mapping from input names or nodes to values, got "
                         f"{type(inputs).__name__}") from None
    named = {}
    for key, value in items:
        if isinstance(key, Node):
            if not key.is_input:
                raise InputError(f"inputs keys must be input nodes or names, got {key!r}")
            key = key.name
        if not isinstance(key, str):
            raise InputError(f"inputs keys must be input names or nodes, got {key!r}")
        if key in named:
            raise InputError(f"input {key!r} is given twice")
        named[key] = value
    return named


_NUMPY_DTYPES = {name: np.dtype(name) for name in ("float64", "float32", "int64", "bool")}


def check_value(node: Node, value, batch: bool = False) -> np.ndarray:
    """The value for input ``node`` as an array of its dtype and shape, or InputError; with
    ``batch`` the array may carry extra leading (batch) dimensions before the node's shape."""
    name = node.name
    if isinstance(value, Node):
        raise InputError(f"input {name!r}: got a symbolic node; evaluation needs numbers")
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except Exception:
            raise InputError(f"input {name!r}: {value!r} is not numeric") from None
    kind = array.dtype.kind
    if node.dtype == "int64":
        if kind not in "iu":
            raise InputError(f"input {name!r} is int64 (labels/indices) but got values of dtype "
                             f"{array.dtype}; pass integers")
    elif kind not in "biuf":
        raise InputError(f"input {name!r}: expected numbers ({node.dtype}), got "
                         f"{array.dtype} value {value!r}")
    dtype = _NUMPY_DTYPES[node.dtype]
    if array.dtype != dtype:                  # (dtype.name is slow to compute: compare dtypes)
        with np.errstate(over="ignore", invalid="ignore"):   # 1e300 -> float32 is inf, quietly
            array = array.astype(dtype)
    shape = array.shape
    if batch:
        shape = shape[len(shape) - node.ndim:] if len(shape) >= node.ndim else None
    if shape != node.shape:
        expected = f"(batch dims...) + {node.shape}" if batch else str(node.shape)
        raise InputError(f"input {name!r}: expected shape {expected}, got {array.shape}")
    return array
