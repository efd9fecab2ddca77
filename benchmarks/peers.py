"""Peer figures (CasADi, JAX, PyTensor, sympy, torch) transcribed for side-by-side columns.

Source: the project's peer benchmark report (PEERS.md), complete run of 2026-11-22, same machine
type as ours (2-vCPU AMD EPYC VM), one thread per peer, medians. Each entry is
``(peer, one-off, steady per eval)`` as printed there: one-off = build steps plus the first
call's excess over a steady call. "-" means the peer timed out or failed at that size.
Transcribed by hand; nothing is read from the peers' files at run time.
"""

from __future__ import annotations

W2 = {  # Rosenbrock Hessian, keyed by n
    10: [("CasADi SX", "3.79 ms", "24.5 µs"), ("JAX jit hessian", "128 ms", "23.2 µs"),
         ("PyTensor vectorize (Numba)", "12.1 s", "4.1 µs"),
         ("sympy grad→jacobian+lambdify", "228 ms", "7.75 µs"),
         ("torch.func.hessian", "1.14 s", "1.52 ms")],
    100: [("CasADi SX", "25 ms", "33.4 µs"), ("JAX jit hessian", "110 ms", "27.7 µs"),
          ("PyTensor vectorize (Numba)", "284 ms", "26.5 µs"),
          ("sympy grad→jacobian+lambdify", "2.19 s", "400 µs"),
          ("torch.func.hessian", "327 µs", "1.64 ms")],
    1000: [("CasADi SX", "233 ms", "121 µs"), ("JAX jit hessian", "113 ms", "720 µs"),
           ("PyTensor scan (Numba)", "262 ms", "4.15 ms"),
           ("sympy", "- (timeout 30 s)", "-"), ("torch.func.hessian", "47.6 ms", "22.8 ms")],
}

W3 = {  # deep chain z, z', z'', keyed by depth
    10: [("CasADi SX", "1.03 ms", "9.36 µs"), ("JAX jit", "431 ms", "13.4 µs"),
         ("PyTensor C", "936 ms", "2.91 µs"), ("sympy (cse)", "1.75 s", "1.77 µs"),
         ("torch eager", "14.5 ms", "508 µs")],
    50: [("CasADi SX", "3.1 ms", "12 µs"), ("JAX jit", "2.94 s", "33.2 µs"),
         ("PyTensor C", "1.58 s", "4.1 µs"), ("sympy", "- (timeout)", "-"),
         ("torch eager", "177 µs", "2.54 ms")],
    200: [("CasADi SX", "9.32 ms", "22.1 µs"), ("JAX jit", "20.2 s", "351 µs"),
          ("PyTensor C", "7.36 s", "8.01 µs"), ("torch eager", "0", "15.2 ms")],
    1000: [("CasADi SX", "46.9 ms", "73.3 µs"), ("JAX jit", "- (timeout)", "-"),
           ("PyTensor C", "- (timeout)", "-"), ("torch eager", "19 ms", "77.2 ms")],
}

W4 = {  # random DAG value + gradient, keyed by n_ops
    1_000: [("CasADi SX", "24.6 ms", "40 µs"), ("JAX jit", "20.1 s", "81.8 µs"),
            ("PyTensor Numba", "56.1 s", "26.8 µs"), ("sympy", "- (timeout)", "-")],
    10_000: [("CasADi SX", "123 ms", "269 µs"), ("JAX jit", "- (timeout)", "-"),
             ("JAX no jit", "0", "2.77 s"), ("PyTensor", "- (timeout)", "-")],
    100_000: [("CasADi SX", "1.33 s", "2.75 ms"), ("JAX / PyTensor / sympy", "-", "-")],
}

W5 = {  # third derivatives by nesting, keyed by case
    "1var": [("sympy (cse)", "80.7 ms", "1.16 µs"), ("JAX jit", "107 ms", "5.25 µs"),
             ("PyTensor Numba", "2.32 s", "3.63 µs"), ("torch eager", "14 ms", "502 µs"),
             ("CasADi SX", "818 µs", "8.04 µs")],
    "2var": [("sympy (cse)", "203 ms", "3.09 µs"), ("JAX jit", "862 ms", "26.2 µs"),
             ("PyTensor Numba", "6.49 s", "7.41 µs"), ("torch eager", "834 µs", "1.65 ms"),
             ("CasADi SX", "1.22 ms", "11.5 µs")],
}

# Graph sizes the peers reported, for the "graph size" comparison (pre-optimisation).
W5_SIZES = {
    "1var": "PyTensor 7→29→95→285; sympy count_ops 7→28→71→152; CasADi 181 instr",
    "2var": "PyTensor 11→43→199→1461; sympy 11→82→475→2308; CasADi 669 instr",
}


def peer_column(entries: list, limit: int = 3) -> str:
    """The first ``limit`` peers as 'name one-off / eval' joined by '; '.

    >>> peer_column([("CasADi SX", "24.6 ms", "40 µs")])
    'CasADi SX 24.6 ms / 40 µs'
    """
    return "; ".join(f"{name} {one_off} / {per_eval}" for name, one_off, per_eval
                     in entries[:limit])
