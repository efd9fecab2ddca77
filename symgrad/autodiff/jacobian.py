"""jacobian() and hessian(): dense by reverse rows or forward columns, or compressed by graph
colouring of the structural pattern (one JVP, VJP or HVP per colour instead of per row)."""

from __future__ import annotations

import numpy as np

from ..errors import GradientError, SymgradError
from ..ir import CompressedGraph, Graph, Node
from ..ops._define import const
from ..ops.arith import add
from ..ops.elementwise import where
from ..ops.linalg import matmul
from ..ops.shape import concatenate, getitem, reshape, stack, transpose
from .backprop import (as_single_output, build_grad, inputs_with, paused_gc, resolve_wrt,
                       scalar_output, seed_of, zeros_like)
from .backprop import zeros as zeros_block
from .coloring import (Decompress, column_colouring, column_sources, row_sources,
                       star_colouring, star_sources)
from .forward import hvp_table, pushforward
from .sparsity import PatternTooLarge, hessian_pattern, jacobian_pattern

DENSE_COLOURING_LIMIT = 1 << 22   # dense calls try colouring up to this many matrix entries
SPREAD_BY_WHERE = 8               # up to this many colours, decompress with broadcast wheres


@paused_gc()
def jacobian(f, wrt, sparse: bool = False, blocks: bool = False) -> Graph:
    """The (M, N) Jacobian of f: M = f's size, N = total size of ``wrt``, flattened in C order.

    Dense: colouring of the structural pattern when it needs at most half the sweeps, else
    one forward sweep per input element when N < M, else one reverse sweep per output element.
    ``sparse=True``: a graph whose evaluation is a ``scipy.sparse.csr_array`` (M, N), built
    with forward or reverse compression, whichever needs fewer colours. ``blocks=True``: one
    output per ``wrt`` entry, of shape f.shape + entry.shape (JAX's layout).

    >>> import symgrad as sg
    >>> x, y = sg.var("x"), sg.var("y")
    >>> J = sg.jacobian(x * y, ["x", "y"])
    >>> sg.evaluate(J, {"x": 2.0, "y": 3.0})[0].tolist()
    [[3.0, 2.0]]
    """
    graph = as_single_output(f, "jacobian")
    targets = resolve_wrt(graph, wrt)
    if not targets:
        raise GradientError("jacobian: wrt is empty")
    if sparse and blocks:
        raise SymgradError("jacobian: sparse=True and blocks=True exclude each other; the "
                           "sparse matrix is (M, N), slice its columns for the blocks")
    z = graph.outputs[0]
    inputs = inputs_with(graph, targets)
    if sparse:
        matrix, decompress = compressed_jacobian(z, targets, jacobian_pattern(z, targets))
        return CompressedGraph(matrix, inputs, postprocess=decompress)
    J = dense_jacobian(z, targets)
    return Graph(split_blocks(J, z, targets) if blocks else J, inputs)


@paused_gc()
def hessian(f, wrt, sparse: bool = False) -> Graph:
    """The (N, N) Hessian of a scalar f, by differentiating its gradient graph again.

    Dense: a star colouring of the structural pattern (one Hessian-vector product per colour,
    decompressed in the graph) when it needs at most half the sweeps, else one reverse sweep
    per gradient element, taken on that element's own ancestors. ``sparse=True``: a graph
    whose evaluation is a ``scipy.sparse.csr_array`` (N, N), one HVP per colour.

    >>> import symgrad as sg
    >>> x = sg.var("x")
    >>> H = sg.hessian(x ** 3, ["x"])
    >>> sg.evaluate(H, {"x": 2.0})[0].tolist()
    [[12.0]]
    """
    graph, z = scalar_output(f, "hessian", "jacobian of its gradient")
    targets = resolve_wrt(graph, wrt)
    if not targets:
        raise GradientError("hessian: wrt is empty")
    inputs = inputs_with(graph, targets)
    if sparse:
        matrix, decompress = compressed_hessian(z, targets, hessian_pattern(z, targets))
        return CompressedGraph(matrix, inputs, postprocess=decompress)
    n = sum(w.size for w in targets)
    if 2 < n and n * n <= DENSE_COLOURING_LIMIT:
        pattern = pattern_or_none(hessian_pattern, z, targets)
        if pattern is not None and 2 * pattern.nnz <= n * n:
            colours = star_colouring(pattern)
            if 2 * count_of(colours) <= n:
                return Graph(star_expanded(z, targets, pattern, colours), inputs)
    grads = build_grad(z, seed_of(z, None), targets)
    pieces = [grads[w] if w in grads else zeros_like(w) for w in targets]
    return Graph(jacobian_rows(pieces, targets), inputs)


