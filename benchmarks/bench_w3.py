"""W3: z, z' and z'' of the deep chain z = f(f(...f(w))), f(u) = sin(u) exp(u), by nesting.

Run ``python -m benchmarks.bench_w3`` from the repository root (``--depths 10 50`` for a quick
run). Depths 10, 50, 200, 1000 as the peers, plus 10^4.
"""

from __future__ import annotations

import argparse

import symgrad as sg

from . import peers
from . import workloads as wl
from .harness import (collect, compile_and_time, detail, fmt_eval, fmt_one_off, markdown_table,
                      max_errors, timed)

DEPTHS = [*wl.W3_DEPTHS, 10_000]


def measure(depth: int, repeats: int = 7) -> dict:
    """One depth: chain, first and second derivative by nesting gradients(), one program.

    >>> measure(10, repeats=1)["rel_err"] < 1e-12
    True
    """
    collect()
    w = sg.var("w")
    z, t_chain, c_chain = timed(wl.w3_chain, w, depth, sg)
    B1, t_grad1, c_grad1 = timed(sg.gradients, z, [w])
    dz = B1.outputs[0]
    B2, t_grad2, c_grad2 = timed(sg.gradients, dz, [w])
    d2z = B2.outputs[0]
    program = sg.Graph([z, dz, d2z])
    timing = compile_and_time(program, {"w": wl.W3_W0}, repeats)
    expected = wl.w3_reference(depth)
    errors = [max_errors(float(v), e) for v, e in zip(timing["outputs"], expected)]
    sizes = [len(sg.Graph(node)) for node in (z, dz, d2z)]
    return {"depth": depth, "sizes": sizes, "len_all": len(program),
            "t_chain": t_chain, "t_grad1": t_grad1, "t_grad2": t_grad2,
            "t_compile": timing["t_compile"], "t_first": timing["t_first"],
            "one_off": t_chain + t_grad1 + t_grad2 + timing["t_compile"] + timing["t_first"],
            "one_off_cpu": c_chain + c_grad1 + c_grad2 + timing["cpu"], "eval": timing["eval"],
            "abs_err": max(e[0] for e in errors), "rel_err": max(e[1] for e in errors)}


def run(depths=None, repeats: int = 7) -> list:
    """Measure every depth (default 10, 50, 200, 1000, 10000), smallest first.

    >>> [r["depth"] for r in run([10], repeats=1)]
    [10]
    """
    return [measure(d, repeats) for d in (DEPTHS if depths is None else depths)]


def report(rows: list) -> str:
    """A table in the layout of the peers' W3 table, with their figures in the last column."""
    headers = ["peer", "depth", "one-off (build + grads + compile + 1st call): wall [cpu]",
               "build detail", "per eval (z, z', z''): wall median [cpu]",
               "graph size z → z' → z'' (all three)", "max abs / rel err",
               "peer reference (one-off / eval)"]
    table = [["symgrad gradients∘gradients + compile", r["depth"], fmt_one_off(r),
              detail(chain=r["t_chain"], grad=r["t_grad1"], grad2=r["t_grad2"],
                     compile=r["t_compile"], first_call=r["t_first"]),
              fmt_eval(r["eval"]),
              " → ".join(f"{s:,}" for s in r["sizes"]) + f" ({r['len_all']:,}) nodes",
              f"{r['abs_err']:.1e} / {r['rel_err']:.1e}",
              peers.peer_column(peers.W3.get(r["depth"], []), limit=4)] for r in rows]
    return markdown_table(headers, table)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"### W3 deep chain f(u)=sin(u)·exp(u), z, dz/dw, d²z/dw² at w0={wl.W3_W0} "
          f"(symgrad)\n")
    print(report(run(args.depths, args.repeats)))


if __name__ == "__main__":
    main()
