"""Where the python backend's compile time goes: W3 depth 10^4 (z, z', z''; ~3·10^5 nodes).

Prints CPU seconds of the one-off (build + gradients + ``sg.compile(backend="python")`` + first
call, measured first, in a fresh process, and its parts: the chain, each ``gradients``, the
``Graph``, the compile, the call), then per step of the compile: ``sg.optimize``, the schedule, the
program's code assembled directly from the schedule (what ``sg.compile`` does for a graph of
scalars, ``backends/bytecode.py``), for comparison the source path (source generation,
``sg.to_python``, and CPython's own ``compile()`` of that source: what graphs with tensors take),
and the whole ``sg.compile(graph, backend="python")``. Steps are timed with Python's cycle
collector paused, as ``sg.compile`` runs them.
Issue-8 goals: the whole compile 1.5 s; the one-off 2 x CasADi's 0.76 s (CasADi SX's one-off
is also measured in the same run, after symgrad's, when casadi is installed).

Run: ``python -m benchmarks.bench_compile [--depth 10000]`` from the repository root.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile

import symgrad as sg
from symgrad.backends.python import PythonProgram
from symgrad.evaluate import Schedule

from . import workloads as wl
from .bench_backends import w3, w3_casadi
from .harness import timed

CASADI_ONE_OFF = 0.76        # s, CasADi SX one-off of W3 depth 1e4 (issue 8's figure)


def one_off(depth: int) -> dict:
    """CPU seconds of build + gradients + python compile + first call, and of each part (the
    steps of ``bench_backends.w3``, timed one by one)."""
    parts: dict = {}

    def step(name, fn, *args):
        result, _, parts[name] = timed(fn, *args)
        return result
    w = sg.var("w")
    z = step("chain", wl.w3_chain, w, depth, sg)
    dz = step("first gradients", lambda: sg.gradients(z, [w]).outputs[0])
    d2z = step("second gradients", lambda: sg.gradients(dz, [w]).outputs[0])
    graph = step("Graph([z, dz, d2z])", sg.Graph, [z, dz, d2z])
    fn = step("sg.compile", lambda: sg.compile(graph, backend="python"))
    step("first call", fn, {"w": wl.W3_W0})
    parts["all"] = sum(parts.values())
    return parts


def casadi_one_off(depth: int) -> float | None:
    """CPU seconds of CasADi SX's one-off on the same chain (build, the two jacobians, the
    Function, first call), or None where casadi is not installed (it is never a dependency:
    install it in the benchmark's own environment)."""
    try:
        import casadi as ca  # noqa: PLC0415
    except ImportError:
        return None

    def run():
        function, arguments = w3_casadi(ca, depth)
        return function(*arguments)
    return timed(run)[2]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SYMGRAD_CACHE"] = cache
        parts = one_off(args.depth)              # first: nothing built or interned yet
        t_casadi = casadi_one_off(args.depth)    # the same run's baseline, if installed
        graph, _, _ = w3(args.depth)
        gc.disable()                             # as sg.compile runs: the collector paused
        optimized, _, t_opt = timed(sg.optimize, graph, canonical=False)  # as sg.compile
        schedule, _, t_schedule = timed(Schedule, optimized)
        _, _, t_assemble = timed(PythonProgram, schedule)
        source, _, t_src = timed(sg.to_python, optimized)
        _, _, t_compile = timed(compile, source, "<symgrad>", "exec")
        gc.enable()
        _, _, t_total = timed(sg.compile, graph, backend="python")
    t_one_off = parts.pop("all")
    print(f"W3 depth {args.depth}: {len(graph):,} nodes, {len(optimized):,} after optimize; "
          f"source {len(source) / 1e6:.1f} MB, {source.count(chr(10)):,} lines")
    print(f"| step | CPU s |\n|---|---|\n| sg.optimize(canonical=False) | {t_opt:.2f} |\n"
          f"| schedule (evaluate.Schedule) | {t_schedule:.2f} |\n"
          f"| code assembled from the schedule (graphs of scalars) | {t_assemble:.2f} |\n"
          f"| source path: source generation (sg.to_python, schedule included) | {t_src:.2f} |\n"
          f"| source path: CPython compile() of it | {t_compile:.2f} |\n"
          f"| sg.compile(backend='python'), all | {t_total:.2f} (goal 1.5) |\n"
          f"| one-off: build + gradients + compile + first call | {t_one_off:.2f} "
          f"(goal {2 * CASADI_ONE_OFF:.2f} = 2 x CasADi) |")
    print("one-off parts: " + ", ".join(f"{name} {t:.2f}" for name, t in parts.items()))
    if t_casadi is not None:
        print(f"CasADi SX one-off, same run: {t_casadi:.2f} s; symgrad / CasADi = "
              f"{t_one_off / t_casadi:.2f} (goal 2)")


if __name__ == "__main__":
    main()
