"""Batched evaluation of dask arrays: a compiled program run chunk by chunk with ``blockwise``.

Inputs carry the same leading batch dimensions; each is chunked along them only (its own
dimensions form one chunk), so every block is a self-contained batch that the single-process
batched program evaluates. The outputs are lazy dask arrays: nothing runs until ``compute``,
and then out of core or on a ``dask.distributed`` cluster unchanged. dask is an optional extra.
"""

from __future__ import annotations

import numpy as np

from ..errors import BackendError, InputError

INSTALL = 'pip install "symgrad[dask]"'


def is_dask(value) -> bool:
    """True for a dask array (checked without importing dask)."""
    return type(value).__module__.startswith("dask.") and hasattr(value, "chunks")


def evaluate_dask(graph, run_batched, values: dict) -> list:
    """The outputs of ``graph`` as dask arrays, computed per block by ``run_batched``.

    ``run_batched(values) -> list`` evaluates numpy inputs with leading batch dimensions (a
    ``sg.compile(graph, batched=True)`` program); ``values`` maps every input name to an
    array (dask or numpy) whose shape is the batch shape followed by the input's own shape.
    Outputs of one dtype are computed together, in one task per block.
    """
    try:
        import dask.array as da
    except ImportError:
        raise BackendError(f"dask inputs need dask, which is not installed; install it with "
                           f"{INSTALL}") from None
    inputs = list(graph.inputs)
    batch = _batch_shape(inputs, values)
    nb = len(batch)
    arrays = [da.asarray(values[v.name]) for v in inputs]
    # the batch chunks of the first dask input; the others are rechunked to match
    chunks = next((a.chunks[:nb] for v, a in zip(inputs, arrays) if is_dask(values[v.name])),
                  "auto")
    batch_index = tuple(f"b{k}" for k in range(nb))
    args = []
    for v, a in zip(inputs, arrays):
        a = a.rechunk(chunks + tuple(-1 for _ in v.shape))
        args += [a, batch_index + tuple(f"{v.name}{k}" for k in range(v.ndim))]
    names = [v.name for v in inputs]
    outputs = list(graph.outputs)
    groups: dict = {}
    for position, node in enumerate(outputs):
        groups.setdefault(node.dtype, []).append(position)
    results: list = [None] * len(outputs)
    for dtype, positions in groups.items():
        sizes = [outputs[p].size for p in positions]

        def block(*blocks, positions=positions, dtype=dtype):
            got = run_batched(dict(zip(names, blocks)))
            lead = blocks[0].shape[:nb] if blocks else ()
            flat = [np.reshape(got[p], lead + (-1,)) for p in positions]
            return np.concatenate(flat, axis=-1).astype(dtype, copy=False)

        joined = da.blockwise(block, batch_index + ("out",), *args, new_axes={"out": sum(sizes)},
                              concatenate=True, dtype=dtype)
        start = 0
        for p, size in zip(positions, sizes):
            piece = joined[(slice(None),) * nb + (slice(start, start + size),)]
            results[p] = piece.reshape(batch + outputs[p].shape)
            start += size
    return results


def _batch_shape(inputs, values) -> tuple:
    batch = None
    for v in inputs:
        shape = tuple(np.shape(values[v.name]))
        if len(shape) < v.ndim or shape[len(shape) - v.ndim:] != v.shape:
            raise InputError(f"input {v.name!r}: batched value of shape {shape} does not end "
                             f"with the input's shape {v.shape}")
        lead = shape[:len(shape) - v.ndim]
        if batch is not None and lead != batch:
            raise InputError(f"inputs have different batch shapes {batch} and {lead} "
                             f"(input {v.name!r}); every input needs the same leading shape")
        batch = lead
    if batch is None:
        raise InputError("a graph without inputs has no batch to evaluate on dask")
    return batch

