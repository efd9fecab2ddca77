"""Structural sparsity of Jacobians and Hessians, read from the graph without evaluating it.

Each node gets a dependency pattern: a boolean matrix (rows: the node's elements in C order,
columns: the elements of ``wrt``), propagated in topological order. How an op's output elements
depend on its input elements comes from the op record's ``deps`` kind (elementwise, gather,
reduce, along_axis, matmul, dense) as one sparse "local structure" matrix per input, so
``P(out) = Σ_i S_i · P(input_i)``. Only differentiable inputs (those with a bprop rule) count.

The Hessian pattern of a scalar f follows the nonlinear-interaction approach (Walther 2008):
H ⊇ Σ over nodes v and elements e of v whose adjoint is structurally nonzero, over the input
pairs (i, j) the op couples, of D_i(e)ᵀ D_j(e), with D_i(e) the wrt elements that e reaches
through input i. The coupled pairs are derived from the op's own bprop rules: input i couples
with j when the rule for i depends differentiably on input j (so x*y couples x with y only,
relu and max couple nothing, exp couples x with itself).
"""

from __future__ import annotations

import numpy as np

from ..errors import GradientError, SymgradError
from ..ir import Node, descendants, intern, toposort
from ..ir.types import is_float
from ..ops._define import VAR
from ..ops.shape import kept_shape, normalize_axes
from .backprop import as_single_output, prune, resolve_wrt

IDENTITY, DENSE = "identity", "dense"   # local structures that need no matrix
PATTERN_LIMIT = 1 << 25                # most stored entries one node's pattern may take
_STRUCTURES: dict = {}                 # (op, params, shapes) -> local structures per input
_COUPLINGS: dict = {}                  # (op, params, types) -> coupled input pairs


class PatternTooLarge(SymgradError):
    """A dependency pattern would exceed PATTERN_LIMIT stored entries (the derivative is
    essentially dense at that size; dense calls fall back to sweeps per row)."""


def check_entries(entries: int, node: Node) -> None:
    if entries > PATTERN_LIMIT:
        raise PatternTooLarge(f"sparsity: the pattern of {node!r} would store {entries:,} "
                              f"entries (limit {PATTERN_LIMIT:,}); the derivative is too dense "
                              f"for a structural pattern here, use the dense jacobian/hessian")


def sparsity(f, wrt, kind: str = "jacobian"):
    """The structural Jacobian (M, N) or Hessian (N, N) pattern of f as a boolean
    ``scipy.sparse.csr_array``; every entry that can be nonzero at some point is True.

    >>> import symgrad as sg
    >>> x = sg.var("x", shape=(4,))
    >>> sg.sparsity(sg.sum(x[1:] * x[:-1]), [x], kind="hessian").toarray().astype(int).tolist()
    [[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]]
    """
    graph = as_single_output(f, "sparsity")
    targets = resolve_wrt(graph, wrt)
    z = graph.outputs[0]
    if kind == "jacobian":
        return jacobian_pattern(z, targets)
    if kind == "hessian":
        if z.shape != ():
            raise GradientError(f"sparsity: a Hessian pattern needs a scalar f, got shape "
                                f"{z.shape}")
        return hessian_pattern(z, targets)
    raise SymgradError(f"sparsity: kind must be 'jacobian' or 'hessian', got {kind!r}")


def jacobian_pattern(z: Node, targets: list):
    """(z.size, N) boolean csr_array. A scalar z takes one reverse reachability sweep (long
    sums of terms would make forward patterns quadratic); otherwise patterns go forward."""
    from scipy import sparse

    n = total_size(targets)
    order = toposort([z])
    if z.size == 1:
        masks = adjoint_masks(z, order, targets)
        mask = np.concatenate([masks.get(w, np.zeros(w.size, dtype=bool)) for w in targets])
        return sparse.csr_array(mask.reshape(1, n))
    return as_csr(propagate(order, targets, n).get(z), z.size, n)


