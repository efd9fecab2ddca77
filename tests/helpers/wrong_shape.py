"""A graph that lies about one node's shape on purpose, for the buffer-reuse tests of the
interpreter and the python backend: a dead buffer of the wrong real shape must never be reused
for a value of the declared one."""

from __future__ import annotations

import numpy as np

import symgrad as sg
from symgrad.evaluate import program

V_VALUE = np.array([0.5, -1.5, 2.0, -0.0])
W_VALUE = np.array([1.0, 2.0, -3.0, 0.25])

lying_rows = sg.define_op("lying_rows", infer=lambda a: (a.shape, a.dtype),   # declared (4,)
                          forward=lambda a: np.stack([a, a]) * 1.0,           # really (2, 4)
                          bprop=(None,))


def wrong_shape_graph(v, w) -> tuple:
    """(graph, dead, wave): ``dead`` is really (2, 4) but declared (4,), and its buffer is free
    after the matmul; ``wave`` is declared (4,) and must stay (4,)."""
    dead = sg.exp(lying_rows(v)) * 2.0
    product = dead @ sg.var("M", shape=(4, 4))
    wave = sg.sin(v)
    return sg.Graph([product, wave * w]), dead, wave


def run_unchecked(fn) -> list:
    """``fn``'s outputs at the test values, with the checking mode (which would report the lie)
    off; the second output must equal ``wave_times_w()``."""
    was, program.CHECK = program.CHECK, False
    try:
        return fn(v=V_VALUE, w=W_VALUE, M=np.eye(4))
    finally:
        program.CHECK = was


def wave_times_w() -> np.ndarray:
    return np.sin(V_VALUE) * W_VALUE
