"""Bit-for-bit comparison of evaluated values: NaN where NaN, and the sign of every zero."""

from __future__ import annotations

import numpy as np


def assert_same_bits(got, expected, what: str = "value") -> None:
    """Same dtype, shape and values, NaN equal to NaN and -0.0 distinct from +0.0.

    The sign bit of a NaN is not compared: IEEE 754 leaves it unspecified (x86 returns the
    first NaN operand of an add, so a + b and b + a may differ there).
    """
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype} != {expected.dtype}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    if got.dtype.kind == "f":
        assert np.array_equal(got, expected, equal_nan=True), f"{what}: {got} != {expected}"
        signs = np.signbit(got) != np.signbit(expected)
        assert not (signs & ~np.isnan(got)).any(), f"{what}: signs differ: {got} vs {expected}"
    else:
        assert np.array_equal(got, expected), f"{what}: {got} != {expected}"