# -- dense --------------------------------------------------------------------------------------
def dense_jacobian(z: Node, targets: list) -> Node:
    m, n = z.size, sum(w.size for w in targets)
    if min(m, n) > 2 and m * n <= DENSE_COLOURING_LIMIT:
        pattern = pattern_or_none(jacobian_pattern, z, targets)
        if pattern is not None and 2 * pattern.nnz <= m * n:
            by_columns, colours, count = colouring_choice(pattern)
            if 2 * count <= min(m, n):
                compressed = compressed_sweeps(z, targets, colours, count, by_columns)
                expanded = spread(compressed, colours, count, 1 if by_columns else 0)
                return where(const(pattern.toarray()), expanded, 0)
    if n < m:
        columns = [flat(pushforward(z, targets, split_seed(unit(n, j), targets)))
                   for j in range(n)]
        return stack(columns, axis=1)
    return jacobian_rows([z], targets)


def pattern_or_none(find, z: Node, targets: list):
    """The structural pattern, or None where it is too dense to build (PatternTooLarge)."""
    try:
        return find(z, targets)
    except PatternTooLarge:
        return None


def star_expanded(z: Node, targets: list, pattern, colours: np.ndarray) -> Node:
    """The dense Hessian from H·S: entry (i, j) read from row i (where colour(j) is unique
    among i's neighbours) or else from row j, chosen by constant masks."""
    count = count_of(colours)
    compressed = hessian_products(z, targets, colours, count)
    n = pattern.shape[0]
    source = star_sources(pattern, colours, count)
    rows = np.repeat(np.arange(n), np.diff(pattern.indptr))
    from_row = source // count == rows
    read_row, read_col = np.zeros((n, n), dtype=bool), np.zeros((n, n), dtype=bool)
    read_row[rows[from_row], pattern.indices[from_row]] = True
    read_col[rows[~from_row], pattern.indices[~from_row]] = True
    expanded = spread(compressed, colours, count, 1)
    return where(const(read_row), expanded, where(const(read_col), transpose(expanded), 0))


def spread(compressed: Node, colours: np.ndarray, count: int, axis: int) -> Node:
    """The (M, N) matrix whose entry (i, j) is compressed[i, colour(j)] (axis 1: J·S or H·S)
    or compressed[colour(i), j] (axis 0: Sᵀ·J). A few colours: one broadcast ``where`` per
    colour (a matmul with inner size 3 is slower, and would turn an inf into NaNs); many: a
    matmul with the colour indicator."""
    if count > SPREAD_BY_WHERE:
        indicator = colour_indicator(colours, count, compressed.dtype)
        return matmul(compressed, indicator) if axis else matmul(transpose(indicator), compressed)
    total = None
    for c in range(count):
        if axis:
            part = getitem(compressed, (slice(None), slice(c, c + 1)))
            mask = (colours == c)[None, :]
        else:
            part = getitem(compressed, (slice(c, c + 1),))
            mask = (colours == c)[:, None]
        term = where(const(mask), part, 0)
        total = term if total is None else add(total, term)
    return total


def split_blocks(J: Node, z: Node, targets: list) -> list:
    """The columns of J for each target, shaped f.shape + target.shape."""
    blocks, start = [], 0
    for w in targets:
        block = getitem(J, (slice(None), slice(start, start + w.size)))
        blocks.append(reshape(block, z.shape + w.shape))
        start += w.size
    return blocks


# -- compressed ---------------------------------------------------------------------------------
def compressed_jacobian(z: Node, targets: list, pattern) -> tuple:
    """(compressed matrix node, Decompress): J·S (M, c) by forward sweeps or Sᵀ·J (c, N) by
    reverse sweeps, whichever colouring has fewer colours (reverse on a tie)."""
    if pattern.nnz == 0:
        return zeros_block((1,), z.dtype), Decompress(np.zeros(0), pattern)
    by_columns, colours, count = colouring_choice(pattern)
    matrix = compressed_sweeps(z, targets, colours, count, by_columns)
    source = (column_sources(pattern, colours, count) if by_columns
              else row_sources(pattern, colours))
    return matrix, Decompress(source, pattern)