def hessian_pattern(z: Node, targets: list):
    """(N, N) symmetric boolean csr_array for a scalar z. Dependency patterns are built only
    for the inputs of nodes that couple inputs nonlinearly, and their ancestors."""
    from scipy import sparse

    n = total_size(targets)
    order = toposort([z])
    masks = adjoint_masks(z, order, targets)
    sources = set(targets)
    coupled, roots = [], []
    for node in order:
        mask = masks.get(node)
        if mask is None or node in sources or not mask.any():
            continue
        live = {k for k, p in enumerate(node.inputs) if p in masks and node.op.rule(k) is not None}
        pairs = [(i, j) for i, j in couplings(node) if i in live and j in live]
        if pairs:
            coupled.append((node, pairs))
            roots += [node.inputs[k] for pair in pairs for k in pair]
    patterns = propagate(toposort(roots), targets, n)
    rows, cols = [], []
    for node, pairs in coupled:
        reach = {k: reached_rows(node, k, patterns[node.inputs[k]], n, masks[node])
                 for k in {k for pair in pairs for k in pair}}
        for i, j in pairs:
            add_products(reach[i], reach[j], rows, cols)
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    H = sparse.coo_array((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(n, n)).tocsr()
    H = (H + H.T).tocsr()
    H.sum_duplicates()
    return H.astype(bool)


def adjoint_masks(z: Node, order: list, targets: list) -> dict:
    """{node: boolean array over its elements}: which elements z reaches back to along
    differentiable edges, for the nodes between the targets and z (targets included)."""
    sources = set(targets)
    live = descendants(order, sources, lambda node, k: (node.op.rule(k) is not None
                                                        and is_float(node.dtype)))
    masks = {z: np.ones(z.size, dtype=bool)} if z in live else {}
    for node in reversed(order):
        mask = masks.get(node)
        if mask is None or node in sources or not mask.any():
            continue
        scalar = node.size == 1 and all(p.size == 1 for p in node.inputs)
        structures = None if scalar else local_structures(node)
        for k, parent in enumerate(node.inputs):
            if parent not in live or node.op.rule(k) is None:
                continue
            back = mask if scalar else pull_mask(structures[k], mask, parent.size)
            old = masks.get(parent)
            masks[parent] = back if old is None else old | back
    return masks


# -- propagation ---------------------------------------------------------------------------------
def total_size(targets: list) -> int:
    return sum(w.size for w in targets)


def propagate(order: list, targets: list, n: int) -> dict:
    """{node: pattern} for every node that depends differentiably on a target. A pattern is a
    frozenset of columns for a one-element node (the fast path of scalar graphs), else a
    boolean csr_array of shape (node.size, n)."""
    from scipy import sparse

    patterns, offset = {}, 0
    for w in targets:
        if w not in patterns:
            if w.size == 1:
                patterns[w] = frozenset((offset,))
            else:
                span = np.arange(w.size)
                patterns[w] = sparse.csr_array((np.ones(w.size, dtype=bool), (span, offset + span)),
                                               shape=(w.size, n))
        offset += w.size
    for node in order:
        if node in patterns or not node.inputs or not is_float(node.dtype):
            continue
        if node.size == 1:
            rules = [node.op.rule(k) is not None for k in range(len(node.inputs))]
            parents = [patterns.get(p) for p, r in zip(node.inputs, rules) if r]
            parents = [p for p in parents if p is not None]
            if parents and all(type(p) is frozenset for p in parents):
                patterns[node] = frozenset().union(*parents)
                continue
        total = None
        for structure, parent in zip(local_structures(node), node.inputs):
            if structure is None or parent not in patterns:
                continue
            term = apply_structure(structure, as_csr(patterns[parent], parent.size, n),
                                   node.size, n)
            total = term if total is None else total + term
            check_entries(total.nnz, node)
        if total is not None:
            patterns[node] = frozenset(total.indices.tolist()) if node.size == 1 else total
    return patterns


def as_csr(pattern, rows: int, n: int):
    from scipy import sparse

    if pattern is None:
        return sparse.csr_array((rows, n), dtype=bool)
    if type(pattern) is frozenset:
        cols = np.fromiter(sorted(pattern), dtype=np.int64, count=len(pattern))
        return sparse.csr_array((np.ones(cols.size, dtype=bool), cols,
                                 np.array([0, cols.size])), shape=(1, n))
    return pattern


def apply_structure(structure, pattern, size: int, n: int):
    """S · P for one input: the wrt elements each output element reaches through it."""
    if structure is IDENTITY:
        return pattern
    if structure is DENSE:
        union = np.unique(pattern.indices)
        return dense_rows(union, size, n)
    return (structure @ pattern).astype(bool)


def dense_rows(union: np.ndarray, size: int, n: int):
    """``size`` rows, each holding the columns ``union``."""
    from scipy import sparse

    if size * union.size > PATTERN_LIMIT:
        raise PatternTooLarge(f"sparsity: {size:,} elements each depending on {union.size:,} "
                              f"wrt elements exceed the pattern limit ({PATTERN_LIMIT:,} "
                              f"entries); use the dense jacobian/hessian")
    return sparse.csr_array((np.ones(size * union.size, dtype=bool), np.tile(union, size),
                             np.arange(size + 1) * union.size), shape=(size, n))


def pull_mask(structure, mask: np.ndarray, size: int) -> np.ndarray:
    """Input elements that reach an output element of ``mask`` (adjoint reachability)."""
    if structure is IDENTITY:
        return mask
    if structure is DENSE:
        return np.full(size, bool(mask.any()))
    return (structure.T @ mask.astype(np.int8)) > 0


def reached_rows(node: Node, k: int, pattern, n: int, mask: np.ndarray):
    """D(e) for the elements e of ``node`` with a live adjoint: the rows of S·P for input k
    (S its local structure, P its pattern) selected by ``mask``."""
    if type(pattern) is frozenset and node.size == 1:
        return pattern
    rows = apply_structure(local_structures(node)[k], as_csr(pattern, 1, n), node.size, n)
    return rows if mask.all() else rows[np.flatnonzero(mask)]


def add_products(a, b, rows: list, cols: list) -> None:
    """Append the nonzeros of aᵀb (pairs of wrt elements coupled by one element)."""
    if type(a) is frozenset and type(b) is frozenset:
        ra = np.fromiter(a, dtype=np.int64, count=len(a))
        rb = np.fromiter(b, dtype=np.int64, count=len(b))
        rows.append(np.repeat(ra, rb.size))
        cols.append(np.tile(rb, ra.size))
        return
    n = a.shape[1] if type(a) is not frozenset else b.shape[1]
    a, b = as_csr(a, 1, n), as_csr(b, 1, n)
    product = (a.T @ b).tocoo()
    rows.append(product.row.astype(np.int64))
    cols.append(product.col.astype(np.int64))


# -- what each op declares -----------------------------------------------------------------------
def local_structures(node: Node) -> list:
    """One entry per input: None (no differentiable dependence), IDENTITY, DENSE, or a boolean
    csr_array (node.size, input.size) saying which input elements each output element uses."""
    key = (node.op, node.params, node.shape,
           tuple(p if p.is_const else p.shape for p in node.inputs))   # rules may read consts
    cached = _STRUCTURES.get(key)
    if cached is not None:
        return [s if node.op.rule(k) is not None and is_float(p.dtype) else None
                for k, (s, p) in enumerate(zip(cached, node.inputs))]
    kind = node.op.deps
    builder = BUILDERS.get(kind)
    if builder is None:
        raise SymgradError(f"op {node.op.name!r} declares deps={kind!r}; known kinds: "
                           f"{', '.join(BUILDERS)}")
    structures = builder(node)
    if len(_STRUCTURES) > 4096:
        _STRUCTURES.clear()
    _STRUCTURES[key] = structures
    return local_structures(node)


def _selection(out_index: np.ndarray, in_size: int):
    """csr (len(out_index), in_size): row r selects column out_index[r] (none where < 0)."""
    from scipy import sparse

    keep = out_index >= 0
    rows = np.flatnonzero(keep)
    return sparse.csr_array((np.ones(rows.size, dtype=bool), (rows, out_index[keep])),
                            shape=(out_index.size, in_size))


def _aggregation(in_to_out: np.ndarray, out_size: int):
    """csr (out_size, in_size): output element in_to_out[j] uses input element j."""
    from scipy import sparse

    span = np.arange(in_to_out.size)
    return sparse.csr_array((np.ones(span.size, dtype=bool), (in_to_out, span)),
                            shape=(out_size, in_to_out.size))


def _elementwise(node):
    out = []
    for p in node.inputs:
        if p.shape == node.shape:
            out.append(IDENTITY)
        else:
            index = np.broadcast_to(np.arange(p.size).reshape(p.shape), node.shape).ravel()
            out.append(_selection(index, p.size))
    return out


def _gather(node):
    """Run the op's forward on element numbers (1-based per moved input, 0 where the op fills).
    Inputs that only steer the movement (int indices) must be constants and pass as they are;
    a symbolic one makes the map unknown, so every output depends on every element."""
    arrays, offsets, start = [], [], 1
    for k, p in enumerate(node.inputs):
        if node.op.rule(k) is None or not is_float(p.dtype):
            if not p.is_const:
                return _dense(node)
            arrays.append(p.value)
            offsets.append(None)
            continue
        arrays.append(np.arange(start, start + p.size, dtype=np.int64).reshape(p.shape))
        offsets.append(start)
        start += p.size
    moved = np.asarray(node.op.forward(*arrays, **dict(node.params))).ravel()
    out = []
    for p, first in zip(node.inputs, offsets):
        if first is None:
            out.append(None)
            continue
        index = np.where((moved >= first) & (moved < first + p.size), moved - first, -1)
        out.append(_selection(index, p.size))
    return out


def _fiber_map(x_shape: tuple, kept: tuple) -> np.ndarray:
    """For each element of an array of ``x_shape``: the number of its fiber in ``kept``."""
    size = int(np.prod(kept, dtype=np.int64))
    return np.broadcast_to(np.arange(size).reshape(kept), x_shape).ravel()


def _kept(node, x) -> tuple:
    params = node.kwargs
    if "axis" in params:
        return kept_shape(x.shape, normalize_axes(params["axis"], x.ndim, node.op.name))
    return params["shape"]                                   # sum_to


def _reduce(node):
    x = node.inputs[0]
    return [_aggregation(_fiber_map(x.shape, _kept(node, x)), node.size)]


def _along_axis(node):
    x = node.inputs[0]
    fibers = _fiber_map(x.shape, _kept(node, x))
    count = int(fibers.max()) + 1 if fibers.size else 0
    check_entries(x.size * (x.size // max(count, 1)), node)
    return [_aggregation(fibers, count)[fibers]]


def _matmul(node):
    """out[.., i, j] uses row (.., i) of a and column (.., j) of b; for a constant matrix
    operand, only the entries its nonzeros pair up (so a banded constant stays banded)."""
    from scipy import sparse

    a, b = node.inputs
    am = a.shape if a.ndim >= 2 else (1,) + a.shape
    bm = b.shape if b.ndim >= 2 else b.shape + (1,)
    if len(am) == 2 and len(bm) == 2 and (a.is_const or b.is_const):
        if b.is_const:                       # out[i, j] uses a[i, k] where b[k, j] != 0
            nonzero = sparse.csr_array(b.value.reshape(bm) != 0)
            return [sparse.kron(sparse.identity(am[0], dtype=bool), nonzero.T, format="csr"),
                    None]
        nonzero = sparse.csr_array(a.value.reshape(am) != 0)   # out[i, j] uses b[k, j]
        return [None, sparse.kron(nonzero, sparse.identity(bm[1], dtype=bool), format="csr")]
    out = np.broadcast_shapes(am[:-2], bm[:-2]) + (am[-2], bm[-1])
    check_entries(int(np.prod(out)) * am[-1], node)
    a_rows = _aggregation(_fiber_map(am, am[:-1] + (1,)), a.size // am[-1])
    b_cols = _aggregation(_fiber_map(bm, bm[:-2] + (1, bm[-1])), b.size // bm[-2])
    row_of = _fiber_map(out, am[:-2] + (am[-2], 1))
    col_of = _fiber_map(out, bm[:-2] + (1, bm[-1]))
    return [a_rows[row_of], b_cols[col_of]]


def _dense(node):
    return [DENSE] * len(node.inputs)


BUILDERS = {"elementwise": _elementwise, "gather": _gather, "reduce": _reduce,
            "along_axis": _along_axis, "matmul": _matmul, "dense": _dense}


def couplings(node: Node) -> tuple:
    """Pairs (i, j) of input positions with a structurally nonzero ∂²out/∂in_i∂in_j: the bprop
    rule for input i, built on placeholder inputs, depends differentiably on input j (or on the
    op's output, which depends on every differentiable input). Constants and inputs without a
    gradient (int indices, conditions) stay themselves, so rules that inspect them still work."""
    op = node.op
    live = [k for k, p in enumerate(node.inputs)
            if op.rule(k) is not None and is_float(p.dtype) and not p.is_const]
    key = (op, node.params, tuple((p.shape, p.dtype) if k in live else p
                                  for k, p in enumerate(node.inputs)))
    pairs = _COUPLINGS.get(key)
    if pairs is not None:
        return pairs
    holders = tuple(intern(VAR, (), (("name", f"sparsity#{k}"), ("shape", p.shape),
                                      ("dtype", p.dtype))) if k in live else p
                    for k, p in enumerate(node.inputs))
    out = intern(op, holders, node.params)
    g = intern(VAR, (), (("name", "sparsity#g"), ("shape", out.shape), ("dtype", out.dtype)))
    found = []
    for i in live:
        rule = op.rule(i)
        term = rule(g, out, *holders, **node.kwargs)
        if term is None:
            continue
        through_out = bool(prune(term, [out]))
        found += [(i, j) for j in live if through_out or prune(term, [holders[j]])]
    if len(_COUPLINGS) > 4096:
        _COUPLINGS.clear()
    _COUPLINGS[key] = pairs = tuple(found)
    return pairs
