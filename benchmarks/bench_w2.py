"""W2: Hessian of the extended Rosenbrock function, dense (sg.hessian) and sparse
(sg.hessian(sparse=True): structural pattern, star colouring, one HVP per colour).

Two forms: scalar-unrolled (one ``sg.var`` per coordinate, as sympy and CasADi SX) and
vectorised with slicing and ``sg.sum`` (as JAX, PyTensor and torch). Checked against the
closed-form tridiagonal Hessian. Peers run live when importable (CasADi SX, sparse with its
own star colouring; JAX jit hessian, dense): run in an environment that has them, e.g.
``python -m venv /tmp/benchvenv --system-site-packages && /tmp/benchvenv/bin/pip install
casadi`` then ``/tmp/benchvenv/bin/python -m benchmarks.bench_w2`` from the repository root
(``--sizes 10 100`` for a quick run, ``--growth 1000 10000 100000`` for the growth table).
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse  # noqa: F401  imported before any timing, as the peers' own packages are

import symgrad as sg
from symgrad.ir import REGISTRY

from . import peers
from . import workloads as wl
from .harness import (bench, call_with_timeout, collect, compile_and_time, detail, fmt_eval,
                      fmt_one_off, fmt_time, markdown_table, max_errors, timed)

FORMS = ("scalar", "vector", "vector sparse", "scalar sparse")
DENSE_LIMIT = 2000          # above this n the dense closed form is not built for the check


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
    if form.startswith("scalar"):
        xs = [sg.var(f"x{i}") for i in range(n)]
        return wl.rosen_scalar(xs), xs, {f"x{i}": float(v) for i, v in enumerate(x0)}
    x = sg.var("x", shape=(n,))
    return wl.rosen_vec(x, REGISTRY.functions["sum"]), [x], {"x": x0}


def rosen_hess_sparse(x):
    """The closed-form tridiagonal Hessian as a csr_array with all 3n-2 entries stored.

    >>> rosen_hess_sparse(np.ones(2)).toarray().tolist()
    [[802.0, -400.0], [-400.0, 200.0]]
    """
    diag, off = wl.rosen_hess_bands(x)
    n = diag.size
    i = np.arange(n)
    rows = np.concatenate([i, i[:-1], i[1:]])
    cols = np.concatenate([i, i[1:], i[:-1]])
    return scipy.sparse.csr_array((np.concatenate([diag, off, off]), (rows, cols)),
                                  shape=(n, n))


def check(got, n: int) -> dict:
    """Errors against the closed form, and stored entries: all of them for a sparse result
    (its pattern must be exactly the tridiagonal one), the nonzeros of a dense one."""
    x0 = wl.w2_x0(n)
    if isinstance(got, np.ndarray):
        abs_err, rel_err = max_errors(got, wl.rosen_hess_exact(x0))
        return {"abs_err": abs_err, "rel_err": rel_err, "nonzeros": int(np.count_nonzero(got))}
    exact = rosen_hess_sparse(x0)
    same = (got.nnz == exact.nnz and np.array_equal(got.indptr, exact.indptr)
            and np.array_equal(got.indices, exact.indices))
    abs_err = float(abs(got - exact).max())
    return {"abs_err": abs_err, "rel_err": abs_err / float(abs(exact).max()),
            "nonzeros": got.nnz, "pattern_exact": same}


def measure(form: str, n: int, repeats: int = 7) -> dict:
    """One form and size: build f, the Hessian graph, compile, first call, steady calls, error.

    >>> row = measure("vector sparse", 10, repeats=1)
    >>> row["rel_err"] < 1e-12, row["nonzeros"], row["pattern_exact"]
    (True, 28, True)
    """
    collect()
    (f, wrt, values), t_build, c_build = timed(build, form, n)
    G = sg.Graph(f)
    H, t_hess, c_hess = timed(sg.hessian, G, wrt, sparse=form.endswith("sparse"))
    timing = compile_and_time(H, values, repeats)
    return {"form": form, "n": n, "len_G": len(G), "len_H": len(H), "t_build": t_build,
            "t_hess": t_hess, "t_compile": timing["t_compile"], "t_first": timing["t_first"],
            "one_off": t_build + t_hess + timing["t_compile"] + timing["t_first"],
            "one_off_cpu": c_build + c_hess + timing["cpu"], "eval": timing["eval"],
            "compressed": H.outputs[0].shape, **check(timing["outputs"][0], n)}


def run(sizes=None, forms=None, repeats: int = 7, timeout: float | None = None) -> list:
    """Measure each form at each size; with ``timeout`` (seconds) each case runs in a child
    process and one that runs over is recorded as a timeout, its larger sizes skipped.

    >>> [r["n"] for r in run([10], ["scalar"], repeats=1)]
    [10]
    """
    rows, failed = [], set()
    for n in wl.W2_SIZES if sizes is None else sizes:
        for form in FORMS if forms is None else forms:
            if form.startswith("vector") and not vector_form_available():
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


# -- live peers ---------------------------------------------------------------------------------
def casadi_row(n: int, repeats: int = 7) -> dict:
    """CasADi SX: symbolic sparse Hessian (its own colouring), one-off and steady evaluation."""
    try:
        import casadi as ca
    except ImportError:
        return {"form": "CasADi SX", "n": n, "missing": "casadi not installed here"}
    x0 = wl.w2_x0(n)

    def one_off():
        x = ca.SX.sym("x", n)
        f = ca.sum1(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
        fn = ca.Function("H", [x], [ca.hessian(f, x)[0]])
        return fn, fn(x0)
    (fn, first), t_one, c_one = timed(one_off)
    got = first.sparse().tocsr() if hasattr(first, "sparse") else first
    steady = bench(lambda: fn(x0), repeats=repeats)
    return {"form": "CasADi SX", "n": n, "one_off": t_one, "one_off_cpu": c_one,
            "eval": steady, **check(got, n)}


def jax_row(n: int, repeats: int = 7) -> dict:
    """JAX: jit of the dense jax.hessian (no sparsity), one-off and steady evaluation."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {"form": "JAX jit hessian", "n": n, "missing": "jax not installed here"}
    if n > DENSE_LIMIT:
        return {"form": "JAX jit hessian", "n": n, "missing": f"dense n x n above n = "
                                                               f"{DENSE_LIMIT}"}
    jax.config.update("jax_enable_x64", True)
    x0 = jnp.asarray(wl.w2_x0(n))

    def one_off():
        fn = jax.jit(jax.hessian(lambda x: wl.rosen_vec(x, jnp.sum)))
        return fn, fn(x0).block_until_ready()
    (fn, first), t_one, c_one = timed(one_off)
    steady = bench(lambda: fn(x0).block_until_ready(), repeats=repeats)
    return {"form": "JAX jit hessian", "n": n, "one_off": t_one, "one_off_cpu": c_one,
            "eval": steady, **check(np.asarray(first), n)}


