"""symgrad: a symbol-to-symbol differentiation compiler.

Expressions (text, Python builders or sympy) become a static graph G; ``gradients`` appends
derivative nodes (Algorithms 5 and 6 of the seeds) and returns a graph B; ``evaluate`` runs any
graph on numpy inputs; graphs export to sympy, networkx, DOT and readable text.
"""

from .errors import (GradientCheckError, GradientError, InputError, ParseError, ShapeError,
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
from .autodiff import gradients, hessian, jacobian
from .autodiff.explain import explain
from .evaluate import compile, evaluate
from .export import draw, render, to_dot, to_sympy
from .frontends import from_sympy, parse
from .testing import check_grads

__version__ = "0.1.0"

__all__ = [
    "SymgradError", "ParseError", "ShapeError", "GradientError", "InputError",
    "GradientCheckError", "check_grads",
    "Graph", "Node", "var", "const",
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "sin", "cos", "tan", "tanh",
    "sigmoid", "relu", "abs", "sign", "square", "softplus", "log1p", "expm1", "maximum",
    "minimum", "where", "greater", "less", "heaviside", "cast",
    "broadcast_to", "concatenate", "reshape", "stack", "transpose", "getitem",
    "sum", "mean", "max", "matmul", "dot", "softmax", "log_softmax", "logsumexp", "cross_entropy",
    "gradients", "jacobian", "hessian", "explain", "evaluate", "compile",
    "parse", "from_sympy", "to_sympy", "to_dot", "draw", "render",
]
