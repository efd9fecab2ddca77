"""Every ShapeError path of the tensor ops: raised at build time, naming the op and the shapes."""

from __future__ import annotations

import re

import numpy as np
import pytest

import symgrad as sg


def A(*shape, dtype="float64"):
    return sg.var("a" + "_".join(map(str, shape)) + dtype[0], shape, dtype)


def test_matmul_inner_dimension_message_is_exact():
    with pytest.raises(sg.ShapeError) as info:
        A(3, 4) @ A(5, 2)
    assert str(info.value) == "matmul: (3, 4) @ (5, 2): inner dimensions 4 and 5 differ"


CASES = [
    (lambda: A(4) @ A(5), r"matmul: \(4,\) @ \(5,\): inner dimensions 4 and 5 differ"),
    (lambda: A(2, 3, 4) @ A(5, 4, 2), r"matmul: \(2, 3, 4\) @ \(5, 4, 2\): batch dimensions"),
    (lambda: sg.matmul(A(), A(3)), r"matmul: \(\) @ \(3,\).*at least one dimension"),
    (lambda: sg.matmul(A(3) > 0, A(3)), r"matmul: .*not bool"),
    (lambda: sg.dot(A(2, 3, 4), A(5, 3, 2)), r"dot: \(2, 3, 4\) \. \(5, 3, 2\): inner"),
    (lambda: sg.dot(A(3, 4), A(3)), r"matmul: \(3, 4\) @ \(3,\)"),
    (lambda: A(2, 3) + A(4), r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: sg.transpose(A(2, 3), (0, 0)), r"transpose: axis .* repeats"),
    (lambda: sg.transpose(A(2, 3), (0,)), r"transpose: axes \(0,\) must list each of the 2"),
    (lambda: sg.transpose(A(2, 3), (0, 2)), r"transpose: axis 2 is out of range"),
    (lambda: A(2, 3)[0, 1, 2], r"getitem: too many indices \(3\) for an array of shape \(2, 3\)"),
    (lambda: A(2, 3)[:, 3], r"getitem: index 3 is out of range for axis 1 of size 3"),
    (lambda: A(2, 3)[-3], r"getitem: index -3 is out of range for axis 0 of size 2"),
    (lambda: A(2, 3)[::0], r"getitem: slice step cannot be zero"),
    (lambda: A(2, 3)[1.5], r"getitem: indices must be constant integers"),
    (lambda: A(2, 3)[[0.5, 1]], r"take: indices must be integers"),
    (lambda: A(2, 3)[0.5:], r"getitem: slice bounds must be constant integers"),
    (lambda: A(2, 3)[..., ...], r"getitem: an index can only have a single ellipsis"),
    (lambda: A(2, 3)[A()], r"take: indices must be int64"),
    (lambda: sg.reshape(A(2, 3), (4, 2)), r"reshape: cannot reshape \(2, 3\)"),
    (lambda: sg.reshape(A(2, 3), (-1, -1)), r"reshape: at most one dimension may be -1"),
    (lambda: sg.reshape(A(2, 3), (4, -1)), r"reshape: cannot reshape \(2, 3\) to \(4, -1\)"),
    (lambda: sg.broadcast_to(A(2, 3), (3, 3)), r"broadcast_to: .*\(2, 3\).*\(3, 3\)"),
    (lambda: sg.concatenate([A(2, 3), A(2, 4)]), r"concatenate: shapes \(2, 3\) and \(2, 4\)"),
    (lambda: sg.concatenate([A(), A()]), r"concatenate: inputs must have at least one"),
    (lambda: sg.concatenate([]), r"concatenate: expects a non-empty list"),
    (lambda: sg.stack([A(2), A(3)]), r"stack: shapes \(2,\) and \(3,\) differ"),
    (lambda: sg.stack([A(2)], axis=2), r"stack: axis 2 is out of range"),
    (lambda: sg.sum(A(2, 3), axis=2), r"sum: axis 2 is out of range for an array of 2"),
    (lambda: sg.sum(A(2, 3), axis=(0, -2)), r"sum: axis \(0, -2\) repeats an axis"),
    (lambda: sg.sum(A(2, 3), axis=1.0), r"sum: axis must be an int or a tuple of ints"),
    (lambda: sg.mean(A(2, 3), axis=-3), r"mean: axis -3 is out of range"),
    (lambda: sg.mean(A(0, 3), axis=0), r"mean: the reduced axes \(0,\) of shape \(0, 3\)"),
    (lambda: sg.max(A(2, 3), axis=5), r"max: axis 5 is out of range"),
    (lambda: sg.max(A(0, 3), axis=0), r"max: cannot take the max over an empty axis"),
    (lambda: sg.softmax(A(2, 3), axis=2), r"softmax: axis 2 is out of range"),
    (lambda: sg.log_softmax(A(2, 3) > 0), r"log_softmax: input must be numbers, not bool"),
    (lambda: sg.logsumexp(A(2, 3), axis=(1, 1)), r"logsumexp: axis \(1, 1\) repeats"),
    (lambda: sg.logsumexp(A(0)), r"logsumexp: cannot reduce over an empty axis"),
    (lambda: sg.cross_entropy(A(6), A(6, dtype="int64")),
     r"cross_entropy: logits must be a matrix \(rows, classes\), got shape \(6,\)"),
    (lambda: sg.cross_entropy(A(2, 3), A(2)),
     r"cross_entropy: labels must be int64 class indices, got dtype float64"),
    (lambda: sg.cross_entropy(A(2, 3), A(3, dtype="int64")),
     r"cross_entropy: logits \(2, 3\) and labels \(3,\) do not fit"),
    (lambda: sg.cross_entropy(A(2, 0), A(2, dtype="int64")),
     r"cross_entropy: logits \(2, 0\) .* at least one class"),
    (lambda: sg.gradients(A(2, 3) * 2, [A(2, 3)], grad_output=np.ones((3, 2))),
     r"gradients: grad_output has shape \(3, 2\) but the output has shape \(2, 3\)"),
    (lambda: sg.Graph(sg.var("w", (2,)) * sg.sum(sg.var("w", (3,)))),
     r"input 'w' is used with two"),
]


@pytest.mark.parametrize("build,pattern", CASES, ids=[c[1][:40] for c in CASES])
def test_shape_errors_name_the_op_and_shapes(build, pattern):
    with pytest.raises(sg.ShapeError) as info:
        build()
    assert re.search(pattern, str(info.value)), str(info.value)


def test_shape_error_is_a_symgrad_value_error():
    with pytest.raises(ValueError):
        A(3, 4) @ A(5, 2)
    with pytest.raises(sg.SymgradError):
        A(3, 4) @ A(5, 2)
