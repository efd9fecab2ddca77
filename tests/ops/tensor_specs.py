"""TENSOR_SPECS: one row per case of the shape, gather, product and linear-algebra functions
(shapes, how to sample the inputs, an independent numpy reference, derivative order)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

import symgrad as sg

NAMES = ("a", "b", "c")


def normal(rng, shape):
    return rng.standard_normal(shape)


def well_conditioned(rng, shape):
    """Random square matrices (batched) dominated by their diagonal: far from singular."""
    return rng.standard_normal(shape) + 3.0 * shape[-1] * np.eye(shape[-1])


def positive_definite(rng, shape):
    x = rng.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def indices(high, low=None):
    """int64 indices in [low, high), with repeats (low defaults to -high: negatives wrap)."""
    def sample(rng, shape):
        return rng.integers(-high if low is None else low, high, size=shape)
    sample.integer = True
    return sample


@dataclass(frozen=True)
class TensorSpec:
    """One case: ``build(*nodes)`` against ``reference(*arrays)`` on inputs of ``shapes``
    sampled by ``samplers`` (default: standard normal), derivatives checked to ``order``."""

    name: str
    build: Callable
    reference: Callable
    shapes: tuple
    samplers: tuple = ()
    order: int = 2
    rtol: float = 1e-6
    sympy: bool = True          # also compare the sympy export with numpy (small cases)

    def sampler(self, k):
        return self.samplers[k] if k < len(self.samplers) else normal

    def inputs(self, dtype="float64") -> list:
        return [sg.var(name, shape, "int64" if getattr(self.sampler(k), "integer", False)
                       else dtype)
                for k, (name, shape) in enumerate(zip(NAMES, self.shapes))]

    def sample(self, rng) -> dict:
        return {name: self.sampler(k)(rng, shape)
                for k, (name, shape) in enumerate(zip(NAMES, self.shapes))}

    def differentiable(self) -> list:
        return [name for k, name in enumerate(NAMES[:len(self.shapes)])
                if not getattr(self.sampler(k), "integer", False)]


S = TensorSpec
I5, I4 = indices(5), indices(4, low=0)
LA = sg.linalg

TENSOR_SPECS = (
    # -- gather ---------------------------------------------------------------------------------
    S("take_rows_repeated", lambda E, i: E[i], lambda E, i: E[i], ((5, 3), (2, 4)),
      (normal, I5), order=3),
    S("take_axis1", lambda x, i: sg.take(x, i, axis=1), lambda x, i: np.take(x, i, axis=1),
      ((2, 4, 3), (6,)), (normal, I4)),
    S("take_flat", lambda x, i: sg.take(x, i), lambda x, i: np.take(x, i), ((3, 4), (2, 3)),
      (normal, indices(12))),
    S("take_const_indices", lambda x: x[:, [2, 0, 2]], lambda x: x[:, [2, 0, 2]], ((3, 4),)),
    S("take_ellipsis", lambda x, i: x[..., i], lambda x, i: x[..., i], ((2, 3, 4), (5,)),
      (normal, I4)),
    # -- products -------------------------------------------------------------------------------
    S("einsum_matmul", lambda a, b: sg.einsum("ij,jk->ik", a, b),
      lambda a, b: a @ b, ((2, 3), (3, 4)), order=3),
    S("einsum_batched_ellipsis", lambda a, b: sg.einsum("...ij,...jk", a, b),
      lambda a, b: np.matmul(a, b), ((2, 1, 3, 4), (5, 4, 2))),
    S("einsum_diagonal", lambda a: sg.einsum("ii->i", a), lambda a: np.diag(a).copy(),
      ((3, 3),), order=3),
    S("einsum_trace_implicit", lambda a: sg.einsum("ii", a), lambda a: np.trace(a), ((3, 3),)),
    S("einsum_repeat_and_sum", lambda a, b: sg.einsum("iij,jk->k", a, b),
      lambda a, b: np.diagonal(a).T.sum(0) @ b, ((3, 3, 2), (2, 4))),
    S("einsum_three_operands", lambda a, b, c: sg.einsum("bi,bij,j->b", a, b, c),
      lambda a, b, c: np.stack([a[k] @ b[k] @ c for k in range(2)]), ((2, 3), (2, 3, 4), (4,))),
    S("einsum_broadcast_size1", lambda a, b: sg.einsum("ij,j->i", a, b),
      lambda a, b: (a * b).sum(1), ((2, 3), (1,))),
    S("einsum_implicit_transpose", lambda a: sg.einsum("ba", a), lambda a: a.T, ((2, 3),)),
    S("einsum_outer_squared", lambda a: sg.einsum("i,j->ij", a, a),
      lambda a: a[:, None] * a[None, :], ((3,),), order=3),
    S("tensordot_2", lambda a, b: sg.tensordot(a, b), lambda a, b: np.tensordot(a, b),
      ((2, 3, 4), (3, 4, 2))),
    S("tensordot_pairs", lambda a, b: sg.tensordot(a, b, axes=([0, 2], [2, 0])),
      lambda a, b: np.tensordot(a, b, axes=([0, 2], [2, 0])), ((2, 3, 4), (4, 3, 2))),
    S("outer", sg.outer, np.outer, ((3,), (2, 2))),
    S("trace", sg.trace, np.trace, ((3, 3),), order=3),
    S("trace_offset_axes", lambda a: sg.trace(a, 1, 0, 2), lambda a: np.trace(a, 1, 0, 2),
      ((3, 2, 4),)),
    S("diagonal_negative_offset", lambda a: sg.diagonal(a, -1), lambda a: np.diagonal(a, -1),
      ((3, 4),)),
    S("diagonal_axes", lambda a: sg.diagonal(a, 1, 2, 0), lambda a: np.diagonal(a, 1, 2, 0),
      ((3, 2, 4),)),
    S("diag_of_vector", lambda v: sg.diag(v, 1), lambda v: np.diag(v, 1), ((3,),)),
    S("diag_of_vector_below", lambda v: sg.diag(v, -2), lambda v: np.diag(v, -2), ((2,),)),
    S("diag_of_matrix", lambda m: sg.diag(m), lambda m: np.diag(m), ((3, 4),)),
    S("tril", lambda x: sg.tril(x, 1), lambda x: np.tril(x, 1), ((2, 3, 4),)),
    S("triu", lambda x: sg.triu(x, -1), lambda x: np.triu(x, -1), ((2, 3, 4),)),
    S("tril_of_vector", sg.tril, np.tril, ((3,),)),
    S("inner", sg.inner, np.inner, ((2, 3), (4, 3))),
    S("inner_scalar", sg.inner, np.inner, ((), (3,))),
    S("kron", sg.kron, np.kron, ((2, 3), (2,))),
    S("cross", sg.cross, np.cross, ((2, 3), (3,)), order=3),
    S("cross_axis0", lambda a, b: sg.cross(a, b, axis=0), lambda a, b: np.cross(a, b, axis=0),
      ((3, 2), (3, 1))),
    # -- shape ----------------------------------------------------------------------------------
    S("expand_dims", lambda x: sg.expand_dims(x, (0, -1)), lambda x: np.expand_dims(x, (0, -1)),
      ((2, 3),)),
    S("squeeze", sg.squeeze, np.squeeze, ((1, 3, 1),)),
    S("squeeze_axis", lambda x: sg.squeeze(x, -1), lambda x: np.squeeze(x, -1), ((1, 3, 1),)),
    S("tile", lambda x: sg.tile(x, (2, 1, 2)), lambda x: np.tile(x, (2, 1, 2)), ((2, 3),),
      order=3),
    S("tile_short_reps", lambda x: sg.tile(x, 2), lambda x: np.tile(x, 2), ((2, 3),)),
    S("repeat_int", lambda x: sg.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1),
      ((2, 3),)),
    S("repeat_counts_flat", lambda x: sg.repeat(x, [0, 2, 1, 3]),
      lambda x: np.repeat(x, [0, 2, 1, 3]), ((2, 2),)),
    S("flip", lambda x: sg.flip(x, 1), lambda x: np.flip(x, 1), ((2, 3),)),
    S("flip_all", sg.flip, np.flip, ((2, 3),)),
    S("pad_constant", lambda x: sg.pad(x, ((1, 0), (2, 1)), constant_values=0.5),
      lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=0.5), ((2, 3),), order=3),
    S("pad_int_width", lambda x: sg.pad(x, 1), lambda x: np.pad(x, 1), ((2, 2, 2),)),
    S("split_sections", lambda x: sg.split(x, 3, axis=1)[1],
      lambda x: np.split(x, 3, axis=1)[1], ((2, 6),)),
    S("split_indices", lambda x: sg.concatenate([p * k for k, p in enumerate(sg.split(x, [1, 3]))]),
      lambda x: np.concatenate([p * k for k, p in enumerate(np.split(x, [1, 3]))]), ((5, 2),)),
    S("moveaxis", lambda x: sg.moveaxis(x, (0, 1), (-1, 0)),
      lambda x: np.moveaxis(x, (0, 1), (-1, 0)), ((2, 3, 4),)),
    S("swapaxes", lambda x: sg.swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2), ((2, 3, 4),)),
    S("broadcast_to", lambda x: sg.broadcast_to(x, (2, 3, 4)),
      lambda x: np.broadcast_to(x, (2, 3, 4)), ((3, 1),)),
    # -- linear algebra -------------------------------------------------------------------------
    S("inv", LA.inv, np.linalg.inv, ((3, 3),), (well_conditioned,), order=3, rtol=1e-5),
    S("inv_batched", LA.inv, np.linalg.inv, ((2, 3, 3),), (well_conditioned,), rtol=1e-5,
      sympy=False),
    S("det", LA.det, np.linalg.det, ((3, 3),), (well_conditioned,), order=3, rtol=1e-5),
    S("det_batched", LA.det, np.linalg.det, ((2, 2, 2),), (well_conditioned,), rtol=1e-5),
    S("slogdet_logabsdet", lambda a: LA.slogdet(a)[1], lambda a: np.log(np.abs(
        np.linalg.det(a))), ((2, 3, 3),), (well_conditioned,), rtol=1e-5, sympy=False),
    S("slogdet_sign", lambda a: LA.slogdet(a)[0], lambda a: np.sign(np.linalg.det(a)),
      ((2, 3, 3),), (normal,), order=0, sympy=False),
    S("solve_vector", LA.solve, lambda a, b: np.linalg.inv(a) @ b, ((3, 3), (3,)),
      (well_conditioned,), order=3, rtol=1e-5),
    S("solve_matrix", LA.solve, lambda a, b: np.linalg.inv(a) @ b, ((3, 3), (3, 2)),
      (well_conditioned,), rtol=1e-5),
    S("solve_batched_vector", LA.solve, lambda a, b: (np.linalg.inv(a) @ b[:, None])[..., 0],
      ((2, 3, 3), (3,)), (well_conditioned,), rtol=1e-5, sympy=False),
    S("solve_broadcast_batch", LA.solve, lambda a, b: np.linalg.inv(a) @ b,
      ((2, 1, 3, 3), (4, 3, 2)), (well_conditioned,), rtol=1e-5, sympy=False),
    S("matrix_power", lambda a: LA.matrix_power(a, 5), lambda a: np.linalg.matrix_power(a, 5),
      ((2, 3, 3),), rtol=1e-5, sympy=False),
    S("matrix_power_negative", lambda a: LA.matrix_power(a, -2),
      lambda a: np.linalg.matrix_power(a, -2), ((3, 3),), (well_conditioned,), rtol=1e-5),
    S("matrix_power_zero", lambda a: LA.matrix_power(a, 0) * a,
      lambda a: np.linalg.matrix_power(a, 0) * a, ((2, 2),)),
    S("cholesky", LA.cholesky, np.linalg.cholesky, ((3, 3),), (positive_definite,), order=3,
      rtol=1e-5),
    S("cholesky_batched", LA.cholesky, np.linalg.cholesky, ((2, 3, 3),), (positive_definite,),
      rtol=1e-5, sympy=False),
)
