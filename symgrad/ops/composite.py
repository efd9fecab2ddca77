"""The softmax family: softmax, log_softmax, logsumexp, cross_entropy, max-shifted (stable).

Each is a primitive whose numpy forward subtracts the max first and whose bprop uses only
shifted quantities (``exp(log_softmax)``, ``exp(x - logsumexp)``), so logits of ±1000 give
finite values and gradients at every order. The cross-entropy gradient ``(softmax − onehot)/N``
is one primitive that indexes the label column; no one-hot matrix is ever made.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, ShapeError
from ..ir import Node
from ..ir.types import float_of
from ._define import apply, batch_axes, const, define_op, lift
from .arith import add, div, mul, neg, sub
from .elements import _reduced_shape, each, fold
from .elementwise import abs_, exp, less, log, maximum, where
from .logic import equal, greater_equal, logical_and
from .reduce import object_array, sum_
from .shape import broadcast_to, keepdims_flag, kept_shape, normalize_axes, reshape


SHORT_ROW = 64      # rows up to this long: their max by one maximum call per column


def _max_kept(x: np.ndarray, axis) -> np.ndarray:
    """x's max over ``axis``, kept. Over the last axis of short rows, numpy's reduction runs one
    short loop per row (10 us for 128 rows of 10); this computes the same left-to-right
    ``maximum`` fold (NaN wherever one is, ties as ``np.maximum`` and the scalarized fold) as
    one ``maximum`` call per column of the transposed rows."""
    axes = axis if type(axis) is tuple else (axis,)
    if (x.ndim and axes in ((x.ndim - 1,), (-1,)) and x.dtype.kind == "f"
            and 0 < x.shape[-1] <= SHORT_ROW and x.size > x.shape[-1]):
        columns = np.ascontiguousarray(x.reshape(-1, x.shape[-1]).T)
        return np.maximum.reduce(columns, axis=0).reshape(x.shape[:-1] + (1,))
    return x.max(axis=axis, keepdims=True)


def _shift(x, axis):
    """x minus its max over ``axis`` (kept), and that max, replaced by 0 where infinite."""
    x = np.asarray(x)
    peak = _max_kept(x, axis)
    if not np.isfinite(np.add.reduce(peak, axis=None)):   # (a sum that overflows: a no-op)
        peak = np.where(np.isfinite(peak), peak, 0)  # rows of -inf (or inf) stay unshifted
    return x - peak, peak


def _exp_shifted(x, axis):
    """exp(x - max) and the max (over ``axis``, kept), the max replaced by 0 where infinite."""
    shifted, peak = _shift(x, axis)
    return np.exp(shifted, out=shifted) if shifted.dtype.kind == "f" else np.exp(shifted), peak


def _exp_shifted_elements(x, axis):
    """``_exp_shifted`` on object arrays of scalar nodes: (x - max, its exp, the max), the max
    of each slice by a left fold of ``maximum`` (NaN anywhere gives NaN, as numpy's max)."""
    peak = fold(maximum, x, axis, keepdims=True)
    peak = each(where, each(less, each(abs_, peak), np.inf), peak, 0.0)
    shifted = each(sub, x, peak)
    return shifted, each(exp, shifted), peak


def _softmax_elements(x, *, axis):
    if x.size == 0:
        return x
    _, e, _ = _exp_shifted_elements(x, axis)
    return each(div, e, fold(add, e, axis, keepdims=True))


def _log_softmax_elements(x, *, axis):
    if x.size == 0:
        return x
    shifted, e, _ = _exp_shifted_elements(x, axis)
    return each(sub, shifted, each(log, fold(add, e, axis, keepdims=True)))


def _logsumexp_elements(x, *, axis, keepdims):
    _, e, peak = _exp_shifted_elements(x, axis)
    out = each(add, each(log, fold(add, e, axis, keepdims=True)), peak)
    return out if keepdims else out.reshape(_reduced_shape(x.shape, axis, False))


def _exp_shifted_jax(jnp, x, axis):
    """``_exp_shifted`` in jax.numpy (pure: no in-place updates)."""
    peak = x.max(axis=axis, keepdims=True)
    peak = jnp.where(jnp.isfinite(peak), peak, 0)
    return jnp.exp(x - peak), peak


def _softmax_jax(jnp, x, *, axis):
    e, _ = _exp_shifted_jax(jnp, x, axis)
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax_jax(jnp, x, *, axis):
    e, peak = _exp_shifted_jax(jnp, x, axis)
    return (x - peak) - jnp.log(e.sum(axis=axis, keepdims=True))


def _logsumexp_jax(jnp, x, *, axis, keepdims):
    e, peak = _exp_shifted_jax(jnp, x, axis)
    out = jnp.log(e.sum(axis=axis, keepdims=True)) + peak
    return out if keepdims else jnp.squeeze(out, axis=axis)


def _nll_jax(jnp, log_p, labels):
    return -jnp.take_along_axis(log_p, labels[:, None], axis=1)[:, 0].mean()


def _emo_jax(jnp, log_p, labels):
    p = jnp.exp(log_p)
    return p.at[jnp.arange(p.shape[0]), labels].add(-1)


def _cross_entropy_jax(jnp, logits, labels):
    return _nll_jax(jnp, _log_softmax_jax(jnp, logits, axis=(1,)), labels)


def _check_float_axes(opname, x, axis, empty_ok=False):
    if x.dtype == "bool":
        raise ShapeError(f"{opname}: input must be numbers, not bool")
    if not empty_ok and any(x.shape[a] == 0 for a in axis):
        raise ShapeError(f"{opname}: cannot reduce over an empty axis of shape {x.shape}")


def _vectorized(sp_fn):
    return np.frompyfunc(sp_fn, 1, 1)


# -- softmax ------------------------------------------------------------------------------------
def _softmax_infer(x, *, axis):
    _check_float_axes("softmax", x, axis, empty_ok=True)    # empty in, empty out (numpy, JAX)
    return x.shape, float_of(x.dtype)


def _softmax_forward(x, *, axis):
    if np.size(x) == 0:
        return np.empty(np.shape(x), dtype=float_of(np.asarray(x).dtype.name))
    e, _ = _exp_shifted(x, axis)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _softmax_sympy(sp, x, *, axis):
    e = _vectorized(sp.exp)(x)
    return e / np.sum(e, axis=axis, keepdims=True)


softmax_op = define_op(
    "softmax", deps="along_axis", infer=_softmax_infer, forward=_softmax_forward, public=False,
    jax=_softmax_jax,
    # d softmax: s * (g - sum(g * s)) along the axis
    bprop=(lambda g, out, x, *, axis: mul(out, sub(g, sum_(mul(g, out), axis, keepdims=True))),),
    sympy=_softmax_sympy, doc="exp(x) / sum(exp(x)) along axis, max-shifted",
    emit={"batch": lambda batch, x, *, axis: _softmax_forward(x, axis=batch_axes(axis, batch)),
          "scalarize": _softmax_elements})


def softmax(x, axis=-1) -> Node:
    """exp(x) normalised to sum to 1 along ``axis`` (int or tuple), computed max-shifted.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.softmax(sg.const([1000.0, 1000.0])), {})[0].tolist()
    [0.5, 0.5]
    """
    x = lift(x, None)
    return apply(softmax_op, (x,), {"axis": normalize_axes(axis, x.ndim, "softmax")})


# -- log_softmax --------------------------------------------------------------------------------
def _log_softmax_infer(x, *, axis):
    _check_float_axes("log_softmax", x, axis, empty_ok=True)
    return x.shape, float_of(x.dtype)


def _log_softmax_forward(x, *, axis):
    if np.size(x) == 0:
        return np.empty(np.shape(x), dtype=float_of(np.asarray(x).dtype.name))
    shifted, _ = _shift(x, axis)
    log_total = np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
    if shifted.dtype.kind == "f":
        shifted -= log_total
        return shifted
    return shifted - log_total


def _log_softmax_sympy(sp, x, *, axis):
    total = np.sum(_vectorized(sp.exp)(x), axis=axis, keepdims=True)
    return x - _vectorized(sp.log)(total)


log_softmax_op = define_op(
    "log_softmax", deps="along_axis", infer=_log_softmax_infer, forward=_log_softmax_forward,
    public=False, jax=_log_softmax_jax,
    # g - softmax * sum(g), with softmax = exp(out): out <= 0, so exp never overflows
    bprop=(lambda g, out, x, *, axis: sub(g, mul(exp(out), sum_(g, axis, keepdims=True))),),
    sympy=_log_softmax_sympy, doc="x - logsumexp(x) along axis, max-shifted",
    emit={"batch": lambda batch, x, *, axis: _log_softmax_forward(
        x, axis=batch_axes(axis, batch)), "scalarize": _log_softmax_elements})


def log_softmax(x, axis=-1) -> Node:
    """log(softmax(x)) along ``axis``, computed as ``x - logsumexp(x)`` max-shifted.

    >>> import symgrad as sg
    >>> sg.evaluate(sg.log_softmax(sg.const([0.0, -1000.0])), {})[0].tolist()
    [0.0, -1000.0]
    """
    x = lift(x, None)
    return apply(log_softmax_op, (x,), {"axis": normalize_axes(axis, x.ndim, "log_softmax")})


# -- logsumexp ----------------------------------------------------------------------------------
def _logsumexp_infer(x, *, axis, keepdims):
    _check_float_axes("logsumexp", x, axis)
    shape = kept_shape(x.shape, axis) if keepdims else tuple(
        d for i, d in enumerate(x.shape) if i not in axis)
    return shape, float_of(x.dtype)


def _logsumexp_forward(x, *, axis, keepdims):
    e, peak = _exp_shifted(x, axis)
    out = np.log(np.sum(e, axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)


def _logsumexp_rule(g, out, x, *, axis, keepdims):
    # g * softmax(x), max-shifted: exact at any magnitude (exp(x - out) is [1, 1], not
    # [0.5, 0.5], for logsumexp([x, x]) once x > 1e16, where out rounds to x)
    return mul(reshape(g, kept_shape(x.shape, axis)), softmax(x, axis))


def _logsumexp_sympy(sp, x, *, axis, keepdims):
    total = np.sum(_vectorized(sp.exp)(x), axis=axis, keepdims=keepdims)
    return object_array(_vectorized(sp.log)(total))


logsumexp_op = define_op(
    "logsumexp", deps="reduce", infer=_logsumexp_infer, forward=_logsumexp_forward, public=False,
    jax=_logsumexp_jax,
    bprop=(_logsumexp_rule,), sympy=_logsumexp_sympy,
    emit={"batch": lambda batch, x, *, axis, keepdims: _logsumexp_forward(
        x, axis=batch_axes(axis, batch), keepdims=keepdims), "scalarize": _logsumexp_elements},
    doc="log(sum(exp(x))) over axes, max-shifted")


def logsumexp(x, axis=None, keepdims: bool = False) -> Node:
    """log(sum(exp(x))) over ``axis`` (None: all), computed max-shifted so it never overflows.

    >>> import symgrad as sg
    >>> round(sg.evaluate(sg.logsumexp(sg.const([1000.0, 1000.0])), {})[0].item(), 6)
    1000.693147
    """
    x = lift(x, None)
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    flag = keepdims_flag(keepdims, "logsumexp")
    return apply(logsumexp_op, (x,), {"axis": axes, "keepdims": flag})


# -- cross-entropy ------------------------------------------------------------------------------
def _check_pair(opname, logits, labels):
    if logits.ndim != 2:
        raise ShapeError(f"{opname}: logits must be a matrix (rows, classes), got shape "
                         f"{logits.shape}")
    if labels.dtype != "int64":
        raise ShapeError(f"{opname}: labels must be int64 class indices, got dtype "
                         f"{labels.dtype}; declare them with sg.var(name, shape, dtype='int64')")
    if labels.shape != logits.shape[:1]:
        raise ShapeError(f"{opname}: logits {logits.shape} and labels {labels.shape} do not "
                         f"fit; labels must have shape ({logits.shape[0]},), one per row")
    if logits.dtype == "bool" or logits.shape[1] == 0:
        raise ShapeError(f"{opname}: logits {logits.shape} of dtype {logits.dtype} must be "
                         f"numbers with at least one class")


def _check_labels(labels, classes):
    labels = np.asarray(labels)
    # one reduction: as uint64, a negative label is larger than any class count
    if labels.size and labels.view(np.uint64).max() >= classes:
        bad = labels[(labels < 0) | (labels >= classes)]
        raise InputError(f"cross_entropy: label {int(bad[0])} is out of range for {classes} "
                         f"classes; labels must lie in 0..{classes - 1}")
    return labels


def _cross_entropy_infer(logits, labels):
    _check_pair("cross_entropy", logits, labels)
    return (), float_of(logits.dtype)


def _nll_infer(log_p, labels):
    _check_pair("nll", log_p, labels)
    return (), float_of(log_p.dtype)


def _emo_infer(log_p, labels):
    _check_pair("exp_minus_onehot", log_p, labels)
    return log_p.shape, float_of(log_p.dtype)


def _nll_forward(log_p, labels):
    rows, classes = log_p.shape
    labels = _check_labels(labels, classes)
    if rows == 0:                        # the mean of no rows: NaN, as numpy and JAX, silently
        return np.array(np.nan, dtype=float_of(log_p.dtype.name))
    picked = log_p[np.arange(rows), labels]
    if picked.dtype.kind != "f":
        return -picked.mean()
    # np.mean's own steps for floats in fewer calls: pairwise sum, / the count as np.intp (in
    # float64 for float32), back to the dtype
    return -picked.dtype.type(np.add.reduce(picked) / np.intp(rows))


def _emo_forward(log_p, labels):
    labels = _check_labels(labels, log_p.shape[1])
    p = np.exp(log_p)
    p[np.arange(p.shape[0]), labels] -= 1
    return p


def _cross_entropy_forward(logits, labels):
    # exactly nll(log_softmax(logits)): sg.optimize rewrites it so (rule ``shared_log_softmax``)
    return _nll_forward(_log_softmax_forward(np.asarray(logits), axis=(1,)), labels)


def _log_softmax_rows(sp, logits):
    total = np.sum(_vectorized(sp.exp)(logits), axis=1, keepdims=True)
    return logits - _vectorized(sp.log)(total)


def _onehot_sympy(sp, labels, classes):
    # KroneckerDelta keeps symbolic labels exact and collapses to 0/1 for numeric ones
    return np.array([[sp.KroneckerDelta(label, c) for c in range(classes)] for label in labels],
                    dtype=object).reshape(len(labels), classes)


def _nll_sympy(sp, log_p, labels):
    picked = log_p * _onehot_sympy(sp, labels, log_p.shape[1])
    return object_array(-np.sum(picked) / log_p.shape[0])


def _emo_sympy(sp, log_p, labels):
    return _vectorized(sp.exp)(log_p) - _onehot_sympy(sp, labels, log_p.shape[1])


def _label_is(labels, classes: int) -> tuple:
    """(``labels[i] == j`` as a (rows, classes) object array, whether each row's label is in
    range): True/False and None for numeric labels (checked as numpy does, raising
    InputError), bool nodes for labels given as input nodes."""
    if labels.dtype != object:
        labels = _check_labels(labels, classes)
        return labels[:, None] == np.arange(classes), [None] * len(labels)
    valid = [logical_and(greater_equal(label, 0), less(label, classes)) for label in labels]
    return each(equal, labels[:, None], np.arange(classes)), valid


def _select(condition, a, b):
    """``a`` where ``condition`` (a bool, or a bool node: then a ``where``), else ``b``."""
    if condition is None or isinstance(condition, (bool, np.bool_)):
        return a if condition in (None, True) else b
    return where(condition, a, b)


def _nll_elements(log_p, labels):
    """nll on nodes; a row whose label is out of range gives NaN (numpy raises)."""
    rows, classes = log_p.shape
    if rows == 0:                                     # as the forward: NaN
        return np.array(np.nan)
    is_label, valid = _label_is(labels, classes)
    picked = np.empty(rows, dtype=object)             # log_p[i, labels[i]]
    for i in range(rows):
        chain = log_p[i, classes - 1]
        for j in reversed(range(classes - 1)):
            chain = _select(is_label[i, j], log_p[i, j], chain)
        picked[i] = _select(valid[i], chain, np.nan)
    return each(neg, each(div, fold(add, picked, (0,), False), rows))


def _emo_elements(log_p, labels):
    """exp_minus_onehot on nodes; a row whose label is out of range is NaN."""
    is_label, valid = _label_is(labels, log_p.shape[1])
    p = each(exp, log_p)
    out = np.frompyfunc(lambda c, x: _select(c, sub(x, 1), x), 2, 1)(is_label, p)
    for i, row_valid in enumerate(valid):
        out[i] = [_select(row_valid, x, np.nan) for x in out[i]]
    return out


def _minus_onehot(log_p: Node, labels: Node) -> Node:
    """-onehot(labels) of log_p's shape and dtype: exp_minus_onehot where every exp is 0."""
    return exp_minus_onehot(broadcast_to(const(-np.inf, log_p.dtype), log_p.shape), labels)


nll_op = define_op(
    "nll", infer=_nll_infer, forward=_nll_forward, public=False, jax=_nll_jax,
    bprop=(lambda g, out, log_p, labels: mul(div(g, log_p.shape[0]), _minus_onehot(log_p, labels)),
           None),                                    # int labels: not differentiable
    sympy=_nll_sympy, emit={"scalarize": _nll_elements},
    doc="mean over rows of -log_p[i, labels[i]] (cross_entropy of log_p = log_softmax(logits))")

exp_minus_onehot_op = define_op(
    "exp_minus_onehot", infer=_emo_infer, forward=_emo_forward, public=False, jax=_emo_jax,
    bprop=(lambda g, out, log_p, labels: mul(g, exp(log_p)), None),   # the one-hot is constant
    sympy=_emo_sympy, emit={"scalarize": _emo_elements},
    doc="exp(log_p) with 1 subtracted at each row's label (softmax - onehot when log_p is "
        "log_softmax(logits): cross-entropy's gradient)")


def nll(log_p, labels) -> Node:
    """Mean over rows of ``-log_p[i, labels[i]]``; cross_entropy(logits, labels) is
    ``nll(log_softmax(logits, axis=1), labels)`` value for value.

    >>> import symgrad as sg
    >>> out = sg.ops.composite.nll(sg.const([[-1.0, -2.0]]), sg.const([1]))
    >>> sg.evaluate(out, {})[0].item()
    2.0
    """
    return apply(nll_op, (lift(log_p, None), lift(labels, None)))


def exp_minus_onehot(log_p, labels) -> Node:
    """``exp(log_p)`` with 1 subtracted at each row's label, without building the one-hot.

    >>> import symgrad as sg
    >>> out = sg.ops.composite.exp_minus_onehot(sg.const([[0.0, -np.inf]]), sg.const([1]))
    >>> sg.evaluate(out, {})[0].tolist()
    [[1.0, -1.0]]
    """
    return apply(exp_minus_onehot_op, (lift(log_p, None), lift(labels, None)))


cross_entropy_op = define_op(
    "cross_entropy", infer=_cross_entropy_infer, forward=_cross_entropy_forward, public=False,
    jax=_cross_entropy_jax,
    bprop=(lambda g, out, logits, labels:
           mul(div(g, logits.shape[0]), softmax_minus_onehot(logits, labels)),
           None),                                    # int labels: not differentiable
    sympy=lambda sp, logits, labels: _nll_sympy(sp, _log_softmax_rows(sp, logits), labels),
    emit={"scalarize": lambda logits, labels: _nll_elements(
        _log_softmax_elements(logits, axis=(1,)), labels)},
    doc="mean over rows of -log_softmax(logits)[i, labels[i]]")


def softmax_minus_onehot(logits, labels) -> Node:
    """``softmax(logits, axis=1) - onehot(labels)`` (cross-entropy's gradient times the row
    count) as ``exp_minus_onehot(log_softmax(logits, axis=1), labels)``: the log_softmax node
    is the one ``sg.optimize`` shares with the loss.

    >>> import symgrad as sg
    >>> out = sg.ops.composite.softmax_minus_onehot(sg.const([[0.0, 0.0]]), sg.const([1]))
    >>> sg.evaluate(out, {})[0].tolist()
    [[0.5, -0.5]]
    """
    return exp_minus_onehot(log_softmax(logits, 1), labels)


def cross_entropy(logits, labels) -> Node:
    """Mean over rows of ``-log_softmax(logits)[i, labels[i]]``: ``logits`` (N, C) floats,
    ``labels`` an int64 vector of N class indices (not differentiable). Labels outside 0..C-1
    raise InputError when evaluated.

    >>> import symgrad as sg
    >>> loss = sg.cross_entropy(sg.var("z", shape=(2, 3)), sg.var("y", shape=(2,), dtype="int64"))
    >>> round(sg.evaluate(loss, {"z": [[0, 0, 0], [1000, 0, 0]], "y": [2, 0]})[0].item(), 6)
    0.549306
    """
    return apply(cross_entropy_op, (lift(logits, None), lift(labels, None)))


OPS = (softmax_op, log_softmax_op, logsumexp_op, cross_entropy_op, nll_op, exp_minus_onehot_op)
FUNCTIONS = (softmax, log_softmax, logsumexp, cross_entropy)
