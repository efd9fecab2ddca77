"""Throughput of batched evaluation on dask: W5's third derivative over many points.

The single-process batched program (``sg.compile(graph, batched=True)`` on numpy arrays) is
the baseline; the same program on ``dask.array`` inputs runs chunk by chunk on a
``dask.distributed.LocalCluster`` with 1 and 2 single-threaded worker processes. Points per
second of wall time (the work is spread over processes, so per-process CPU time does not
measure it), peak resident memory per worker. dask is an optional extra (``symgrad[dask]``).

Run: ``python -m benchmarks.bench_dask [--points 10000000] [--chunk 500000]``
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import symgrad as sg  # noqa: E402


def w5_third() -> sg.Graph:
    """d³g/dx²dy of W5's g(x, y) = exp(sin(x y)) x³ y / (1 + x² + y²), by nesting gradients."""
    x, y = sg.var("x"), sg.var("y")
    g = sg.exp(sg.sin(x * y)) * x ** 3 * y / (1 + x ** 2 + y ** 2)
    return sg.gradients(sg.gradients(sg.gradients(g, [x]), [x]), [y])


def peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def single_process(fn, n: int, chunk: int) -> float:
    """Points per second of the batched numpy program, chunk by chunk in this process."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    total = 0.0
    for lo in range(0, n, chunk):
        size = min(chunk, n - lo)
        total += float(fn(x=rng.uniform(-2, 2, size), y=rng.uniform(-2, 2, size))[0].sum())
    assert np.isfinite(total)
    return n / (time.perf_counter() - start)


def on_cluster(fn, n: int, chunk: int, workers: int) -> tuple:
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        px = da.random.default_rng(0).uniform(-2, 2, n, chunks=chunk)
        py = da.random.default_rng(1).uniform(-2, 2, n, chunks=chunk)
        values, = fn(x=px, y=py)
        client.compute(values[:chunk].sum(), sync=True)         # warm the workers up
        start = time.perf_counter()
        total = client.compute(values.sum(), sync=True)
        elapsed = time.perf_counter() - start
        assert np.isfinite(total)
        peaks = client.run(peak_rss_mb)
    return n / elapsed, max(peaks.values())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=500_000)
    args = parser.parse_args(argv)
    graph = w5_third()
    fn = sg.compile(graph, batched=True)
    print(f"W5 d3g/dx2dy ({len(graph)} nodes) at {args.points:,} points, chunks of "
          f"{args.chunk:,}; os.cpu_count() = {os.cpu_count()}")
    base = single_process(fn, args.points, args.chunk)
    rows = [("single process, batched numpy", base, None)]
    for workers in (1, 2):
        rate, peak = on_cluster(fn, args.points, args.chunk, workers)
        rows.append((f"dask LocalCluster, {workers} worker(s)", rate, peak))
    print("| engine | points/s | vs single process | peak RSS per worker |")
    print("|---|---|---|---|")
    for name, rate, peak in rows:
        shown = "-" if peak is None else f"{peak:.0f} MB"
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f} | {shown} |")
    print(f"2 workers / 1 worker: {rows[2][1] / rows[1][1]:.2f} (goal >= 1.6)")


if __name__ == "__main__":
    main()
