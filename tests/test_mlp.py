"""The seeds' MLP: symgrad's gradients equal hand-written Algorithm 4; training learns."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import symgrad as sg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import mlp  # noqa: E402


def algorithm_4(X, y, params, sizes, lam):
    """Forward (Algorithm 3) then backward (Algorithm 4) by hand, in numpy, batched by rows."""
    layers = len(sizes) - 1
    h, pre = [X], []
    for k in range(1, layers + 1):
        a = h[-1] @ params[f"W{k}"] + params[f"b{k}"]
        pre.append(a)
        h.append(np.maximum(a, 0) if k < layers else a)
    z = h[-1]
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    J = -np.mean(log_p[rows, y]) + lam * sum(np.sum(params[f"W{k}"] ** 2)
                                             for k in range(1, layers + 1))
    g = np.exp(log_p)                              # g <- grad of J wrt y_hat (the logits)
    g[rows, y] -= 1
    g /= len(y)
    grads = {}
    for k in range(layers, 0, -1):
        if k < layers:
            g = g * (pre[k - 1] > 0)               # g <- g (.) f'(a_k)
        grads[f"b{k}"] = g.sum(axis=0)             # + lambda grad_b Omega = 0 (weights only)
        grads[f"W{k}"] = h[k - 1].T @ g + 2 * lam * params[f"W{k}"]
        g = g @ params[f"W{k}"].T                  # g <- grad wrt h_{k-1}
    return J, grads


@pytest.mark.parametrize("sizes", [(3, 5, 4), (4, 6, 5, 3)])
def test_gradients_equal_hand_written_algorithm_4(sizes):
    rng = np.random.default_rng(0)
    batch, lam = 7, 0.01
    model = mlp.build_mlp(sizes, batch, lam)
    params = mlp.init_params(sizes, seed=1)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    X = rng.standard_normal((batch, sizes[0]))
    y = rng.integers(0, sizes[-1], batch)
    loss, *grads = sg.evaluate(model["grads"], {"X": X, "y": y, **params})
    J, expected = algorithm_4(X, y, params, sizes, lam)
    assert loss == pytest.approx(J, rel=1e-12)
    for node, grad in zip(model["params"], grads):
        np.testing.assert_allclose(grad, expected[node.name], rtol=1e-10, atol=1e-12,
                                   err_msg=node.name)


def test_training_learns_xor_and_the_spiral():
    X, y = mlp.make_xor()
    xor = mlp.train(X, y, (2, 8, 2), epochs=150, batch=4, lr=0.5, seed=3, verbose=False)
    assert xor["accuracy"] == 1.0
    assert xor["losses"][-1] < 0.2 * xor["losses"][0]
    X, y = mlp.make_spiral(200)
    spiral = mlp.train(X, y, (2, 64, 64, 2), epochs=100, batch=16, lr=0.1, seed=0,
                       verbose=False)
    assert spiral["accuracy"] >= 0.95
    assert np.mean(spiral["losses"][-5:]) < 0.5 * spiral["losses"][0]


def test_float32_model_trains_in_float32():
    X, y = mlp.make_xor()
    model = mlp.build_mlp((2, 4, 2), 4, dtype="float32")
    assert {n.dtype for n in model["grads"].nodes} <= {"float32", "int64", "bool"}
    result = mlp.train(X.astype(np.float32), y, (2, 4, 2), epochs=2, batch=4, verbose=False)
    assert all(v.dtype == np.float32 for v in result["params"].values())


def test_main_prints_losses_and_accuracies(capsys, monkeypatch):
    monkeypatch.setattr(mlp, "make_spiral", lambda n: mlp.make_xor())
    mlp.main()
    out = capsys.readouterr().out
    assert "epoch    1  loss" in out and "XOR accuracy: 100%" in out
    assert "spiral accuracy:" in out
