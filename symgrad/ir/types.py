"""Static types of nodes: dtype names, promotion and numpy broadcasting of shapes (pure functions)."""

from __future__ import annotations

import re

import numpy as np

from ..errors import ShapeError

FLOAT_DTYPES = ("float64", "float32")
INPUT_DTYPES = ("float64", "float32", "int64")
DTYPES = ("float64", "float32", "int64", "bool")

Shape = tuple


_DTYPE_TEXT = re.compile(r"[<>=|]?([A-Za-z][A-Za-z0-9]*|\?)\Z")


def numpy_dtype(spec) -> np.dtype:
    """``np.dtype(spec)`` for a numpy dtype, a type, or a plain name such as ``"float32"`` or
    ``"<f8"``; anything else raises ValueError. Text numpy reads as a structured dtype
    (``"1f8"``, ``"f8,i4"``, ``"(2)i4"``) goes to ``ast.literal_eval``, that is to ``compile()``,
    and text from a parsed expression or a graph file must never get there."""
    if isinstance(spec, (np.dtype, type)) or (isinstance(spec, str) and _DTYPE_TEXT.match(spec)):
        return np.dtype(spec)
    raise ValueError(f"{spec!r} is not a dtype name")


def check_dtype(dtype, allowed=DTYPES) -> str:
    """Normalise a dtype spec (a name, numpy dtype or type) to one of symgrad's dtype names."""
    try:
        name = None if dtype is None else numpy_dtype(dtype).name
    except (TypeError, ValueError):
        name = None
    if name not in allowed:
        raise ShapeError(f"dtype {dtype!r} is not supported; use one of {', '.join(allowed)}")
    return name


MAX_ELEMENTS = 1 << 31
"""The most elements a node may have (16 GiB of float64): larger shapes, such as
``broadcast_to(x, (10**6, 10**6))``, raise ShapeError when built, before anything is allocated."""


def check_shape(shape) -> tuple:
    """Normalise a shape spec (an int, or a tuple or list of ints >= 0) to a tuple of ints; no
    other value is coerced (2.5, "12" and True are errors), and at most MAX_ELEMENTS elements."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise ShapeError(f"shape {shape!r} is not a tuple of integers")
    for d in shape:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
            raise ShapeError(f"shape {shape!r} is not a tuple of integers (dimension {d!r})")
        if d < 0:
            raise ShapeError(f"shape {shape!r} has a negative dimension")
    dims = tuple(int(d) for d in shape)
    check_size(dims)
    return dims


def check_size(shape: tuple, opname: str = "shape") -> tuple:
    """``shape`` itself, or ShapeError if it has more than MAX_ELEMENTS elements."""
    if size_of(shape) > MAX_ELEMENTS:
        raise ShapeError(f"{opname}: a result of shape {shape} would have {size_of(shape):,} "
                         f"elements, more than symgrad's limit of {MAX_ELEMENTS:,} "
                         f"(symgrad.ir.types.MAX_ELEMENTS)")
    return shape


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
    return check_size(tuple(out), opname)


def size_of(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n
