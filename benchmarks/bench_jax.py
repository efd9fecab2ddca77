"""Scale-out benchmarks: symgrad graphs exported with ``sg.to_jax`` against JAX itself.

W1 (MLP gradient): the symgrad gradient graph exported and jitted, against JAX's own
``jit(value_and_grad)`` of the same function written in ``jax.numpy``; W3 (chain z, z', z'')
and W4 (random DAG gradient): the exported graph's jit compile time and per-call time next to
symgrad's numpy interpreter. CPU time (process_time), one BLAS/XLA thread, both sides in the
same run. jax is needed (``pip install "symgrad[jax]"``); it is never a core dependency.

Run: ``python -m benchmarks.bench_jax [--quick]`` from the repository root.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

import argparse  # noqa: E402

import numpy as np  # noqa: E402

import symgrad as sg  # noqa: E402

from .bench_backends import w3, w4  # noqa: E402  (the workloads' graphs and inputs)
from .bench_mlp import LAMBDA, make_problem, symgrad_gradient  # noqa: E402
from .harness import bench, fmt_time, timed  # noqa: E402


def jax_mlp_gradient(jax, jnp):
    """JAX's own gradient of the W1 loss: jit(value_and_grad) over the three weights."""
    def loss(W1, W2, W3, X, y):
        z = jnp.maximum(jnp.maximum(X @ W1, 0) @ W2, 0) @ W3
        ce = jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], 1)[:, 0])
        return ce + LAMBDA * (jnp.sum(W1 * W1) + jnp.sum(W2 * W2))
    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))


def w1_rows(jax, jnp, dtype: str) -> list:
    values = make_problem(dtype)
    ours = jax.jit(sg.to_jax(symgrad_gradient(dtype)))
    theirs = jax_mlp_gradient(jax, jnp)
    args = [jnp.asarray(values[k]) for k in ("W1", "W2", "W3", "X", "y")]
    named = {k: jnp.asarray(v) for k, v in values.items() if k != "lam"}
    got = [np.asarray(a) for a in ours(**named)]
    value, grads = theirs(*args)
    for a, b in zip(got, [value, *grads]):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-9 if dtype == "float64" else 2e-3,
                                   atol=1e-7 if dtype == "float64" else 1e-3)
    t_ours = bench(lambda: [a.block_until_ready() for a in ours(**named)])
    t_theirs = bench(lambda: jax.block_until_ready(theirs(*args)))
    return [f"W1 MLP gradient {dtype}", fmt_time(t_ours["cpu"]), fmt_time(t_theirs["cpu"]),
            f"{t_ours['cpu'] / t_theirs['cpu']:.2f}"]


def scalar_rows(jax, name: str, graph: sg.Graph, values: dict) -> list:
    """JAX export (jit compile on the first call, then per call) next to symgrad's own
    numpy interpreter and generated Python and C backends (compile, then per call)."""
    fn = jax.jit(sg.to_jax(graph))
    _, _, jax_compile = timed(lambda: [a.block_until_ready() for a in fn(**values)])
    expected = sg.compile(graph, optimize=False)(**values)
    err = max(float(np.max(np.abs(np.asarray(a) - b) / (1 + np.abs(b))))
              for a, b in zip(fn(**values), expected))
    row = [name, f"{len(graph)}", fmt_time(jax_compile),
           fmt_time(bench(lambda: [a.block_until_ready() for a in fn(**values)],
                          repeats=5)["cpu"])]
    for backend in ("numpy", "python", "c"):
        try:
            program, _, compile_cpu = timed(sg.compile, graph, backend=backend)
        except sg.BackendError as exc:
            row += ["-", f"({str(exc)[:30]})"]
            continue
        row += [fmt_time(compile_cpu), fmt_time(bench(lambda: program(**values),
                                                      repeats=5)["cpu"])]
    return row + [f"{err:.1e}"]


def table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    args = parser.parse_args(argv)
    import jax
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    print("W1: sg.to_jax + jax.jit vs JAX's own jit(value_and_grad), CPU time per call")
    rows = [w1_rows(jax, jnp, dtype) for dtype in ("float64", "float32")]
    print(table(["workload", "symgrad→JAX", "JAX jit(grad)", "ratio (goal ≤ 1.1)"], rows))
    print("\nW3/W4 exported to JAX (XLA compile on the first call, then per call) vs symgrad's "
          "backends (compile with optimize, then per call); CPU time")
    rows = []
    for depth in ([10, 100] if args.quick else [100, 300]):
        g, values, _ = w3(depth)
        rows.append(scalar_rows(jax, f"W3 depth {depth}", g, values))
    for n_ops in ([100] if args.quick else [1_000]):
        g, values, _ = w4(n_ops)
        rows.append(scalar_rows(jax, f"W4 {n_ops} ops", g, values))
    print(table(["workload", "nodes", "JAX jit compile", "JAX per call", "numpy compile",
                 "numpy per call", "python compile", "python per call", "C compile",
                 "C per call", "JAX max rel err"], rows))


if __name__ == "__main__":
    main()
