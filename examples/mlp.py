"""The seeds' multilayer perceptron (Algorithm 3) trained by minibatch SGD on symgrad gradients.

Forward: ``h0 = X``, ``a_k = h_{k-1} W_k + b_k``, ``h_k = relu(a_k)`` for hidden layers, the
last layer's ``a_l`` are the logits; ``J = cross_entropy(a_l, y) + lambda * sum_k |W_k|^2``.
The gradients of J come from ``sg.gradients`` (a symbol-to-symbol derivative graph compiled
once), so nothing here is differentiated by hand. Datasets (XOR, a noisy two-class spiral) are
made with numpy.

Run: ``python examples/mlp.py``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

try:
    import symgrad as sg
except ImportError:                                   # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import symgrad as sg


def make_xor() -> tuple:
    """The four XOR points and their labels.

    >>> X, y = make_xor()
    >>> X.shape, y.tolist()
    ((4, 2), [0, 1, 1, 0])
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0], dtype=np.int64)


def make_spiral(n_per_class: int = 200, noise: float = 0.1, turns: float = 1.5,
                seed: int = 0) -> tuple:
    """Two interleaved noisy spiral arms in the plane, ``n_per_class`` points each.

    >>> X, y = make_spiral(50)
    >>> X.shape, int(y.sum())
    ((100, 2), 50)
    """
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.02, 1.0, size=n_per_class))  # denser towards the outer rim
    angle = 2 * np.pi * turns * t
    arms = []
    for label in (0, 1):
        phase = angle + np.pi * label
        points = np.stack([t * np.cos(phase), t * np.sin(phase)], axis=1)
        arms.append(points + noise * rng.standard_normal(points.shape) * t[:, None])
    X = np.concatenate(arms)
    y = np.repeat(np.array([0, 1], dtype=np.int64), n_per_class)
    return X, y


def build_mlp(sizes: Sequence[int], batch: int, lam: float = 1e-4,
              dtype: str = "float64") -> dict:
    """Algorithm 3 as a symgrad graph for minibatches of ``batch`` rows.

    ``sizes`` = (inputs, hidden..., classes). Returns a dict with the nodes ``X``, ``y``,
    ``params`` (W1, b1, W2, b2, ...), ``logits``, ``loss`` (J) and the graph ``grads`` whose
    outputs are J followed by dJ/dparam for each param, in order.

    >>> model = build_mlp((2, 8, 2), batch=4)
    >>> [p.name for p in model["params"]], model["grads"].outputs[1].shape
    (['W1', 'b1', 'W2', 'b2'], (2, 8))
    """
    X = sg.var("X", (batch, sizes[0]), dtype)
    y = sg.var("y", (batch,), "int64")
    params, h, decay = [], X, None
    layers = len(sizes) - 1
    for k in range(1, layers + 1):
        W = sg.var(f"W{k}", (sizes[k - 1], sizes[k]), dtype)
        b = sg.var(f"b{k}", (sizes[k],), dtype)
        params += [W, b]
        a = h @ W + b                                       # a_k = b_k + W_k h_{k-1}
        h = sg.relu(a) if k < layers else a                 # the last layer gives logits
        square = sg.sum(W * W)
        decay = square if decay is None else decay + square
    loss = sg.cross_entropy(h, y) + lam * decay             # J = L(y_hat, y) + lambda Omega
    B = sg.gradients(loss, params)
    grads = sg.Graph([loss, *B.outputs], B.inputs)
    return {"X": X, "y": y, "params": params, "logits": h, "loss": loss, "grads": grads}


def init_params(sizes: Sequence[int], seed: int = 0, dtype: str = "float64") -> dict:
    """He-initialised weights and zero biases, by input name.

    >>> sorted(init_params((2, 3, 2)))
    ['W1', 'W2', 'b1', 'b2']
    """
    rng = np.random.default_rng(seed)
    values = {}
    for k in range(1, len(sizes)):
        scale = np.sqrt(2.0 / sizes[k - 1])
        values[f"W{k}"] = (rng.standard_normal((sizes[k - 1], sizes[k])) * scale).astype(dtype)
        values[f"b{k}"] = np.zeros(sizes[k], dtype=dtype)
    return values


def accuracy(sizes: Sequence[int], params: dict, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows of X whose arg-max logit is the label.

    >>> X, y = make_xor()
    >>> 0.0 <= accuracy((2, 4, 2), init_params((2, 4, 2)), X, y) <= 1.0
    True
    """
    model = build_mlp(sizes, len(X), dtype=next(iter(params.values())).dtype.name)
    names = [p.name for p in model["params"]]
    logits = sg.evaluate(sg.Graph(model["logits"]), {"X": X, **{n: params[n] for n in names}})[0]
    return float(np.mean(np.argmax(logits, axis=1) == y))


def train(X: np.ndarray, y: np.ndarray, sizes: Sequence[int], *, epochs: int = 100,
          batch: int = 32, lr: float = 0.1, lam: float = 1e-4, seed: int = 0,
          verbose: bool = True) -> dict:
    """Minibatch SGD on J; returns ``{"params", "losses" (mean J per epoch), "accuracy"}``.

    Each epoch shuffles the rows and takes ``len(X) // batch`` full minibatches (the graph's
    batch size is static); ``batch`` larger than the data means the whole set, repeated.

    >>> X, y = make_xor()
    >>> result = train(X, y, (2, 8, 2), epochs=3, batch=4, verbose=False)
    >>> len(result["losses"])
    3
    """
    rng = np.random.default_rng(seed)
    batch = min(batch, len(X))
    model = build_mlp(sizes, batch, lam, X.dtype.name if X.dtype.kind == "f" else "float64")
    step = sg.compile(model["grads"])
    names = [p.name for p in model["params"]]
    params = init_params(sizes, seed, model["X"].dtype)
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        steps = len(X) // batch
        for s in range(steps):
            rows = order[s * batch:(s + 1) * batch]
            loss, *grads = step(X=X[rows], y=y[rows], **params)
            for name, grad in zip(names, grads):
                params[name] -= lr * grad                   # theta <- theta - lr dJ/dtheta
            total += float(loss)
        losses.append(total / steps)
        if verbose:
            print(f"epoch {epoch + 1:4d}  loss {losses[-1]:.4f}")
    return {"params": params, "losses": losses, "accuracy": accuracy(sizes, params, X, y)}


def main() -> None:
    """Train on XOR and on the spiral; print the loss per epoch and the final accuracies."""
    start = time.perf_counter()
    X, y = make_xor()
    print("XOR, MLP 2-8-2")
    xor = train(X, y, (2, 8, 2), epochs=150, batch=4, lr=0.5, seed=3)
    print(f"XOR accuracy: {xor['accuracy']:.0%}\n")
    X, y = make_spiral(200)
    print("two-class spiral (400 points, noise 0.1), MLP 2-64-64-2")
    spiral = train(X, y, (2, 64, 64, 2), epochs=100, batch=16, lr=0.1, seed=0)
    print(f"spiral accuracy: {spiral['accuracy']:.1%}")
    print(f"total time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
