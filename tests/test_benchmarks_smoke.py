"""Smoke tests of the benchmarks: smallest sizes in-process, results checked, no timing asserts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import bench_build, bench_intern, bench_w2, bench_w3, bench_w4, bench_w5, harness
from benchmarks import workloads as wl

TOL = 1e-8


def central_difference(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


# -- the references themselves, against independent finite differences -----------------------
def test_w4_reference_gradient_matches_finite_differences():
    x0 = wl.w4_x0()
    _, grad = wl.w4_reference(1000, x0)
    for i in (0, 37, 99):
        def value_at(v, i=i):
            x = x0.copy()
            x[i] = v
            return wl.w4_reference(1000, x)[0]
        fd = central_difference(value_at, x0[i])
        assert abs(fd - grad[i]) <= 1e-6 * max(1.0, abs(grad[i]))


def test_w4_generator_follows_the_spec_rules():
    graph = wl.w4_graph(1000)
    assert len(graph) == 1000
    for k, (op, a, b) in enumerate(graph):
        assert a == k                                   # FIFO first operand
        assert (b >= 0) == (op in ("add", "mul")) and b < wl.W4_N_IN + k
    assert wl.w4_stats(1000)["depth"] == 12             # as printed above the peers' table
    assert wl.w4_graph(1000) is wl.w4_graph(1000)       # deterministic and cached


def test_w3_reference_matches_finite_differences():
    z, dz, d2z = wl.w3_reference(10)
    assert z == pytest.approx(wl.w3_chain(wl.W3_W0, 10, math), rel=1e-14)
    fd1 = central_difference(lambda w: wl.w3_chain(w, 10, math), wl.W3_W0)
    fd2 = central_difference(lambda w: wl.w3_reference(10, w)[1], wl.W3_W0)
    assert fd1 == pytest.approx(dz, rel=1e-7)
    assert fd2 == pytest.approx(d2z, rel=1e-6)


def test_rosenbrock_hessian_reference_matches_finite_differences():
    x0 = wl.w2_x0(5)
    H = wl.rosen_hess_exact(x0)
    h = 1e-4
    for i in range(5):
        for j in range(5):
            def f(a, b):
                x = x0.copy()
                x[i] += a
                x[j] += b
                return wl.rosen_scalar(list(x))
            fd = (f(h, h) - f(h, -h) - f(-h, h) + f(-h, -h)) / (4 * h * h)
            assert fd == pytest.approx(H[i, j], abs=1e-4)


def test_w5_reference_matches_finite_differences():
    d3f, T = wl.w5_reference()
    h = 1e-3
    f = lambda x: wl.w5_f(x, math)
    x0 = wl.W5_X0
    fd = (f(x0 + 2 * h) - 2 * f(x0 + h) + 2 * f(x0 - h) - f(x0 - 2 * h)) / (2 * h ** 3)
    assert fd == pytest.approx(d3f, rel=1e-5)
    assert np.allclose(T, np.transpose(T, (1, 0, 2))) and np.allclose(T, np.transpose(T, (0, 2, 1)))


# -- each benchmark at its smallest size ------------------------------------------------------
def test_bench_build_small_cases_are_correct_and_meet_growth_goal():
    rows = bench_build.run([1000], [100], repeats=1, memory=True)
    assert [r["label"] for r in rows] == ["W4 DAG 1,000 ops", "W3 chain depth 100"]
    for r in rows:
        assert r["rel_err"] < TOL
        assert r["len_B"] <= 4 * r["len_G"]
        assert r["peak_bytes"] > 0 and r["new_nodes"] > r["len_G"]   # a fresh build was measured
    assert "PASS" in bench_build.report(rows)


def test_bench_w2_smallest_size_matches_closed_form():
    rows = bench_w2.run([10], repeats=1)
    for r in rows:
        if "missing" not in r:
            assert r["rel_err"] < TOL
            assert r["nonzeros"] == 3 * 10 - 2              # tridiagonal, no spurious entries
    assert any(r["form"] == "scalar" and "missing" not in r for r in rows)
    assert "n = 10" in bench_w2.report(rows)


def test_bench_w3_smallest_depth_matches_forward_recursion():
    (row,) = bench_w3.run([10], repeats=1)
    assert row["rel_err"] < TOL
    assert row["sizes"][0] < row["sizes"][1] < row["sizes"][2]
    assert "| 10 |" in bench_w3.report([row])


def test_bench_w4_smallest_size_matches_adjoint_sweep():
    (row,) = bench_w4.run([1000], repeats=1)
    assert row["rel_err"] < TOL
    assert row["len_G"] >= row["total_ops"]
    assert "1,099" in bench_w4.report([row])


def test_bench_w5_third_derivatives_match_sympy():
    rows = bench_w5.run(repeats=1)
    assert [r["case"] for r in rows] == ["1var", "2var"]
    for r in rows:
        assert r["rel_err"] < TOL
    assert rows[1]["values"].shape == (8,)


def test_harness_helpers():
    assert harness.max_errors([1.0, 2.0], [1.0, 2.5]) == (0.5, 0.2)
    assert harness.fmt_time(1.5e-6) == "1.5 µs"
    assert harness.call_with_timeout(sum, ([1, 2],), 10.0) == 3
    with pytest.raises(ValueError):
        harness.max_errors([1.0], [1.0, 2.0])


def test_bench_intern_measures_a_positive_cost():
    assert 0 < bench_intern.run(nodes=2000, rounds=1) < 1e4


def test_bench_compile_reports_every_step(capsys):
    from benchmarks import bench_compile
    bench_compile.main(["--depth", "30"])
    out = capsys.readouterr().out
    for step in ("sg.optimize", "code assembled", "source generation", "CPython compile()",
                 "goal 1.5", "one-off", "2 x CasADi", "second gradients", "first call"):
        assert step in out
