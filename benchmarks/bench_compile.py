"""Where the python backend's compile time goes: W3 depth 10^4 (z, z', z''; ~3·10^5 nodes).

Prints CPU seconds for ``sg.optimize``, source generation (``sg.to_python``), CPython's own
``compile()`` of that source, and the whole ``sg.compile(graph, backend="python")``; the
issue-8 goal for the whole compile is 1.5 s.

Run: ``python -m benchmarks.bench_compile [--depth 10000]`` from the repository root.
"""

from __future__ import annotations

import argparse

import symgrad as sg

from .bench_backends import w3
from .harness import timed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=10_000)
    args = parser.parse_args(argv)
    graph, _, _ = w3(args.depth)
    optimized, _, t_opt = timed(sg.optimize, graph)
    source, _, t_src = timed(sg.to_python, optimized)
    _, _, t_compile = timed(compile, source, "<symgrad>", "exec")
    _, _, t_total = timed(sg.compile, graph, backend="python")
    print(f"W3 depth {args.depth}: {len(graph):,} nodes, {len(optimized):,} after optimize; "
          f"source {len(source) / 1e6:.1f} MB, {source.count(chr(10)):,} lines")
    print(f"| step | CPU s |\n|---|---|\n| sg.optimize | {t_opt:.2f} |\n"
          f"| source generation | {t_src:.2f} |\n| CPython compile() | {t_compile:.2f} |\n"
          f"| sg.compile(backend='python'), all | {t_total:.2f} (goal 1.5) |")


if __name__ == "__main__":
    main()
