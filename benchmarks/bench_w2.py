"""W2: Hessian of the extended Rosenbrock function by sg.hessian (nested gradients).

Two forms: scalar-unrolled (one ``sg.var`` per coordinate, as sympy and CasADi SX) and, when the
tensor ops exist, vectorised with slicing and ``sg.sum`` (as JAX, PyTensor and torch). Checked
against the closed-form tridiagonal Hessian. Run ``python -m benchmarks.bench_w2`` from the
repository root (``--sizes 10 100`` for a quick run).
"""

from __future__ import annotations

import argparse

import numpy as np

import symgrad as sg
from symgrad.ir import REGISTRY

from . import peers
from . import workloads as wl
from .harness import (call_with_timeout, collect, compile_and_time, detail, fmt_eval, fmt_one_off,
                      markdown_table, max_errors, timed)

FORMS = ("scalar", "vector")


def vector_form_available() -> bool:
    """True once the tensor ops needed by the vectorised form (slicing, sum) are registered."""
    return "getitem" in REGISTRY.functions and "sum" in REGISTRY.functions


def build(form: str, n: int) -> tuple:
    """(f node, wrt list, input values) of the Rosenbrock function in the given form.

    >>> f, wrt, values = build("scalar", 3)
    >>> len(wrt), len(values)
    (3, 3)
    """
    x0 = wl.w2_x0(n)
    if form == "scalar":
        xs = [sg.var(f"x{i}") for i in range(n)]
        return wl.rosen_scalar(xs), xs, {f"x{i}": float(v) for i, v in enumerate(x0)}
    x = sg.var("x", shape=(n,))
    return wl.rosen_vec(x, REGISTRY.functions["sum"]), [x], {"x": x0}


def measure(form: str, n: int, repeats: int = 7) -> dict:
    """One form and size: build f, sg.hessian, compile, first call, steady calls, error.

    >>> measure("scalar", 10, repeats=1)["abs_err"] < 1e-10
    True
    """
    collect()
    (f, wrt, values), t_build, c_build = timed(build, form, n)
    G = sg.Graph(f)
    H, t_hess, c_hess = timed(sg.hessian, G, wrt)
    timing = compile_and_time(H, values, repeats)
    got = timing["outputs"][0]
    exact = wl.rosen_hess_exact(wl.w2_x0(n))
    abs_err, rel_err = max_errors(got, exact)
    return {"form": form, "n": n, "len_G": len(G), "len_H": len(H), "t_build": t_build,
            "t_hess": t_hess, "t_compile": timing["t_compile"], "t_first": timing["t_first"],
            "one_off": t_build + t_hess + timing["t_compile"] + timing["t_first"],
            "one_off_cpu": c_build + c_hess + timing["cpu"], "eval": timing["eval"],
            "nonzeros": int(np.count_nonzero(got)), "abs_err": abs_err, "rel_err": rel_err}


def run(sizes=None, forms=None, repeats: int = 7, timeout: float | None = None) -> list:
    """Measure each form at each size; the vectorised form is skipped (with a note row) while
    the tensor ops are missing. With ``timeout`` (seconds) each case runs in a child process
    and one that runs over is recorded as a timeout, its larger sizes skipped (as the peers).

    >>> [r["n"] for r in run([10], ["scalar"], repeats=1)]
    [10]
    """
    rows, failed = [], set()
    for n in wl.W2_SIZES if sizes is None else sizes:
        for form in FORMS if forms is None else forms:
            if form == "vector" and not vector_form_available():
                rows.append({"form": form, "n": n, "missing": "needs sg.sum and slicing"})
            elif form in failed:
                rows.append({"form": form, "n": n, "missing": "skipped after a timeout"})
            else:
                row = call_with_timeout(measure, (form, n, repeats), timeout)
                if row is None:
                    failed.add(form)
                    row = {"form": form, "n": n, "missing": f"TIMEOUT after {timeout:g} s"}
                rows.append(row)
    return rows


def report(rows: list) -> str:
    """One table per n in the layout of the peers' W2 tables."""
    headers = ["peer", "one-off (build + hessian + compile + 1st call): wall [cpu]",
               "build detail", "per eval: wall median [cpu]", "graph size G → H",
               "entries computed (nonzero)", "max abs / rel err",
               "peer reference (one-off / eval)"]
    labels = {"scalar": "symgrad sg.hessian, scalar-unrolled (n sg.var)",
              "vector": "symgrad sg.hessian, vectorised (slicing + sg.sum)"}
    parts = []
    for n in dict.fromkeys(r["n"] for r in rows):
        table = []
        for r in (r for r in rows if r["n"] == n):
            if "missing" in r:
                table.append([labels[r["form"]], f"- ({r['missing']})"] + ["-"] * 6)
                continue
            table.append([labels[r["form"]], fmt_one_off(r),
                          detail(build=r["t_build"], hessian=r["t_hess"],
                                 compile=r["t_compile"], first_call=r["t_first"]),
                          fmt_eval(r["eval"]), f"{r['len_G']:,} → {r['len_H']:,} nodes",
                          f"{n * n:,} ({r['nonzeros']:,})",
                          f"{r['abs_err']:.1e} / {r['rel_err']:.1e}",
                          peers.peer_column(peers.W2.get(n, []), limit=5)])
        parts.append(f"### W2 Rosenbrock Hessian, n = {n} (symgrad)\n\n"
                     + markdown_table(headers, table))
    return "\n\n".join(parts)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--forms", nargs="*", choices=FORMS, default=None)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds per case, in a child process (0: no limit, in-process)")
    args = parser.parse_args(argv)
    print(report(run(args.sizes, args.forms, args.repeats, args.timeout or None)))


if __name__ == "__main__":
    main()
