"""Issue 2 performance benchmark: build, gradients(), graph growth, evaluation and memory.

Cases: the W4 random scalar DAG (100 inputs, shared subexpressions, seeded) at 10^4 and 10^5
ops and the W3 chain f(u) = sin(u) exp(u) at depth 10^4. Run ``python -m benchmarks.bench_build``
from the repository root (``--quick`` for small sizes).
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc

import symgrad as sg

from . import workloads as wl
from .harness import (bench, collect, fmt_time, intern_table_size, markdown_table, max_errors,
                      timed)

GOAL_GRAD_PER_NODE = 10e-6      # seconds of gradients() per forward node
GOAL_GROWTH = 4.0               # len(B) / len(G)
GOAL_BYTES_PER_NODE = 1024      # tracemalloc peak of building G and B per node of B

DAG_SIZES = [10_000, 100_000]
CHAIN_DEPTHS = [10_000]


# -- cases: each returns (build function, reference function, label) -------------------------
def dag_case(n_ops: int) -> dict:
    """The W4 DAG: build() -> (output node, wrt nodes); reference() -> (value, gradient).

    >>> dag_case(1000)["label"]
    'W4 DAG 1,000 ops'
    """
    graph = wl.w4_graph(n_ops)
    x0 = wl.w4_x0()

    def build():
        xs = [sg.var(f"x{i}") for i in range(wl.W4_N_IN)]
        return wl.w4_build(graph, xs, sg), xs

    def reference():
        value, grad = wl.w4_reference(n_ops, x0)
        return [value, *grad]

    return {"label": f"W4 DAG {n_ops:,} ops", "build": build, "reference": reference,
            "inputs": {f"x{i}": float(v) for i, v in enumerate(x0)}}


def chain_case(depth: int) -> dict:
    """The W3 chain z = f(...f(w)) and its first derivative.

    >>> chain_case(10)["label"]
    'W3 chain depth 10'
    """
    def build():
        w = sg.var("w")
        return wl.w3_chain(w, depth, sg), [w]

    def reference():
        z, dz, _ = wl.w3_reference(depth)
        return [z, dz]

    return {"label": f"W3 chain depth {depth}", "build": build, "reference": reference,
            "inputs": {"w": wl.W3_W0}}


# -- measurement ------------------------------------------------------------------------------
def measure(case: dict, repeats: int = 7, memory: bool = True) -> dict:
    """Time build, gradients(), compile and evaluation of one case; check the result.

    >>> row = measure(dag_case(1000), repeats=1, memory=False)
    >>> row["rel_err"] < 1e-10
    True
    """
    collect()
    (z, wrt), t_build, c_build = timed(case["build"])
    G, t_graph, c_graph = timed(sg.Graph, z)
    B, t_grad, c_grad = timed(sg.gradients, G, wrt)
    value_and_grad = sg.Graph([z, *B.outputs])
    fn, t_compile, _ = timed(sg.compile, value_and_grad)
    got, t_first, _ = timed(fn, case["inputs"])
    expected = case["reference"]()
    abs_err, rel_err = max_errors([float(v) for v in got], expected)
    steady = bench(lambda: fn(case["inputs"]), repeats=repeats)
    _, t_reference, _ = timed(case["reference"])
    row = {"label": case["label"], "len_G": len(G), "len_B": len(B),
           "len_eval": len(value_and_grad), "t_build": t_build + t_graph,
           "c_build": c_build + c_graph, "t_grad": t_grad, "c_grad": c_grad,
           "t_compile": t_compile, "t_first": t_first, "eval": steady,
           "t_reference": t_reference, "abs_err": abs_err, "rel_err": rel_err}
    del z, wrt, G, B, value_and_grad, fn
    if memory:
        row["peak_bytes"], row["new_nodes"] = peak_memory(case["build"])
    return row


def peak_memory(build) -> tuple:
    """(tracemalloc peak in bytes, nodes created) of building G and its derivative graph B,
    starting from an intern table holding no node of the case."""
    collect()
    before = intern_table_size()
    gc.disable()
    tracemalloc.start()
    try:
        z, wrt = build()
        B = sg.gradients(sg.Graph(z), wrt)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    created = intern_table_size() - before
    del z, wrt, B
    return peak, created


def run(dag_sizes=None, chain_depths=None, repeats: int = 7, memory: bool = True) -> list:
    """Measure every case; a list of result rows (dicts), smallest first.

    >>> [r["label"] for r in run([1000], [10], repeats=1, memory=False)]
    ['W4 DAG 1,000 ops', 'W3 chain depth 10']
    """
    dag_sizes = DAG_SIZES if dag_sizes is None else dag_sizes
    chain_depths = CHAIN_DEPTHS if chain_depths is None else chain_depths
    cases = [dag_case(n) for n in dag_sizes] + [chain_case(d) for d in chain_depths]
    return [measure(case, repeats=repeats, memory=memory) for case in cases]


# -- report -----------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(rows: list) -> str:
    """The results table, then one line per goal with PASS/MISS for each case."""
    headers = ["case", "len(G)", "build G: wall [cpu] (per node)",
               "gradients(): wall [cpu] (per fwd node)", "len(B)/len(G)", "compile",
               "eval value+grad (per node of B)", "pure-Python sweep (per op)", "eval / sweep",
               "memory per node of B", "max abs / rel err"]
    table = []
    for r in rows:
        n = r["len_G"]
        per_node_eval = r["eval"]["wall"] / r["len_B"]
        per_op_ref = r["t_reference"] / n
        memory = (f"{r['peak_bytes'] / r['len_B']:.0f} B" if "peak_bytes" in r else "-")
        table.append([
            r["label"], f"{n:,}",
            f"{fmt_time(r['t_build'])} [{fmt_time(r['c_build'])}] "
            f"({fmt_time(r['c_build'] / n)})",
            f"{fmt_time(r['t_grad'])} [{fmt_time(r['c_grad'])}] ({fmt_time(r['c_grad'] / n)})",
            f"{r['len_B'] / n:.2f}", fmt_time(r["t_compile"]),
            f"{fmt_time(r['eval']['wall'])} ({fmt_time(per_node_eval)})",
            f"{fmt_time(r['t_reference'])} ({fmt_time(per_op_ref)})",
            f"{per_node_eval / per_op_ref:.1f}×", memory,
            f"{r['abs_err']:.1e} / {r['rel_err']:.1e}"])
    lines = [markdown_table(headers, table), "", "Goals (issue 2; gradients() per node from CPU "
             "time, robust to other load on the machine):"]
    for r in rows:
        grad = r["c_grad"] / r["len_G"]
        growth = r["len_B"] / r["len_G"]
        parts = [f"gradients() {fmt_time(grad)}/node < 10 µs: "
                 f"{verdict(grad < GOAL_GRAD_PER_NODE)}",
                 f"len(B)/len(G) {growth:.2f} ≤ 4: {verdict(growth <= GOAL_GROWTH)}"]
        if "peak_bytes" in r:
            per_node = r["peak_bytes"] / r["len_B"]
            parts.append(f"memory {per_node:.0f} B/node < 1 KB: "
                         f"{verdict(per_node < GOAL_BYTES_PER_NODE)} "
                         f"({r['new_nodes']:,} nodes created)")
        lines.append(f"- {r['label']}: " + "; ".join(parts))
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (1e3 ops, depth 1e3)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--nodes", type=int, nargs="+", metavar="N",
                        help="DAG sizes (ops) and chain depths to run instead of the defaults, "
                             "e.g. --nodes 1000000 (scale figures)")
    parser.add_argument("--chain-only", action="store_true", help="skip the DAG cases")
    args = parser.parse_args(argv)
    sizes, depths = ([1_000], [1_000]) if args.quick else (None, None)
    if args.nodes:
        sizes, depths = args.nodes, args.nodes
    if args.chain_only:
        sizes = []
    start = time.perf_counter()
    rows = run(sizes, depths, repeats=args.repeats, memory=not args.no_memory)
    print("### symgrad build / gradients() / evaluation (issue 2 performance goals)\n")
    print(report(rows))
    largest = max(rows, key=lambda r: r["len_B"])
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024     # Linux: KiB
    per_node = peak_rss / largest["len_B"]
    print(f"\npeak RSS of the process {peak_rss / 2**30:.2f} GiB = {per_node:.0f} B per node "
          f"of B for {largest['label']} ({largest['len_B']:,} nodes of B)")
    print(f"\n_total {fmt_time(time.perf_counter() - start)}; per-eval = median of "
          f"{args.repeats} repeats; memory = tracemalloc peak of building G and B / len(B)._")


if __name__ == "__main__":
    main()
