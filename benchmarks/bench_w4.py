"""W4: value and gradient of the big random scalar DAG wrt its 100 inputs (1e3, 1e4, 1e5 ops).

Run ``python -m benchmarks.bench_w4`` from the repository root (``--sizes 1000`` for a quick run).
"""

from __future__ import annotations

import argparse

import symgrad as sg

from . import peers
from . import workloads as wl
from .harness import (collect, compile_and_time, detail, fmt_eval, fmt_one_off, fmt_time,
                      markdown_table, max_errors, timed)


def measure(n_ops: int, repeats: int = 7) -> dict:
    """One size: build G, gradients B, compile value+grad, first call, steady calls, errors.

    >>> measure(1000, repeats=1)["rel_err"] < 1e-12
    True
    """
    collect()
    graph = wl.w4_graph(n_ops)
    x0 = wl.w4_x0()
    inputs = {f"x{i}": float(v) for i, v in enumerate(x0)}

    def build():
        xs = [sg.var(name) for name in inputs]
        return sg.Graph(wl.w4_build(graph, xs, sg)), xs

    (G, xs), t_build, c_build = timed(build)
    B, t_grad, c_grad = timed(sg.gradients, G, xs)
    value_and_grad = sg.Graph([G.output, *B.outputs])
    timing = compile_and_time(value_and_grad, inputs, repeats)
    value, grad = wl.w4_reference(n_ops, x0)
    abs_err, rel_err = max_errors([float(v) for v in timing["outputs"]], [value, *grad])
    one_off = t_build + t_grad + timing["t_compile"] + timing["t_first"]
    return {"n_ops": n_ops, "total_ops": n_ops + wl.W4_N_OUT - 1, "len_G": len(G),
            "len_B": len(B), "len_eval": len(value_and_grad), "t_build": t_build,
            "t_grad": t_grad, "t_compile": timing["t_compile"], "t_first": timing["t_first"],
            "one_off": one_off, "one_off_cpu": c_build + c_grad + timing["cpu"],
            "eval": timing["eval"], "abs_err": abs_err, "rel_err": rel_err}


def run(sizes=None, repeats: int = 7) -> list:
    """Measure every size (default W4_SIZES), smallest first.

    >>> [r["n_ops"] for r in run([1000], repeats=1)]
    [1000]
    """
    return [measure(n, repeats) for n in (wl.W4_SIZES if sizes is None else sizes)]


def report(rows: list) -> str:
    """A table in the layout of the peers' W4 table, with their figures in the last column."""
    headers = ["peer", "ops", "one-off (build + grad + compile + 1st call): wall [cpu]", "per op",
               "build detail", "per eval (value+grad): wall median [cpu]", "graph size",
               "max abs / rel err", "peer reference (one-off / eval)"]
    table = [["symgrad gradients + compile", f"{r['total_ops']:,}", fmt_one_off(r),
              fmt_time(r["one_off"] / r["total_ops"]),
              detail(graph=r["t_build"], grad=r["t_grad"], compile=r["t_compile"],
                     first_call=r["t_first"]),
              fmt_eval(r["eval"]), f"G {r['len_G']:,} → B {r['len_B']:,} nodes",
              f"{r['abs_err']:.1e} / {r['rel_err']:.1e}",
              peers.peer_column(peers.W4.get(r["n_ops"], []))] for r in rows]
    stats = [f"- n_ops={r['n_ops']:,}: {wl.w4_stats(r['n_ops'])}" for r in rows]
    return "\n".join(stats) + "\n\n" + markdown_table(headers, table)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print("### W4 random scalar DAG, gradient wrt 100 inputs (symgrad)\n")
    print(report(run(args.sizes, args.repeats)))


if __name__ == "__main__":
    main()
