"""Exact comparison of backend results with the numpy interpreter's."""

from __future__ import annotations

import numpy as np


def assert_same(got, expected, context="") -> None:
    """Same dtype, shape and values bit for bit (signed zeros included; NaN equals NaN)."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype, (context, got.dtype, expected.dtype)
    assert got.shape == expected.shape, (context, got.shape, expected.shape)
    assert np.array_equal(got, expected, equal_nan=got.dtype.kind == "f"), (context, got,
                                                                             expected)
    if got.dtype.kind == "f":
        real = ~np.isnan(expected)
        assert (np.signbit(got[real]) == np.signbit(expected[real])).all(), (context, got,
                                                                             expected)


def assert_close_ulps(got, expected, ulps: int, context="") -> None:
    """Same dtype and shape; values within ``ulps`` units in the last place (NaN equals NaN)."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape, context
    finite = np.isfinite(expected)
    assert np.array_equal(np.isnan(got), np.isnan(expected)), (context, got, expected)
    assert np.array_equal(got[~finite & ~np.isnan(expected)],
                          expected[~finite & ~np.isnan(expected)]), (context, got, expected)
    spacing = np.spacing(np.abs(expected[finite]).astype(expected.dtype))
    assert (np.abs(got[finite] - expected[finite]) <= ulps * spacing).all(), (context, got,
                                                                              expected)
