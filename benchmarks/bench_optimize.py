"""sg.optimize on W1-W5: node counts before and after, the time optimize takes (by default, with
canonical operand order, and with canonical=False, as sg.compile runs it), and whether the
optimized graphs give the same values bit for bit at the workload's point.

Run ``python -m benchmarks.bench_optimize`` from the repository root (``--quick`` for the
smallest sizes only). "Before" counts the nodes the outputs need (a derivative graph's listing
also holds forward nodes no output uses; those are not counted).
"""

from __future__ import annotations

import argparse

import numpy as np

import symgrad as sg

from . import bench_mlp, bench_w2, bench_w5
from . import workloads as wl
from .harness import collect, markdown_table, timed


def w1() -> tuple:
    """The MLP loss and its three weight gradients (float64)."""
    return bench_mlp.symgrad_gradient("float64"), bench_mlp.make_problem("float64")


def w2(form: str, n: int) -> tuple:
    f, wrt, values = bench_w2.build(form, n)
    return sg.hessian(sg.Graph(f), wrt), values


def w3(depth: int) -> tuple:
    w = sg.var("w")
    z = wl.w3_chain(w, depth, sg)
    dz = sg.gradients(z, [w]).outputs[0]
    d2z = sg.gradients(dz, [w]).outputs[0]
    return sg.Graph([z, dz, d2z]), {"w": wl.W3_W0}


def w4(n_ops: int) -> tuple:
    xs = [sg.var(f"x{i}") for i in range(wl.W4_N_IN)]
    z = wl.w4_build(wl.w4_graph(n_ops), xs, sg)
    B = sg.gradients(z, xs)
    return sg.Graph([z, *B.outputs], B.inputs), {v.name: float(x) for v, x in zip(xs, wl.w4_x0())}


def w5(case: str) -> tuple:
    if case == "1var":
        variables, point = [sg.var("x")], {"x": wl.W5_X0}
        f = wl.w5_f(variables[0], sg)
    else:
        variables = [sg.var("x"), sg.var("y")]
        point = dict(zip(("x", "y"), wl.W5_XY0))
        f = wl.w5_g(*variables, sg)
    return sg.Graph(bench_w5.nested_partials(f, variables, 3)[3]), point


CASES = {
    "W1 MLP loss + 3 gradients": lambda: w1(),
    "W2 Hessian, scalar n=100": lambda: w2("scalar", 100),
    "W2 Hessian, vector n=1000": lambda: w2("vector", 1000),
    "W3 z, z', z'' depth 1000": lambda: w3(1000),
    "W3 z, z', z'' depth 10^4": lambda: w3(10_000),
    "W4 value + gradient, 10^3 ops": lambda: w4(1_000),
    "W4 value + gradient, 10^5 ops": lambda: w4(100_000),
    "W5 f''' (1 var)": lambda: w5("1var"),
    "W5 third partials (2 vars)": lambda: w5("2var"),
}
QUICK = ("W3 z, z', z'' depth 1000", "W4 value + gradient, 10^3 ops", "W5 f''' (1 var)")


def identical(G, O, point) -> bool:
    """Same values bit for bit (NaN = NaN, and the sign of zeros compared)."""
    for a, b in zip(sg.evaluate(G, point), sg.evaluate(O, point)):
        if not (a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
                and np.array_equal(np.signbit(a), np.signbit(b))):
            return False
    return True


def measure(name: str) -> dict:
    """One workload: its graph, optimize's result and time, and a bit-for-bit value check.

    >>> row = measure("W5 f''' (1 var)")
    >>> row["after"] < row["before"] and row["identical"]
    True
    """
    collect()
    G, point = CASES[name]()
    before = len(sg.Graph(G.outputs, G.inputs))
    O, wall, cpu = timed(sg.optimize, G)
    collect()
    C, _, cpu_compile = timed(sg.optimize, G, canonical=False)
    return {"name": name, "before": before, "after": len(O), "wall": wall, "cpu": cpu,
            "compile": len(C), "cpu_compile": cpu_compile,
            "identical": identical(G, O, point) and identical(G, C, point)}


def report(rows: list) -> str:
    headers = ["workload", "nodes before", "after", "after / before",
               "optimize wall [cpu]", "canonical=False (sg.compile's): after, cpu",
               "values bit-identical"]
    return markdown_table(headers, [
        [r["name"], f"{r['before']:,}", f"{r['after']:,}", f"{r['after'] / r['before']:.3f}",
         f"{r['wall']:.3f} s [{r['cpu']:.3f} s]",
         f"{r['compile']:,}, {r['cpu_compile']:.3f} s", "yes" if r["identical"] else "NO"]
        for r in rows])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest sizes only")
    args = parser.parse_args(argv)
    names = QUICK if args.quick else tuple(CASES)
    print(report([measure(name) for name in names]))


if __name__ == "__main__":
    main()