# -- reports ------------------------------------------------------------------------------------
LABELS = {"scalar": "symgrad sg.hessian, scalar-unrolled (n sg.var)",
          "vector": "symgrad sg.hessian, vectorised (slicing + sg.sum)",
          "vector sparse": "symgrad sg.hessian(sparse=True), vectorised",
          "scalar sparse": "symgrad sg.hessian(sparse=True), scalar-unrolled"}


def report(rows: list) -> str:
    """One table per n in the layout of the peers' W2 tables."""
    headers = ["peer", "one-off (build + hessian + compile + 1st call): wall [cpu]",
               "build detail", "per eval: wall median [cpu]", "graph size G → H (output)",
               "stored entries", "max abs / rel err", "peer reference (one-off / eval)"]
    parts = []
    for n in dict.fromkeys(r["n"] for r in rows):
        table = []
        for r in (r for r in rows if r["n"] == n):
            label = LABELS.get(r["form"], f"{r['form']} (live, this machine)")
            if "missing" in r:
                table.append([label, f"- ({r['missing']})"] + ["-"] * 6)
                continue
            build_detail = (detail(build=r["t_build"], hessian=r["t_hess"],
                                   compile=r["t_compile"], first_call=r["t_first"])
                            if "t_build" in r else "-")
            sizes = (f"{r['len_G']:,} → {r['len_H']:,} nodes {r['compressed']}"
                     if "len_G" in r else "-")
            exact = "" if r.get("pattern_exact", True) else " (pattern differs!)"
            table.append([label, fmt_one_off(r), build_detail, fmt_eval(r["eval"]), sizes,
                          f"{r['nonzeros']:,}{exact}",
                          f"{r['abs_err']:.1e} / {r['rel_err']:.1e}",
                          peers.peer_column(peers.W2.get(n, []), limit=5)])
        parts.append(f"### W2 Rosenbrock Hessian, n = {n}\n\n" + markdown_table(headers, table))
    return "\n\n".join(parts)


def growth(sizes, repeats: int = 5) -> str:
    """Sparse Hessian of the vectorised form: build (pattern + colouring + graph), compile and
    evaluation time per n, each divided by n, to show linear growth."""
    headers = ["n", "build + colouring", "compile", "per eval", "build / n", "eval / n",
               "colours", "rel err", "pattern exact"]
    table = []
    for n in sizes:
        row = measure("vector sparse", n, repeats)
        per_eval = row["eval"]["wall"]
        table.append([f"{n:,}", fmt_time(row["t_build"] + row["t_hess"]),
                      fmt_time(row["t_compile"]), fmt_time(per_eval),
                      fmt_time((row["t_build"] + row["t_hess"]) / n), fmt_time(per_eval / n),
                      str(row["compressed"][1]), f"{row['rel_err']:.1e}",
                      str(row["pattern_exact"])])
    return "### W2 sparse Hessian growth (vectorised form)\n\n" + markdown_table(headers, table)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=None)
    parser.add_argument("--forms", nargs="*", choices=FORMS, default=None)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds per case, in a child process (0: no limit, in-process)")
    parser.add_argument("--no-peers", action="store_true", help="skip the live CasADi/JAX rows")
    parser.add_argument("--growth", type=int, nargs="*", default=None,
                        help="sizes for the sparse growth table, e.g. 1000 10000 100000")
    args = parser.parse_args(argv)
    rows = run(args.sizes, args.forms, args.repeats, args.timeout or None)
    if not args.no_peers:
        for n in wl.W2_SIZES if args.sizes is None else args.sizes:
            rows += [casadi_row(n, args.repeats), jax_row(n, args.repeats)]
    print(report(rows))
    if args.growth:
        print()
        print(growth(args.growth))


if __name__ == "__main__":
    main()
