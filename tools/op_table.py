"""Print the README's op table (op, bprop rule per input, sympy form) from symgrad's registry.

Run ``python tools/op_table.py`` and paste the output into README.md between the op-table
markers, or ``python tools/op_table.py --write`` to replace it there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sympy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symgrad as sg  # noqa: E402
from symgrad.autodiff.explain import formula  # noqa: E402
from symgrad.ir import REGISTRY, toposort  # noqa: E402
from symgrad.ops.shape import slice_axis, sum_to  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- op-table:start -->", "<!-- op-table:end -->"


def _vec(name, n=2):
    return sg.var(name, shape=(n,))


# ops that need particular inputs or params: an expression containing the op once (any other
# op is built by its public function of the same name: on scalars if elementwise, else on a vector)
SAMPLES = {
    "heaviside": lambda: sg.heaviside(sg.var("x"), at0=0.5),
    "cast": lambda: sg.cast(sg.var("x", dtype="float32"), dtype="float64"),
    "where": lambda: sg.where(sg.greater(sg.var("p"), sg.var("q")), sg.var("a"), sg.var("b")),
    "broadcast_to": lambda: sg.broadcast_to(_vec("x"), (3, 2)),
    "sum_to": lambda: sum_to(sg.var("x", shape=(3, 2)), (2,)),
    "reshape": lambda: sg.reshape(_vec("x", 4), (2, 2)),
    "concatenate": lambda: sg.concatenate([_vec("a"), _vec("b")]),
    "slice_axis": lambda: sg.gradients(sg.sum(sg.concatenate([_vec("a"), _vec("b")]) ** 2),
                                       ["a"]).outputs[0],
    "pad_axis": lambda: sg.gradients(sg.sum(slice_axis(_vec("x", 4), 0, 1, 3) ** 2),
                                     ["x"]).outputs[0],
    "transpose": lambda: sg.transpose(sg.var("A", shape=(2, 2))),
    "getitem": lambda: _vec("x", 3)[1:],
    "scatter": lambda: sg.gradients(sg.sum(_vec("x", 3)[1:] ** 2), ["x"]).outputs[0],
    "cross_entropy": lambda: sg.cross_entropy(sg.var("L", shape=(1, 2)),
                                              sg.var("y", shape=(1,), dtype="int64")),
    "exp_minus_onehot": lambda: sg.ops.composite.exp_minus_onehot(
        sg.var("L", shape=(1, 2)), sg.var("y", shape=(1,), dtype="int64")),
    "nll": lambda: sg.ops.composite.nll(sg.var("L", shape=(1, 2)),
                                        sg.var("y", shape=(1,), dtype="int64")),
    "matmul": lambda: sg.matmul(sg.var("A", shape=(2, 2)), sg.var("B", shape=(2, 2))),
    "take": lambda: sg.take(_vec("x", 3), sg.var("i", shape=(2,), dtype="int64")),
    "scatter_add": lambda: sg.gradients(
        sg.sum(sg.take(_vec("x", 3), sg.var("i", shape=(2,), dtype="int64"))), ["x"]).outputs[0],
    "einsum": lambda: sg.einsum("ij,jk->ik", sg.var("A", shape=(2, 2)), sg.var("B", shape=(2, 2))),
    "inv": lambda: sg.linalg.inv(sg.var("A", shape=(2, 2))),
    "det": lambda: sg.linalg.det(sg.var("A", shape=(2, 2))),
    "slogdet_sign": lambda: sg.linalg.slogdet(sg.var("A", shape=(2, 2)))[0],
    "logabsdet": lambda: sg.linalg.slogdet(sg.var("A", shape=(2, 2)))[1],
    "solve": lambda: sg.linalg.solve(sg.var("A", shape=(2, 2)), sg.var("B", shape=(2, 2))),
    "cholesky": lambda: sg.linalg.cholesky(sg.var("A", shape=(2, 2))),
}


def _builders(op):
    if op.name in SAMPLES:
        yield SAMPLES[op.name]
        return
    fn = REGISTRY.functions.get(op.name, op)
    if op.elementwise and not callable(op.bprop):
        names = ["x"] if len(op.bprop) == 1 else ["a", "b", "c"][:len(op.bprop)]
        yield lambda: fn(*[sg.var(n) for n in names])
    elif op.name in REGISTRY.functions:
        yield lambda: fn(_vec("x"))


def sample_node(op):
    """A node of ``op``, from SAMPLES or from its builder on scalars x / a, b or a vector x."""
    for build in _builders(op):
        try:
            root = build()
        except (sg.SymgradError, TypeError):  # the builder wants other arguments
            continue
        for node in toposort([root]):
            if node.op is op:
                return node
    return None


def composite_rows() -> list:
    """One row per public function that is not an op: what it is built from (its docstring)."""
    rows = []
    for name, fn in sorted(REGISTRY.functions.items()):
        if name in REGISTRY.ops or name in ("var", "const"):
            continue
        summary = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        rows.append(f"| `{name}` | `sg.{name}` | composite | {summary.replace('|', '/')} |")
    return rows


def row(op) -> str:
    node = sample_node(op)
    public = (f"`sg.linalg.{op.name}`" if op.name in sg.linalg.__all__ else
              f"`sg.{op.name}`" if op.name in REGISTRY.functions else "internal")
    if node is None:
        return f"| `{op.name}` | {public} | see `symgrad/ops` | {op.doc} |"
    letters = {1: ["x"], 3: ["c", "a", "b"]}.get(len(node.inputs), ["a", "b", "c", "d"])
    known = {}
    for position, parent in enumerate(node.inputs):
        if not parent.is_const:
            known.setdefault(parent, sympy.Symbol(parent.name or letters[position]))
    known[node] = sympy.Symbol("out")
    g = sg.var("g", shape=node.shape, dtype=node.dtype if node.dtype != "bool" else "float64")
    known[g] = sympy.Symbol("g")
    rules = []
    for position in range(len(node.inputs)):
        rule = op.rule(position)
        if rule is None:
            rules.append("none")
            continue
        grad = rule(g, node, *node.inputs, **dict(node.params))
        text = "none" if grad is None else f"`{formula(grad, known, sympy)}`"
        rules.append(" ".join(text.split()))          # constants print over several lines
    return f"| `{op.name}` | {public} | {'; '.join(rules) or '-'} | {sympy_form(node, known)} |"


def sympy_form(node, known) -> str:
    import numpy as np

    if node.op.elementwise:
        args = [known.get(p, None) for p in node.inputs]
        if any(a is None for a in args):
            return "-"
        return f"`{node.op.sympy(sympy, *args, **dict(node.params))}`"
    args = []
    for parent in node.inputs:
        symbol = known.get(parent, sympy.Symbol("k"))
        array = np.empty(parent.shape, dtype=object)
        for index in np.ndindex(parent.shape):
            array[index] = sympy.Symbol("_".join([str(symbol), *map(str, index)]))
        args.append(array)
    try:
        result = node.op.sympy(sympy, *args, **dict(node.params))
    except Exception:
        return "(per element)"
    text = str(np.asarray(result).tolist() if np.ndim(result) else result)
    return f"`{text}`" if len(text) <= 70 else "(per element)"


def table() -> str:
    lines = ["| op | public | bprop: contribution for each input (g = incoming gradient) | "
             "sympy form |", "| --- | --- | --- | --- |"]
    for name, op in REGISTRY.ops.items():
        if name in ("var", "const"):
            continue
        lines.append(row(op))
    return "\n".join(lines + composite_rows())


def main() -> None:
    text = table()
    if "--write" in sys.argv[1:]:
        readme = README.read_text()
        before, rest = readme.split(START, 1)
        _, after = rest.split(END, 1)
        README.write_text(f"{before}{START}\n{text}\n{END}{after}")
    else:
        print(text)


if __name__ == "__main__":
    main()
