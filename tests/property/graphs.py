"""Random expression DAGs over the whole op set, for the property tests.

The elementwise ops come from the registry, each with its row of tests/ops/specs.py (argument
domains, params, kinks), so a new op with a spec row joins automatically. Every argument is
mapped into its op's domain by ``lo + (hi - lo) * sigmoid(u)``, with ``u`` any earlier node
(earlier nodes are reused at random: shared subexpressions), and ``where``'s conditions come
from the registered comparison and logic ops. Tensor graphs mix shapes (), (3,), (2, 3), so
elementwise ops broadcast, and add reductions, softmax, matmul and transposes.

A ``Chooser`` draws the structure: from hypothesis in the tests, from a numpy generator in the
PYTHONHASHSEED subprocess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import symgrad as sg
from symgrad.ir import REGISTRY
from tests.ops.specs import SPECS_BY_NAME

SHAPES = ((), (3,), (2, 3))


def _output_dtype(spec) -> str:
    args = [sg.greater(sg.var(f"probe{i}"), 0) if arg.cond else sg.var(f"probe{i}")
            for i, arg in enumerate(spec.args)]
    return spec.op(*args, **spec.params).dtype


def _specs_by_output(dtype: str) -> list:
    """Spec rows of the registered elementwise ops whose result (on float64) has ``dtype``."""
    return [SPECS_BY_NAME[name] for name, op in sorted(REGISTRY.ops.items())
            if op.elementwise and name in SPECS_BY_NAME
            and _output_dtype(SPECS_BY_NAME[name]) == dtype]


VALUE_SPECS = _specs_by_output("float64")       # cast to float32 and friends are left out
CONDITION_SPECS = _specs_by_output("bool")      # greater, less, logical_and, …


def _tensor_builders():
    """(name, builder(node, other) -> node or None) for the tensor ops."""
    def reduce_last(fn):
        return lambda x, _: fn(x, axis=-1) if x.shape else None
    return (
        ("sum", lambda x, _: sg.sum(x)),
        ("sum_axis", reduce_last(sg.sum)),
        ("mean", lambda x, _: sg.mean(x)),
        ("max_axis", reduce_last(sg.max)),
        ("logsumexp", lambda x, _: sg.logsumexp(x) if x.shape else None),
        ("softmax", lambda x, _: sg.softmax(x) if x.shape else None),
        ("log_softmax", lambda x, _: sg.log_softmax(x) if x.shape else None),
        ("transpose", lambda x, _: x.T if len(x.shape) == 2 else None),
        ("matmul", lambda x, y: x @ y if x.shape == (2, 3) and y.shape == (3,) else None),
        ("reshape", lambda x, _: sg.reshape(x, (x.size,)) if len(x.shape) == 2 else None),
    )


TENSOR_BUILDERS = _tensor_builders()


def _broadcasts(*shapes) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


class RandomChooser:
    """Draws from a numpy generator (the same choices for the same seed)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def index(self, n: int) -> int:
        return int(self.rng.integers(n))


@dataclass
class RandomGraph:
    """A scalar-output graph, the argument nodes of each kinked op with its ``avoid`` test,
    and the op names used."""

    graph: sg.Graph
    inputs: list                                   # every input drawn, used or not
    kinks: list = field(default_factory=list)      # (avoid, [float argument nodes])
    ops: set = field(default_factory=set)


def squash(node, lo: float, hi: float):
    return lo + (hi - lo) * sg.sigmoid(node)


class _Builder:
    def __init__(self, choose, tensors: bool):
        self.choose, self.tensors = choose, tensors
        count = 1 + choose.index(3)
        shapes = [SHAPES[choose.index(3)] if tensors else () for _ in range(count)]
        self.nodes = [sg.var(f"x{i}", shape=shape) for i, shape in enumerate(shapes)]
        self.kinks, self.ops = [], set()

    def pick(self):
        return self.nodes[-1 - self.choose.index(min(len(self.nodes), 6))]

    def apply(self, spec):
        """``spec``'s op on fresh picks, each argument mapped into its domain."""
        args, floats, avoid, shape = [], [], spec.avoid, ()
        for arg in spec.args:
            picked = self.pick()
            if not _broadcasts(shape, picked.shape):    # (2,) next to (2, 3): use its sum
                picked = sg.sum(picked)
            shape = np.broadcast_shapes(shape, picked.shape)
            value = squash(picked, arg.lo, arg.hi)
            floats.append(value)
            if arg.cond and spec.name == "where":
                condition = self.condition()
                if _broadcasts(shape, condition.shape):
                    value, avoid = condition, None      # its comparison carries the kink
                    shape = np.broadcast_shapes(shape, condition.shape)
                else:
                    value = sg.greater(value, 0)
            elif arg.cond:
                value = sg.greater(value, 0)
            args.append(value)
        if avoid is not None:
            self.kinks.append((avoid, floats))
        self.ops.add(spec.name)
        return spec.op(*args, **spec.params)

    def condition(self):
        return self.apply(CONDITION_SPECS[self.choose.index(len(CONDITION_SPECS))])

    def step(self):
        if self.tensors and self.choose.index(4) == 0:
            name, build = TENSOR_BUILDERS[self.choose.index(len(TENSOR_BUILDERS))]
            node = build(self.pick(), self.pick())
            if node is not None:
                self.ops.add(name)
                self.nodes.append(node)
                return
        self.nodes.append(self.apply(VALUE_SPECS[self.choose.index(len(VALUE_SPECS))]))


def random_graph(choose, tensors: bool, steps: int) -> RandomGraph:
    """A random DAG of ``steps`` op applications; its output is the scalar
    ``sum(last) + sum(an earlier node)``, which shares the earlier node."""
    builder = _Builder(choose, tensors)
    for _ in range(steps):
        builder.step()
    out = sg.sum(builder.nodes[-1]) + sg.sum(builder.pick())
    inputs = [v for v in builder.nodes if v.op.name == "var"]
    return RandomGraph(sg.Graph(out), inputs, builder.kinks, builder.ops)
