"""symgrad: a symbol-to-symbol differentiation compiler.

Expressions (text, Python builders or sympy) become a static graph G; ``gradients`` appends
derivative nodes (Algorithms 5 and 6 of the seeds) and returns a graph B; ``evaluate`` runs any
graph on numpy inputs; graphs export to sympy, networkx, DOT and readable text.
"""

from .errors import (BackendError, GradientError, InputError, ParseError, ShapeError,
                     SymgradError)
from .ir import Graph, Node
from .ops import const, var
from .ops.arith import add, div, mul, neg, sub
from .ops.elementwise import (abs_ as abs, cast, cos, exp, expm1, greater, heaviside, less, log,
                              log1p, maximum, minimum, pow_ as pow, relu, sigmoid, sign, sin,
                              softplus, sqrt, square, tan, tanh, where)
from .ops.shape import broadcast_to, concatenate, getitem, reshape, stack, transpose
from .ops.reduce import max_ as max, mean, sum_ as sum
from .ops.linalg import dot, matmul
from .ops.composite import cross_entropy, log_softmax, logsumexp, softmax
from .autodiff import gradients, hessian, hvp, jacobian, jvp, sparsity
from .autodiff.explain import explain
from .passes import optimize
from .evaluate import evaluate
from .backends import compile, to_c, to_python
from .export import draw, render, to_dot, to_sympy
from .frontends import from_sympy, parse

__version__ = "0.1.0"

__all__ = [
    "SymgradError", "ParseError", "ShapeError", "GradientError", "InputError", "BackendError",
    "Graph", "Node", "var", "const",
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "sin", "cos", "tan", "tanh",
    "sigmoid", "relu", "abs", "sign", "square", "softplus", "log1p", "expm1", "maximum",
    "minimum", "where", "greater", "less", "heaviside", "cast",
    "broadcast_to", "concatenate", "reshape", "stack", "transpose", "getitem",
    "sum", "mean", "max", "matmul", "dot", "softmax", "log_softmax", "logsumexp", "cross_entropy",
    "gradients", "jacobian", "hessian", "jvp", "hvp", "sparsity", "explain", "optimize",
    "evaluate", "compile", "to_python", "to_c",
    "parse", "from_sympy", "to_sympy", "to_dot", "draw", "render",
]

# -- shape, gather, product and linear-algebra functions (issue 10) --------------------------------
from . import linalg  # noqa: E402
from .ops.gather import take  # noqa: E402
from .ops.products import (cross, diag, diagonal, einsum, inner, kron, outer,  # noqa: E402
                           tensordot, trace, tril, triu)
from .ops.shape import (expand_dims, flip, moveaxis, pad, repeat, split, squeeze,  # noqa: E402
                        swapaxes, tile)

__all__ += ["expand_dims", "squeeze", "tile", "repeat", "flip", "pad", "split", "moveaxis",
            "swapaxes", "take", "einsum", "tensordot", "outer", "trace", "diag", "diagonal",
            "tril", "triu", "inner", "kron", "cross", "linalg"]
