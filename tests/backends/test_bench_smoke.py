"""Smoke tests of the backend benchmarks at their smallest sizes: every backend agrees with the
interpreter and with sympy (no timing asserts)."""

from __future__ import annotations

from benchmarks import bench_backends, bench_batched


def test_bench_backends_measures_every_backend_on_w5_and_w3():
    for label, builder, size in (("W5 2var", bench_backends.w5, "2var"),
                                 ("W3 depth 10", bench_backends.w3, 10)):
        row = bench_backends.measure(label, builder, size, repeats=1)
        assert set(row["backends"]) == {"numpy", "python", "c"}
        for backend, result in row["backends"].items():
            assert result["err"] <= 1e-12, (label, backend, result["err"])
        assert "| c |" in bench_backends.report([row])


def test_bench_batched_agrees_with_lambdify():
    rows = bench_batched.measure("2var", 200, repeats=1)
    assert [r[1] for r in rows][-1] == "sympy.lambdify(cse=True)"
    for row in rows[:-1]:
        assert float(row[-1]) < 1e-12
