"""Batched evaluation: W5's third derivatives at 10^5 points in one call, per backend, against
``sympy.lambdify(cse=True)`` with numpy on the same points. CPU time, one BLAS thread.

Run ``python -m benchmarks.bench_batched`` from the repository root (``--points 1000`` for a
quick run).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import symgrad as sg  # noqa: E402

from . import workloads as wl  # noqa: E402
from .bench_backends import _cpu, _nested  # noqa: E402
from .harness import bench, fmt_time, markdown_table  # noqa: E402


def measure(case: str, points: int, repeats: int = 5) -> list:
    """Rows (method, setup CPU, per-call CPU, max |difference| vs sympy) for one case."""
    rng = np.random.default_rng(5)
    if case == "1var":
        variables = [sg.var("x")]
        f = wl.w5_f(variables[0], sg)
        values = {"x": rng.uniform(-2, 2, points)}
        symbols = [sp.Symbol("x")]
        exprs = [sp.diff(wl.w5_f(symbols[0], sp), symbols[0], 3)]
    else:
        variables = [sg.var("x"), sg.var("y")]
        f = wl.w5_g(*variables, sg)
        values = {"x": rng.uniform(-1, 1, points), "y": rng.uniform(-1, 1, points)}
        symbols = [sp.Symbol("x"), sp.Symbol("y")]
        g = wl.w5_g(*symbols, sp)
        exprs = [sp.diff(g, a, b, c) for a in symbols for b in symbols for c in symbols]
    graph, t_build = _cpu(lambda: sg.Graph(_nested(f, variables, 3)))
    lam, t_sympy = _cpu(sp.lambdify, symbols, exprs, "numpy", cse=True)
    args = [values[s.name] for s in symbols]
    expected = [np.broadcast_to(e, (points,)) for e in lam(*args)]
    rows = []
    for backend in ("numpy", "python", "c"):
        fn, t_compile = _cpu(sg.compile, graph, backend=backend, batched=True)
        got = fn(values)
        err = max(float(np.max(np.abs(a - b))) for a, b in zip(got, expected))
        rows.append([f"symgrad {backend} batched", fmt_time(t_build + t_compile),
                     bench(lambda: fn(values), repeats, target=0.2)["cpu"], f"{err:.1e}"])
    rows.append(["sympy.lambdify(cse=True)", fmt_time(t_sympy),
                 bench(lambda: lam(*args), repeats, target=0.2)["cpu"], "0"])
    sympy_time = rows[-1][2]
    return [[case, method, setup, fmt_time(t), f"{t / sympy_time:.3g}", err]
            for method, setup, t, err in rows]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rows = measure("1var", args.points, args.repeats) + measure("2var", args.points,
                                                                args.repeats)
    print(f"\n### W5 third derivatives at {args.points:,} points, one batched call "
          f"(CPU time)\n")
    print(markdown_table(["case", "method", "setup [cpu]", "per call [cpu]", "× lambdify",
                          "max |Δ| vs sympy"], rows))


if __name__ == "__main__":
    main()
