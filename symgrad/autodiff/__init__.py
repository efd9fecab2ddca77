"""Layer 3: G → B, symbol-to-symbol reverse mode and its nestings."""

from .backprop import build_grad, gradients, prune
from .forward import hvp, jvp
from .jacobian import hessian, jacobian
from .sparsity import sparsity

__all__ = ["gradients", "build_grad", "prune", "jacobian", "hessian", "jvp", "hvp", "sparsity"]