def compressed_hessian(z: Node, targets: list, pattern) -> tuple:
    """(H·S node (N, c), Decompress) for a star colouring of the Hessian pattern."""
    if pattern.nnz == 0:
        return zeros_block((1,), z.dtype), Decompress(np.zeros(0), pattern)
    colours = star_colouring(pattern)
    count = count_of(colours)
    matrix = hessian_products(z, targets, colours, count)
    return matrix, Decompress(star_sources(pattern, colours, count), pattern)


def colouring_choice(pattern) -> tuple:
    """(by_columns, colours, count): forward (columns) when that needs fewer colours."""
    rows = column_colouring(pattern.T)
    cols = column_colouring(pattern)
    if count_of(cols) < count_of(rows):
        return True, cols, count_of(cols)
    return False, rows, count_of(rows)


def compressed_sweeps(z: Node, targets: list, colours: np.ndarray, count: int,
                      by_columns: bool) -> Node:
    """J·S with one JVP per colour (columns), or Sᵀ·J with one VJP per colour (rows)."""
    if by_columns:
        return stack([flat(pushforward(z, targets, split_seed(colours == c, targets)))
                      for c in range(count)], axis=1)
    rows = []
    for c in range(count):
        seed = const((colours == c).reshape(z.shape).astype(z.dtype))
        table = build_grad(z, seed_of(z, seed), targets)
        rows.append(flat_row([table.get(w) for w in targets], targets))
    return stack(rows)


def hessian_products(z: Node, targets: list, colours: np.ndarray, count: int) -> Node:
    """H·S (N, count): one Hessian-vector product per colour, sharing one gradient graph."""
    grads = build_grad(z, seed_of(z, None), targets)
    columns = []
    for c in range(count):
        table = hvp_table(z, targets, split_seed(colours == c, targets), grads)
        columns.append(flat_row([table.get(w) for w in targets], targets))
    return stack(columns, axis=1)


def count_of(colours: np.ndarray) -> int:
    return int(colours.max()) + 1 if colours.size else 0


def colour_indicator(colours: np.ndarray, count: int, dtype: str) -> Node:
    """The constant (count, N) matrix E with E[colour(j), j] = 1."""
    return const((np.arange(count)[:, None] == colours[None, :]).astype(dtype))


def unit(n: int, j: int) -> np.ndarray:
    e = np.zeros(n, dtype=bool)
    e[j] = True
    return e


def split_seed(mask: np.ndarray, targets: list) -> list:
    """A flat (N,) mask cut into one constant per target, of its shape and dtype."""
    seeds, start = [], 0
    for w in targets:
        seeds.append(const(mask[start:start + w.size].reshape(w.shape).astype(w.dtype)))
        start += w.size
    return seeds


def flat(node: Node) -> Node:
    return reshape(node, (node.size,))


# -- rows -----------------------------------------------------------------------------------------
def jacobian_rows(pieces, targets):
    """(sum of piece sizes, N) node: row r is d(element r of the flattened pieces)/d(targets)."""
    rows = []
    for z in pieces:
        for i in range(z.size):
            u = None
            if z.shape != ():
                u = np.zeros(z.size, dtype=z.dtype)
                u[i] = 1
                u = const(u.reshape(z.shape))
            table = build_grad(z, seed_of(z, u), targets)
            rows.append(flat_row([table.get(w) for w in targets], targets))
    return stack(rows)


def flat_row(grads, targets):
    """The gradients flattened and joined; each run of structurally zero entries becomes one
    broadcast zero block, so a sparse row costs its nonzeros, not N nodes."""
    pieces, zeros = [], 0
    for grad, w in zip(grads, targets):
        if grad is None:
            zeros += w.size
            continue
        if zeros:
            pieces.append(zeros_block((zeros,), w.dtype))
            zeros = 0
        pieces.append(reshape(grad, (grad.size,)))
    if zeros:
        pieces.append(zeros_block((zeros,), targets[-1].dtype))
    return pieces[0] if len(pieces) == 1 else concatenate(pieces)
