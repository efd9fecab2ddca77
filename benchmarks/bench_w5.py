"""W5: third derivatives by nesting gradients(): f'''(x0) and the 2x2x2 tensor of g's partials.

Run ``python -m benchmarks.bench_w5`` from the repository root. The reference is exact:
``sympy.diff`` evaluated at 40 digits (``workloads.w5_reference``).
"""

from __future__ import annotations

import argparse

import numpy as np

import symgrad as sg

from . import peers
from . import workloads as wl
from .harness import (collect, compile_and_time, detail, fmt_eval, fmt_one_off, markdown_table,
                      max_errors, timed)

CASES = ("1var", "2var")


def nested_partials(f, variables: list, order: int) -> list:
    """The list of order-``order`` derivative nodes per level: level k holds every k-th partial
    of ``f`` (C order over ``variables``), each from gradients() of the previous level.

    >>> x = sg.var("x")
    >>> [len(level) for level in nested_partials(x ** 3, [x], 3)]
    [1, 1, 1, 1]
    """
    levels = [[f]]
    for _ in range(order):
        levels.append([d for node in levels[-1]
                       for d in sg.gradients(node, variables).outputs])
    return levels


def measure(case: str, repeats: int = 7) -> dict:
    """One case: f''' of w5_f at x0 ("1var") or all 8 third partials of w5_g ("2var").

    >>> measure("1var", repeats=1)["rel_err"] < 1e-12
    True
    """
    collect()
    if case == "1var":
        variables = [sg.var("x")]
        inputs = {"x": wl.W5_X0}
        f, t_build, c_build = timed(wl.w5_f, variables[0], sg)
    else:
        variables = [sg.var("x"), sg.var("y")]
        inputs = dict(zip(("x", "y"), wl.W5_XY0))
        f, t_build, c_build = timed(wl.w5_g, *variables, sg)
    levels, t_grads, c_grads = timed(nested_partials, f, variables, 3)
    program = sg.Graph(levels[3])
    timing = compile_and_time(program, inputs, repeats)
    d3f, tensor = wl.w5_reference()
    expected = [d3f] if case == "1var" else list(tensor.ravel())
    got = [float(v) for v in timing["outputs"]]
    abs_err, rel_err = max_errors(got, expected)
    return {"case": case, "sizes": [len(sg.Graph(level)) for level in levels],
            "t_build": t_build, "t_grads": t_grads, "t_compile": timing["t_compile"],
            "t_first": timing["t_first"],
            "one_off": t_build + t_grads + timing["t_compile"] + timing["t_first"],
            "one_off_cpu": c_build + c_grads + timing["cpu"], "eval": timing["eval"],
            "values": np.array(got), "abs_err": abs_err, "rel_err": rel_err}


def run(cases=None, repeats: int = 7) -> list:
    """Measure both cases (or those named).

    >>> [r["case"] for r in run(["1var"], repeats=1)]
    ['1var']
    """
    return [measure(c, repeats) for c in (CASES if cases is None else cases)]


def report(rows: list) -> str:
    """One table per case in the layout of the peers' W5 tables."""
    titles = {"1var": "W5 1var: f'''(0.7), f = exp(sin x)·x³/(1+x²)",
              "2var": "W5 2var: all 8 third partials of g = exp(sin(xy))·x³y/(1+x²+y²) at "
                      "(0.7,-0.4)"}
    headers = ["peer", "one-off (build + 3 nested gradients + compile + 1st call): wall [cpu]",
               "build detail", "per eval: wall median [cpu]", "graph size f→f'→f''→f'''",
               "max abs / rel err vs sympy.diff (40 digits)", "peer reference (one-off / eval)",
               "peer graph sizes"]
    parts = []
    for r in rows:
        row = ["symgrad nested gradients + compile", fmt_one_off(r),
               detail(build=r["t_build"], nested_gradients=r["t_grads"],
                      compile=r["t_compile"], first_call=r["t_first"]),
               fmt_eval(r["eval"]), "→".join(f"{s:,}" for s in r["sizes"]) + " nodes",
               f"{r['abs_err']:.1e} / {r['rel_err']:.1e}",
               peers.peer_column(peers.W5[r["case"]], limit=5), peers.W5_SIZES[r["case"]]]
        parts.append(f"### {titles[r['case']]} (symgrad)\n\n" + markdown_table(headers, [row]))
    return "\n\n".join(parts)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", choices=CASES, default=None)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(report(run(args.cases, args.repeats)))


if __name__ == "__main__":
    main()
