"""Evaluation per backend (numpy interpreter, generated Python, generated C) on W2-W5, with
CasADi SX measured in the same run, ratios printed. CPU time (``time.process_time``), one BLAS
thread.

Run ``python -m benchmarks.bench_backends`` from the repository root (``--quick`` for the small
sizes). CasADi is never a dependency: install it in the benchmark's own environment
(``python -m venv /tmp/benchvenv --system-site-packages && /tmp/benchvenv/bin/pip install casadi``
then ``/tmp/benchvenv/bin/python -m benchmarks.bench_backends``); without it its column is "-".
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import symgrad as sg  # noqa: E402

from . import workloads as wl  # noqa: E402
from .harness import bench, collect, fmt_time, markdown_table  # noqa: E402

BACKENDS = ("numpy", "python", "c")


def _cpu(fn, *args, **kwargs):
    """(result, CPU seconds of this process and of its children, e.g. the C compiler)."""
    def now():
        t = os.times()
        return time.process_time() + t.children_user + t.children_system
    start = now()
    result = fn(*args, **kwargs)
    return result, now() - start


def _nested(f, variables, order):
    level = [f]
    for _ in range(order):
        level = [d for node in level for d in sg.gradients(node, variables).outputs]
    return level


# -- the workloads: (symgrad graph + inputs, CasADi function + argument) ------------------------
def w2(n, sparse=False):
    x0 = wl.w2_x0(n)
    xs = [sg.var(f"x{i}") for i in range(n)]
    H = sg.hessian(sg.Graph(wl.rosen_scalar(xs)), xs, sparse=sparse)
    values = {f"x{i}": float(v) for i, v in enumerate(x0)}

    def casadi(ca):
        x = ca.SX.sym("x", n)
        f = wl.rosen_scalar([x[i] for i in range(n)])
        return ca.Function("F", [x], [ca.hessian(f, x)[0]]), [x0]
    return H, values, casadi


def w2_sparse(n):
    """W2 with ``sparse=True``: the 3n-2 nonzeros by star colouring, returned as a csr_array
    (CasADi's SX Hessian is sparse too)."""
    return w2(n, sparse=True)


def w3(depth):
    w = sg.var("w")
    z = wl.w3_chain(w, depth, sg)
    dz = sg.gradients(z, [w]).outputs[0]
    d2z = sg.gradients(dz, [w]).outputs[0]

    return sg.Graph([z, dz, d2z]), {"w": wl.W3_W0}, lambda ca: w3_casadi(ca, depth)


def w3_casadi(ca, depth):
    """CasADi SX's Function of W3 (z, z', z'') and its arguments."""
    s = ca.SX.sym("w")
    cz = wl.w3_chain(s, depth, ca)
    cdz = ca.jacobian(cz, s)
    return ca.Function("F", [s], [cz, cdz, ca.jacobian(cdz, s)]), [wl.W3_W0]


def w4(n_ops):
    graph, x0 = wl.w4_graph(n_ops), wl.w4_x0()
    xs = [sg.var(f"x{i}") for i in range(len(x0))]
    G = sg.Graph(wl.w4_build(graph, xs, sg))
    B = sg.gradients(G, xs)

    def casadi(ca):
        x = ca.SX.sym("x", len(x0))
        f = wl.w4_build(graph, [x[i] for i in range(len(x0))], ca)
        return ca.Function("F", [x], [f, ca.gradient(f, x)]), [x0]
    return (sg.Graph([G.output, *B.outputs]), {f"x{i}": float(v) for i, v in enumerate(x0)},
            casadi)


def w5(case):
    if case == "1var":
        variables = [sg.var("x")]
        f, values = wl.w5_f(variables[0], sg), {"x": wl.W5_X0}
    else:
        variables = [sg.var("x"), sg.var("y")]
        f, values = wl.w5_g(*variables, sg), dict(zip("xy", wl.W5_XY0))

    def casadi(ca):
        if case == "1var":
            v = ca.SX.sym("x")
            g, args = wl.w5_f(v, ca), [wl.W5_X0]
        else:
            v = ca.SX.sym("v", 2)
            g, args = wl.w5_g(v[0], v[1], ca), [np.array(wl.W5_XY0)]
        for _ in range(3):
            g = ca.jacobian(ca.vec(g), v)
        return ca.Function("F", [v], [g]), args
    return sg.Graph(_nested(f, variables, 3)), values, casadi


CASES = {"quick": [("W2 n=10", w2, 10), ("W3 depth 1000", w3, 1000), ("W4 1e3 ops", w4, 1000),
                   ("W5 1var", w5, "1var"), ("W5 2var", w5, "2var")],
         "full": [("W2 n=10", w2, 10), ("W2 n=100", w2, 100), ("W2 n=100 sparse", w2_sparse, 100),
                  ("W3 depth 1000", w3, 1000),
                  ("W3 depth 1e4", w3, 10_000), ("W4 1e4 ops", w4, 10_000),
                  ("W4 1e5 ops", w4, 100_000), ("W5 1var", w5, "1var"),
                  ("W5 2var", w5, "2var")]}


def _dense(value) -> np.ndarray:
    return value.toarray() if hasattr(value, "toarray") else np.asarray(value, float)


def measure(label, builder, size, repeats=7, backends=BACKENDS, optimize=True) -> dict:
    """One case: build (CPU), then per backend compile and steady evaluation, and CasADi. The
    numpy interpreter runs the graph as built (the reference); the other backends compile it
    with ``optimize`` (``sg.compile``'s default: True, its time included in "compile")."""
    collect()
    (graph, values, casadi), t_build = _cpu(builder, size)
    row = {"case": label, "nodes": len(graph), "build": t_build, "backends": {}}
    reference = None
    for backend in backends:
        try:
            fn, t_compile = _cpu(sg.compile, graph, backend=backend,
                                 optimize=optimize and backend != "numpy")
        except sg.BackendError as exc:
            row["backends"][backend] = {"error": str(exc).split(";")[0]}
            continue
        outputs = fn(values)
        if reference is None:
            reference = outputs
        err = max(float(np.max(np.abs(_dense(a) - _dense(b)),
                            initial=0.0)) for a, b in zip(outputs, reference))
        row["backends"][backend] = {"compile": t_compile,
                                    "eval": bench(lambda: fn(values), repeats)["cpu"],
                                    "err": err}
    try:
        import casadi as ca  # noqa: PLC0415  (optional, never a dependency)
    except ImportError:
        row["casadi"] = None
    else:
        (F, args), t_casadi = _cpu(casadi, ca)
        F(*args)
        row["casadi"] = {"build": t_casadi, "eval": bench(lambda: F(*args), repeats)["cpu"]}
    return row


def report(rows: list) -> str:
    headers = ["case", "nodes", "backend", "compile [cpu]", "eval [cpu]", "× numpy interp.",
               "× CasADi SX", "max |Δ| vs numpy"]
    table = []
    for row in rows:
        casadi = row["casadi"]
        numpy_eval = row["backends"].get("numpy", {}).get("eval")
        for backend, result in row["backends"].items():
            if "error" in result:
                table.append([row["case"], f"{row['nodes']:,}", backend, "-",
                              result["error"], "-", "-", "-"])
                continue
            table.append([row["case"], f"{row['nodes']:,}", backend,
                          fmt_time(result["compile"]), fmt_time(result["eval"]),
                          f"{result['eval'] / numpy_eval:.3g}",
                          f"{result['eval'] / casadi['eval']:.3g}" if casadi else "-",
                          f"{result['err']:.1e}"])
        if casadi:
            table.append([row["case"], "", "CasADi SX (same run)", fmt_time(casadi["build"]),
                          fmt_time(casadi["eval"]), f"{casadi['eval'] / numpy_eval:.3g}", "1",
                          ""])
    return markdown_table(headers, table)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS),
                        help="backends to measure (numpy first: the ratios' reference)")
    parser.add_argument("--no-optimize", action="store_true",
                        help="compile the python and C backends without sg.optimize")
    args = parser.parse_args(argv)
    rows = []
    for label, builder, size in CASES["quick" if args.quick else "full"]:
        rows.append(measure(label, builder, size, args.repeats, args.backends,
                            not args.no_optimize))
        print(f"measured {label}", flush=True)
    print("\n### Evaluation per backend (CPU time per call; ratios in one run)\n")
    print(report(rows))


if __name__ == "__main__":
    main()
