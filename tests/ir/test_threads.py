"""Interning under threads and without the cycle collector (issue 7, items 1 and 2): one node per
structure, no crash in collection, memory reclaimed whatever gc says, and an 8-thread stress
test that builds, differentiates and evaluates at once."""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import pytest

import symgrad as sg
from symgrad.ir import node as node_module

THREADS = 8


@pytest.fixture
def frequent_collection(monkeypatch):
    """Collect the node table every few hundred nodes and switch threads very often, so that
    races between lookups, inserts and collections are exercised in a short test."""
    monkeypatch.setattr(node_module, "_COLLECT_MIN", 256)
    node_module._COLLECT_AT[0] = 256
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)
    node_module._COLLECT_AT[0] = node_module._COLLECT_MIN


def run_threads(work, count=THREADS):
    """Run ``work(k)`` in ``count`` threads started together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    errors, results = [], [None] * count

    def target(k):
        try:
            barrier.wait()
            results[k] = work(k)
        except BaseException as exc:      # noqa: BLE001 - reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_building_chains_in_threads_while_the_table_is_collected(frequent_collection):
    def work(k):
        for trial in range(12):
            h = sg.var(f"h{k}")
            for j in range(300):
                h = h * float(j + k + .5)
            assert h.op.name == "mul" and h.inputs[1].value == 299 + k + .5
        return True

    assert all(run_threads(work))


def test_one_node_per_name_across_threads(frequent_collection):
    for trial in range(100):
        name = f"v{trial}"
        made = run_threads(lambda k: sg.var(name))
        assert all(m is made[0] for m in made)
        a = sg.var(name) + sg.var(name)
        assert sg.Graph(a).inputs == (made[0],)


def test_lookups_during_collections_find_the_live_node(frequent_collection):
    shared = sg.sin(sg.var("shared")) * 2.0            # held here: it must stay the one node

    def work(k):
        for trial in range(200):
            h = sg.var(f"churn{k}")
            for j in range(20):                        # inserts that trigger collections
                h = h + float(trial * 20 + j)
            assert sg.sin(sg.var("shared")) * 2.0 is shared
        return True

    assert all(run_threads(work))


def stress(trials: int) -> list:
    """8 threads, each ``trials`` times: build a small network, differentiate, evaluate and
    compare with the numpy formulas; returns each thread's last output node."""
    rng = np.random.default_rng(0)
    W_value = rng.normal(size=(3, 4))
    x_value = rng.normal(size=(4,))

    def work(k):
        for trial in range(trials):
            W, x = sg.var("W", shape=(3, 4)), sg.var("x", shape=(4,))
            scale = float(k + 1)
            h = W @ x
            for j in range(trial % 7):                 # chains of varying depth
                h = h * (1.0 + j / 8)
            depth = np.prod([1.0 + j / 8 for j in range(trial % 7)])
            f = sg.sum(sg.tanh(h) * scale) + sg.sum(sg.square(x)) / 2
            B = sg.gradients(f, ["W", "x"])
            gW, gx = sg.evaluate(B, {"W": W_value, "x": x_value})
            t = np.tanh(depth * W_value @ x_value)
            np.testing.assert_allclose(gW, scale * depth * np.outer(1 - t * t, x_value),
                                       rtol=1e-12)
            np.testing.assert_allclose(gx, scale * depth * W_value.T @ (1 - t * t) + x_value,
                                       rtol=1e-12)
            assert sg.var("W", shape=(3, 4)) is W and sg.Graph(f).inputs == (W, x)
        return f

    return run_threads(work)


def test_build_differentiate_and_evaluate_in_eight_threads(frequent_collection):
    outputs = stress(trials=8)
    # structurally equal graphs built in different threads are the same nodes
    assert outputs[0] is not outputs[1]
    assert outputs[0].inputs[0] is not outputs[1].inputs[0]      # sum(tanh(W @ x) * s) differs,
    assert outputs[0].inputs[1] is outputs[1].inputs[1]          # sum(square(x)) / 2 is shared
    assert gc.isenabled()


@pytest.mark.slow
def test_eight_thread_stress_at_length(frequent_collection):
    stress(trials=400)
    for trial in range(300):
        made = run_threads(lambda k: sg.var(f"long{trial}"))
        assert all(m is made[0] for m in made)


def test_the_table_is_collected_with_gc_disabled(frequent_collection):
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = len(node_module._TABLE)
        for k in range(20):
            h = sg.var("t")
            for j in range(1000):
                h = h * float(j + 1000 * k + 0.25)
            del h
        assert len(node_module._TABLE) < before + 8000      # not 20,000 leaked nodes
        B = sg.gradients(sg.sin(sg.var("t")), ["t"])        # gradients leaves gc as it was
        assert not gc.isenabled() and float(sg.evaluate(B, {"t": 0.0})[0]) == 1.0
    finally:
        if was_enabled:
            gc.enable()


def test_gradients_in_threads_leave_gc_enabled():
    assert gc.isenabled()
    x = sg.var("x")
    run_threads(lambda k: [sg.gradients(sg.sin(x) * float(k + j), ["x"]) for j in range(50)])
    assert gc.isenabled()
