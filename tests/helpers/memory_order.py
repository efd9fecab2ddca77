"""A buffer-reuse scenario for the interpreter's and the python backend's tests: a C-ordered
buffer falls dead just before an elementwise result that numpy gives in F order (it reads a
transposed input); whatever buffer it is written into, it must keep numpy's memory order, since
the sum downstream adds in memory order."""

from __future__ import annotations

import numpy as np

import symgrad as sg

from ..backends.helpers import assert_same


def reused_buffer_sums(X) -> tuple:
    """(first, total): ``first`` frees a C-ordered (16, 16) buffer, ``total`` sums exp(X.T)."""
    dead = sg.sin(X) * 2.0                  # a C-ordered buffer, free after `first`
    first = sg.sum(dead @ X)
    flipped = sg.exp(sg.transpose(X))       # numpy gives this in the transposed (F) order ...
    return first, sg.sum(flipped)           # ... and sums it in memory order


def assert_summed_in_memory_order(total, xv) -> None:
    """``total`` is numpy's sum of exp(xv.T), which differs from the sum in C order."""
    expected = np.sum(np.exp(xv.T))
    assert not np.array_equal(expected, np.sum(np.ascontiguousarray(np.exp(xv.T))))
    assert_same(total, expected)
