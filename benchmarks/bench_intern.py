"""Node-creation cost: CPU time to build a chain ``h = h * 1.5`` of 10^5 nodes (issue 7: the
interning lock must cost under 10%). Every node is new, so each one takes the full path:
lift, type rule, table lookup and insert, and the table's collections.

    python -m benchmarks.bench_intern [--nodes 100000] [--rounds 7]

To compare with another checkout, run the same file with that checkout first on the path:
``PYTHONPATH=/path/to/other python benchmarks/bench_intern.py``.
"""

from __future__ import annotations

import argparse
import time

import symgrad as sg


def chain_seconds(nodes: int) -> float:
    """CPU seconds to build one chain of ``nodes`` multiplications."""
    h = sg.var("x")
    start = time.process_time()
    for _ in range(nodes):
        h = h * 1.5
    return time.process_time() - start


def run(nodes: int = 100_000, rounds: int = 7) -> float:
    """The best of ``rounds`` chains, in microseconds per node."""
    return min(chain_seconds(nodes) for _ in range(rounds)) / nodes * 1e6


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"{run(args.nodes, args.rounds):.2f} us per node ({sg.__file__})")


if __name__ == "__main__":
    main()
