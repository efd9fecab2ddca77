"""Graph colourings that compress sparse derivative matrices, and their decompression.

Jacobian: columns that share no row (structurally orthogonal) get one colour, so J·S for the
colour-indicator matrix S holds every nonzero once: J[i, j] = (J·S)[i, colour(j)]. That is a
distance-1 colouring of the column intersection graph (networkx's greedy colouring); rows the
same way on Jᵀ for reverse mode. Hessian: a star colouring (adjacent vertices differ, and
every path on four vertices uses at least three colours; networkx has none, so it is written
here) lets each nonzero be read from H·S directly, from its row or from its column.
"""

from __future__ import annotations

import numpy as np


def column_colouring(pattern) -> np.ndarray:
    """Colours 0..c-1 of the columns of a boolean (M, N) pattern, no two columns sharing a row
    having the same colour (networkx greedy colouring, largest degree first)."""
    import networkx as nx
    from scipy import sparse

    n = pattern.shape[1]
    pattern = sparse.csr_array(pattern, dtype=np.int8)
    overlap = sparse.triu(pattern.T @ pattern, k=1).tocoo()
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(overlap.row.tolist(), overlap.col.tolist()))
    found = nx.greedy_color(graph, strategy="largest_first")
    return np.array([found[j] for j in range(n)], dtype=np.int64)


def star_colouring(pattern) -> np.ndarray:
    """A greedy star colouring of the adjacency graph of a symmetric (N, N) pattern (the
    diagonal is ignored), vertices taken largest degree first.

    A colour is refused for v when v would (1) share it with a neighbour, or close a
    two-coloured path on four vertices (2) at an end, v-w-x-y with colour(x) = c and x having
    a second neighbour y of colour(w), or (3) in the middle, w-v-x-y with colour(w) =
    colour(x) and colour(y) = c. Only coloured vertices are looked at, and every such path is
    checked when its last vertex is coloured, so the result is a star colouring.
    """
    from scipy import sparse

    adjacency = sparse.csr_array(pattern, dtype=np.int8, copy=True)   # edited below
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    n = adjacency.shape[0]
    indptr, indices = adjacency.indptr.tolist(), adjacency.indices.tolist()
    neighbours = [indices[indptr[v]:indptr[v + 1]] for v in range(n)]
    order = sorted(range(n), key=lambda v: -len(neighbours[v]))
    colour = [-1] * n
    counts = [{} for _ in range(n)]          # vertex -> {colour: coloured neighbours of it}
    for v in order:
        forbidden, groups = set(), {}
        for w in neighbours[v]:
            cw = colour[w]
            if cw >= 0:
                forbidden.add(cw)
                groups.setdefault(cw, []).append(w)
        for cw, members in groups.items():
            for w in members:                                     # (2) v at an end
                for x in neighbours[w]:
                    cx = colour[x]
                    if cx >= 0 and counts[x].get(cw, 0) >= 2:
                        forbidden.add(cx)
            if len(members) >= 2:                                 # (3) v in the middle
                for x in members:
                    for y in neighbours[x]:
                        if y != v and colour[y] >= 0:
                            forbidden.add(colour[y])
        c = 0
        while c in forbidden:
            c += 1
        colour[v] = c
        for w in neighbours[v]:
            counts[w][c] = counts[w].get(c, 0) + 1
    return np.array(colour, dtype=np.int64)


def entry_rows(pattern) -> np.ndarray:
    """The row of each stored entry of a csr pattern, in storage order."""
    return np.repeat(np.arange(pattern.shape[0]), np.diff(pattern.indptr))


def column_sources(pattern, colours: np.ndarray, count: int) -> np.ndarray:
    """For each stored entry (i, j): its flat position i·count + colour(j) in J·S (M, count)."""
    return entry_rows(pattern) * count + colours[pattern.indices]


def row_sources(pattern, colours: np.ndarray) -> np.ndarray:
    """For each stored entry (i, j): its flat position colour(i)·N + j in Sᵀ·J (count, N)."""
    return colours[entry_rows(pattern)] * pattern.shape[1] + pattern.indices


def star_sources(pattern, colours: np.ndarray, count: int) -> np.ndarray:
    """For each stored entry (i, j) of a symmetric pattern: its flat position in H·S (N, count):
    row i at colour(j) when j is the only neighbour of i with that colour, else row j at
    colour(i) (the star property makes one of the two unique)."""
    from scipy import sparse

    rows, cols = entry_rows(pattern), pattern.indices
    n = pattern.shape[0]
    indicator = sparse.csr_array((np.ones(n, dtype=np.int64), (np.arange(n), colours)),
                                 shape=(n, count))
    off = sparse.csr_array(pattern, dtype=np.int64, copy=True)
    off.setdiag(0)
    off.eliminate_zeros()
    per_colour = (off @ indicator).toarray()           # neighbours of i with each colour
    from_row = (rows == cols) | (per_colour[rows, colours[cols]] == 1)
    return np.where(from_row, rows * count + colours[cols], cols * count + colours[rows])


class Decompress:
    """The ``postprocess`` of a compressed derivative graph: its one output (the compressed
    matrix) becomes a ``scipy.sparse.csr_array`` whose k-th stored entry is element
    ``source[k]`` of the flattened compressed matrix.

    Each result is a copy of one template array with fresh ``data`` and copied index arrays
    (so in-place scipy methods such as ``eliminate_zeros`` are safe): the public constructor
    re-validates the structure on every call, which costs more than the whole W2 evaluation
    at n = 1000.
    """

    __slots__ = ("source", "template")

    def __init__(self, source: np.ndarray, pattern):
        from scipy import sparse

        self.source = np.asarray(source, dtype=np.int64)
        self.template = sparse.csr_array((np.zeros(self.source.size), pattern.indices,
                                          pattern.indptr), shape=pattern.shape, copy=True)

    def __call__(self, outputs: list) -> list:
        matrix = object.__new__(type(self.template))
        matrix.__dict__.update(self.template.__dict__)
        matrix.indices, matrix.indptr = matrix.indices.copy(), matrix.indptr.copy()
        matrix.data = np.asarray(outputs[0]).reshape(-1)[self.source]
        return [matrix]

    def __repr__(self) -> str:
        return f"<Decompress to csr_array {self.template.shape}, {self.source.size} entries>"
