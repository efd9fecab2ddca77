"""Benchmark: symgrad's compiled MLP gradient graph against hand-written numpy (Algorithm 4).

X 128x784, W1 784x256, W2 256x256, W3 256x10 (no biases), relu, softmax cross-entropy plus
lambda * (|W1|^2 + |W2|^2) with lambda = 1e-4; seeded data (default_rng(1), He init). Both
sides compute the loss and the three weight gradients; the table gives per-call medians and
their ratio per backend (numpy interpreter, generated Python), measured in the same run, with
BLAS and OpenMP pinned to one thread; every timed call directly follows an untimed call of the
same function (the steady state of a training loop, the same for every side).

Run: ``python benchmarks/bench_mlp.py [--repeats 300] [--backend numpy python]``
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"          # before numpy is imported: one BLAS thread

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout
import symgrad as sg  # noqa: E402

BATCH, SIZES, CLASSES, LAMBDA = 128, (784, 256, 256), 10, 1e-4


def make_problem(dtype: str) -> dict:
    """Seeded inputs X, y and He-initialised W1, W2, W3 of ``dtype``."""
    rng = np.random.default_rng(1)
    dims = SIZES + (CLASSES,)
    values = {"X": rng.standard_normal((BATCH, dims[0])).astype(dtype),
              "y": rng.integers(0, CLASSES, size=BATCH).astype(np.int64)}
    for k in range(3):
        scale = np.sqrt(2.0 / dims[k])
        values[f"W{k + 1}"] = (rng.standard_normal((dims[k], dims[k + 1])) * scale).astype(dtype)
    return values


def symgrad_gradient(dtype: str) -> sg.Graph:
    """The compiled-to-be graph: outputs (J, dJ/dW1, dJ/dW2, dJ/dW3)."""
    dims = SIZES + (CLASSES,)
    X = sg.var("X", (BATCH, dims[0]), dtype)
    y = sg.var("y", (BATCH,), "int64")
    W1, W2, W3 = (sg.var(f"W{k + 1}", (dims[k], dims[k + 1]), dtype) for k in range(3))
    h1 = sg.relu(X @ W1)
    h2 = sg.relu(h1 @ W2)
    J = sg.cross_entropy(h2 @ W3, y) + LAMBDA * (sg.sum(W1 * W1) + sg.sum(W2 * W2))
    B = sg.gradients(J, [W1, W2, W3])
    return sg.Graph([J, *B.outputs], B.inputs)


def numpy_gradient(X, y, W1, W2, W3):
    """Hand-written forward and backward pass (Algorithm 3, then Algorithm 4)."""
    a1 = X @ W1
    h1 = np.maximum(a1, 0)
    a2 = h1 @ W2
    h2 = np.maximum(a2, 0)
    z = h2 @ W3
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = np.mean(np.log(total[:, 0]) - shifted[rows, y])
    J = loss + LAMBDA * (np.sum(W1 * W1) + np.sum(W2 * W2))
    g = e / total                               # g <- dJ/dz = (softmax - onehot) / N
    g[rows, y] -= 1
    g /= len(y)
    dW3 = h2.T @ g
    g = g @ W3.T                                # dJ/dh2
    g *= a2 > 0                                 # dJ/da2 = g * relu'(a2)
    dW2 = h1.T @ g + (2 * LAMBDA) * W2
    g = g @ W2.T
    g *= a1 > 0
    dW1 = X.T @ g + (2 * LAMBDA) * W1
    return [J, dW1, dW2, dW3]


def alternated_times(sides: dict, reference, repeats: int) -> dict:
    """Per-call wall and CPU (process) seconds of each function of ``sides`` and of
    ``reference``, all called in turn, after a warm-up: per side, the medians and the median of
    its per-round ratios to the reference's call of the same round (a drift in machine speed,
    frequent on a shared host, hits every call of a round alike).

    Each timed call follows an untimed call of the same function, as in a training loop: the
    call that follows a different function pays for the caches and heap that function left
    (measured twice per round, one compiled program gave ratios 1.033 and 1.026, 1.039 and
    1.020, when each call directly followed the other side's), which favoured whichever side
    came later in the round."""
    fns = [*sides.values(), reference]
    for _ in range(5):
        for fn in fns:
            fn()
    wall, cpu = [[] for _ in fns], [[] for _ in fns]
    for _ in range(repeats):
        for side, fn in enumerate(fns):
            fn()
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            cpu[side].append(time.process_time() - start_cpu)
            wall[side].append(time.perf_counter() - start)
    wall, cpu = np.array(wall), np.array(cpu)
    return {name: {"wall": (float(np.median(wall[i])), float(np.median(wall[-1]))),
                   "cpu": (float(np.median(cpu[i])), float(np.median(cpu[-1]))),
                   "ratio": {"cpu": float(np.median(cpu[i] / np.maximum(cpu[-1], 1e-9))),
                             "wall": float(np.median(wall[i] / wall[-1]))}}
            for i, name in enumerate(sides)}


def run(dtype: str, repeats: int, backends=("numpy", "python")) -> dict:
    """{backend: times} of the compiled gradient per backend against the hand-written numpy,
    all measured in one alternating loop, after checking every backend's outputs."""
    values = make_problem(dtype)
    graph, ref = symgrad_gradient(dtype), numpy_gradient(**values)
    tol = 1e-10 if dtype == "float64" else 2e-4
    sides = {}
    for backend in backends:
        fn = sg.compile(graph, backend=backend)
        for a, b in zip(fn(**values), ref):
            assert a.dtype == np.dtype(dtype), f"symgrad returned {a.dtype}, expected {dtype}"
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 1e-2)
        sides[backend] = (lambda fn: lambda: fn(**values))(fn)
    return alternated_times(sides, lambda: numpy_gradient(**values), repeats)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--backend", nargs="+", default=["numpy", "python"],
                        choices=("numpy", "python"), help="backends measured (default: both)")
    args = parser.parse_args(argv)
    print(f"MLP gradient, X {BATCH}x{SIZES[0]}, W {SIZES[0]}x{SIZES[1]}x{SIZES[2]}x{CLASSES}, "
          f"relu, cross-entropy + L2; BLAS threads = 1 (OPENBLAS/OMP/MKL_NUM_THREADS=1)")
    print("calls alternate (each backend, then the hand-written numpy; each timed call right "
          "after an untimed one of the same function); per-call medians (wall = perf_counter, "
          "cpu = process_time, steadier on a busy host); ratio = median of the per-round ratios "
          "to the hand-written numpy")
    print(f"{'dtype':8} {'backend':8} {'clock':5} {'symgrad ms':>11} {'numpy ms':>9} "
          f"{'ratio':>6}  agree")
    for dtype in ("float64", "float32"):
        for backend, times in run(dtype, args.repeats, args.backend).items():
            for clock in ("wall", "cpu"):
                ours, theirs = times[clock]
                print(f"{dtype:8} {backend:8} {clock:5} {ours * 1e3:11.3f} {theirs * 1e3:9.3f} "
                      f"{times['ratio'][clock]:6.3f}  yes")
    print("goal: ratio <= 1.05 (outputs checked equal: rtol 1e-10 float64, 2e-4 float32)")


if __name__ == "__main__":
    main()
