"""Layer 3: G → B, symbol-to-symbol reverse mode and its nestings."""

from .backprop import build_grad, gradients, prune
from .jacobian import hessian, jacobian

__all__ = ["gradients", "build_grad", "prune", "jacobian", "hessian"]
