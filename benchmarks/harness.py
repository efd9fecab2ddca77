"""Timing, error and table helpers shared by the benchmark scripts (the peers' method)."""

from __future__ import annotations

import gc
import statistics
import time
from typing import Callable

import numpy as np

from symgrad.ir import node as node_module


def timed(fn: Callable, *args, **kwargs) -> tuple:
    """(result, wall seconds, process CPU seconds) of one call.

    >>> timed(sum, [1, 2])[0]
    3
    """
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - wall0, time.process_time() - cpu0


def bench(fn: Callable, repeats: int = 7, target: float = 0.05, warmup: int = 2) -> dict:
    """Steady per-call time of ``fn()``: median over ``repeats`` of an inner loop sized to about
    ``target`` seconds, as wall time and process CPU time (the peers' ``harness.bench``).

    >>> sorted(bench(lambda: None, repeats=1, target=0.001))
    ['calls', 'cpu', 'wall']
    """
    for _ in range(warmup):
        fn()
    once = max(timed(fn)[1], 1e-7)
    inner = max(1, int(target / once))
    walls, cpus = [], []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(max(1, repeats)):
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(inner):
                fn()
            walls.append((time.perf_counter() - wall0) / inner)
            cpus.append((time.process_time() - cpu0) / inner)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus),
            "calls": inner * max(1, repeats)}


def fmt_time(seconds: float | None) -> str:
    """A duration with three significant digits in s, ms, µs or ns, as in PEERS.md.

    >>> fmt_time(0.0246), fmt_time(4.0e-05), fmt_time(None)
    ('24.6 ms', '40 µs', '-')
    """
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_eval(stats: dict) -> str:
    """'wall [cpu]' of a ``bench`` result.

    >>> fmt_eval({"wall": 4e-05, "cpu": 4e-05})
    '40 µs [40 µs]'
    """
    return f"{fmt_time(stats['wall'])} [{fmt_time(stats['cpu'])}]"


def max_errors(got, expected) -> tuple:
    """(max absolute error, norm-wise relative error = max abs error / max |expected|).

    >>> max_errors([1.0, 2.0], [1.0, 2.5])
    (0.5, 0.2)
    """
    got = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        raise ValueError(f"result has shape {got.shape}, the reference {expected.shape}")
    abs_err = float(np.abs(got - expected).max(initial=0.0))
    scale = float(np.abs(expected).max(initial=0.0))
    return abs_err, abs_err / scale if scale > 0 else abs_err


def markdown_table(headers: list, rows: list) -> str:
    """A GitHub markdown table (``|`` inside cells escaped).

    >>> print(markdown_table(["a", "b"], [[1, "x"]]))
    | a | b |
    |---|---|
    | 1 | x |
    """
    def cell(value):
        return str(value).replace("|", "\\|")
    lines = ["| " + " | ".join(map(cell, headers)) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def collect() -> None:
    """Free the previous case's graphs before the next one is timed: run the garbage collector,
    then drop the intern table's entries that nothing else references, so that a case never
    reuses (or is charged for) nodes of an earlier case."""
    gc.collect()
    drop_dead = getattr(node_module, "_collect", None)
    if drop_dead is not None:
        drop_dead()


def intern_table_size() -> int:
    """Number of entries in symgrad's intern table (0 if it is not a sized mapping)."""
    table = getattr(node_module, "_TABLE", None)
    try:
        return len(table)
    except TypeError:
        return 0


def compile_and_time(graph, inputs: dict, repeats: int) -> dict:
    """Compile ``graph``, make its first call and measure steady calls.

    Returns ``{"fn", "t_compile", "t_first", "cpu", "eval", "outputs"}``: wall seconds of
    compile and first call, their CPU seconds together, and the ``bench`` result.
    """
    import symgrad as sg

    fn, t_compile, c_compile = timed(sg.compile, graph)
    outputs, t_first, c_first = timed(fn, inputs)
    steady = bench(lambda: fn(inputs), repeats=repeats)
    return {"fn": fn, "t_compile": t_compile, "t_first": t_first, "cpu": c_compile + c_first,
            "eval": steady, "outputs": outputs}


def detail(**times) -> str:
    """'name time, name time, ...' for the build-detail column (None entries left out).

    >>> detail(build=0.001, grad=None)
    'build 1 ms'
    """
    return ", ".join(f"{name.replace('_', ' ')} {fmt_time(t)}" for name, t in times.items()
                     if t is not None)


def fmt_one_off(row: dict) -> str:
    """'wall [cpu]' of a row's one-off cost.

    >>> fmt_one_off({"one_off": 0.02, "one_off_cpu": 0.01})
    '20 ms [10 ms]'
    """
    return f"{fmt_time(row['one_off'])} [{fmt_time(row['one_off_cpu'])}]"


def call_with_timeout(fn: Callable, args: tuple, timeout: float | None):
    """``fn(*args)`` in a forked child process, killed after ``timeout`` seconds (the peers'
    isolation); returns the result, or None on timeout. Without a timeout, runs in-process.

    >>> call_with_timeout(max, (1, 2), None)
    2
    """
    if timeout is None:
        return fn(*args)
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_send_result, args=(sender, fn, args), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            child.kill()
            return None
        status, value = receiver.recv()
    except EOFError:
        status, value = "error", "the child process died without a result"
    finally:
        child.join()
    if status == "error":
        raise RuntimeError(f"benchmark case {fn.__name__}{args} failed: {value}")
    return value


def _send_result(sender, fn, args) -> None:
    try:
        sender.send(("ok", fn(*args)))
    except Exception as exc:  # reported by the parent with the case that failed
        sender.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()
