"""Static types of nodes: dtype names, promotion and numpy broadcasting of shapes (pure functions)."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError

FLOAT_DTYPES = ("float64", "float32")
INPUT_DTYPES = ("float64", "float32", "int64")
DTYPES = ("float64", "float32", "int64", "bool")

Shape = tuple


def check_dtype(dtype, allowed=DTYPES) -> str:
    """Normalise a dtype spec (str or numpy dtype) to one of symgrad's dtype names."""
    try:
        name = None if dtype is None else np.dtype(dtype).name
    except (TypeError, ValueError):
        name = None
    if name not in allowed:
        raise ShapeError(f"dtype {dtype!r} is not supported; use one of {', '.join(allowed)}")
    return name


def check_shape(shape) -> tuple:
    """Normalise a shape spec (int or sequence of non-negative ints) to a tuple of ints."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ShapeError(f"shape {shape!r} is not a tuple of integers") from None
    if any(d < 0 for d in dims) or any(isinstance(d, bool) for d in shape):
        raise ShapeError(f"shape {shape!r} has a negative or boolean dimension")
    return dims


def is_float(dtype: str) -> bool:
    return dtype in FLOAT_DTYPES


def promote(*dtypes: str) -> str:
    """numpy's promotion of dtype names (bool < int64 < float32 < float64, as numpy does it)."""
    if len(dtypes) == 1 or all(d == dtypes[0] for d in dtypes):
        return dtypes[0]
    return np.result_type(*dtypes).name


def float_of(dtype: str) -> str:
    """The dtype of a real-valued function of ``dtype`` (ints and bools become float64)."""
    return dtype if dtype in FLOAT_DTYPES else "float64"


def broadcast_shapes(opname: str, *shapes: tuple) -> tuple:
    """numpy broadcasting of static shapes; raises ShapeError naming the op and the shapes."""
    first = shapes[0]
    if all(s == first for s in shapes):
        return first
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(ndim):
        dim = 1
        for s in shapes:
            d = s[axis - ndim + len(s)] if axis - ndim + len(s) >= 0 else 1
            if d != 1:
                if dim not in (1, d):
                    shown = " and ".join(str(tuple(s)) for s in shapes)
                    raise ShapeError(f"{opname}: shapes {shown} cannot be broadcast together "
                                     f"(numpy broadcasting rules)")
                dim = d
        out.append(dim)
    return tuple(out)


def size_of(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n
