"""symgrad: a symbol-to-symbol differentiation compiler.

Expressions (text, Python builders or sympy) become a static graph G; ``gradients`` appends
derivative nodes (Algorithms 5 and 6 of the seeds) and returns a graph B; ``evaluate`` runs any
graph on numpy inputs; graphs export to sympy, networkx, DOT and readable text.
"""

from .errors import (BackendError, GradientError, InputError, ParseError, ShapeError,
                     SymgradError)
from .ir import Graph, Node
from .ir import REGISTRY as _REGISTRY
from . import ops as _ops  # noqa: F401 (registers every op and public function)
from .autodiff import gradients, hessian, hvp, jacobian, jvp, sparsity
from .autodiff.explain import explain
from .passes import optimize
from .evaluate import evaluate
from .backends import compile, to_c, to_jax, to_python
from .export import draw, render, to_dot, to_sympy
from .frontends import from_sympy, parse
from . import linalg  # noqa: E402  (the sg.linalg namespace)

__version__ = "0.1.0"

globals().update(_REGISTRY.functions)   # sg.<name> for every public function in the registry

__all__ = [
    "SymgradError", "ParseError", "ShapeError", "GradientError", "InputError", "BackendError",
    "Graph", "Node",
    "gradients", "jacobian", "hessian", "jvp", "hvp", "sparsity", "explain", "optimize",
    "evaluate", "compile", "to_python", "to_c", "to_jax",
    "parse", "from_sympy", "to_sympy", "to_dot", "draw", "render", "linalg",
    *sorted(_REGISTRY.functions),
]

# graph files and user-defined ops (API §7, §8)
from .ir.graphfile import dumps, load, loads, save
from .ops.custom import custom_gradient, define_op
__all__ += ["save", "load", "dumps", "loads", "define_op", "custom_gradient"]
