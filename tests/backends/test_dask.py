"""Batched evaluation of dask arrays: lazy, chunked, values of the numpy backend, and a
10^7-point sweep of W5's third derivative on a two-worker LocalCluster with bounded memory."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import symgrad as sg
from tests.helpers.extras import require

da = require("dask.array")
pytestmark = pytest.mark.extras


def w5_third():
    x, y = sg.var("x"), sg.var("y")
    g = sg.exp(sg.sin(x * y)) * x ** 3 * y / (1 + x ** 2 + y ** 2)
    return sg.gradients(sg.gradients(sg.gradients(g, [x]), [x]), [y])


def test_dask_inputs_give_lazy_dask_outputs_with_the_numpy_values():
    x, v = sg.var("x"), sg.var("v", (3,))
    G = sg.Graph([sg.sum(v * sg.sin(x)), v * x, sg.greater(x, 0)])
    rng = np.random.default_rng(0)
    xs, vs = rng.normal(size=(40, 5)), rng.normal(size=(40, 5, 3))
    fn = sg.compile(G, batched=True)
    got = fn(x=da.from_array(xs, chunks=(10, 5)), v=da.from_array(vs, chunks=(20, 5, 1)))
    assert all(isinstance(a, da.Array) for a in got)
    assert [a.shape for a in got] == [(40, 5), (40, 5, 3), (40, 5)]
    assert [a.dtype for a in got] == [np.float64, np.float64, np.bool_]
    expected = fn(x=xs, v=vs)
    for a, e in zip(got, expected):
        np.testing.assert_array_equal(a.compute(), e)


def test_mixed_dask_and_numpy_inputs_and_batch_errors():
    x, y = sg.var("x"), sg.var("y")
    fn = sg.compile(sg.Graph(x * y), batched=True)
    got = fn(x=da.ones(6, chunks=2), y=np.arange(6.0))[0]
    np.testing.assert_array_equal(got.compute(), np.arange(6.0))
    with pytest.raises(sg.InputError, match="batch"):
        fn(x=da.ones(6, chunks=2), y=np.ones(5))


def test_without_dask_the_error_says_how_to_install(monkeypatch):
    from symgrad.backends.dask_batch import evaluate_dask
    x = sg.var("x")
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(sg.BackendError, match=r"symgrad\[dask\]"):
        evaluate_dask(sg.Graph(x), lambda values: [values["x"]], {"x": np.ones(2)})


def test_ten_million_points_on_a_two_worker_cluster_with_bounded_memory():
    distributed = require("distributed")
    n, chunk = 10_000_000, 500_000
    fn = sg.compile(w5_third(), batched=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="2GiB",
                                  dashboard_address=None, processes=True) as cluster, \
            distributed.Client(cluster) as client:
        px = da.random.default_rng(0).uniform(-2, 2, n, chunks=chunk)
        py = da.random.default_rng(1).uniform(-2, 2, n, chunks=chunk)
        values, = fn(x=px, y=py)
        total, first = client.compute([values.sum(), values[:1000]], sync=True)

        def peak_rss_mb():
            import resource
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        peaks = client.run(peak_rss_mb)
    xs, ys = px[:1000].compute(), py[:1000].compute()
    np.testing.assert_array_equal(first, fn(x=xs, y=ys)[0])
    assert np.isfinite(total)
    # the whole sweep holds 10^7 points in several float64 arrays (>= 240 MB for x, y and the
    # result alone, far more with the intermediates); each worker stays well under that
    assert len(peaks) == 2 and max(peaks.values()) < 600, peaks
