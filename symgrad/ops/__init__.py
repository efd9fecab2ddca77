"""Layer 2: every primitive op (OpDef) and public builder, registered once and then frozen."""

from ..ir import REGISTRY
from . import arith, composite, elementwise, gather, linalg, products, reduce, shape
from . import logic, special, statistics
from ._define import const, define_op, lift, public, var

for _module in (shape, reduce, linalg, composite, gather, products):
    for _fn in _module.FUNCTIONS:              # sum_ / max_ are registered as "sum" / "max"
        REGISTRY.add_function(_fn.__name__.rstrip("_"), _fn)
REGISTRY.add_function("var", var)
REGISTRY.add_function("const", const)
REGISTRY.retired["softmax_minus_onehot"] = composite.softmax_minus_onehot   # an op until 2026-11
REGISTRY.freeze()

__all__ = ["REGISTRY", "arith", "composite", "elementwise", "gather", "linalg", "logic",
           "products", "reduce", "shape", "special", "statistics", "const", "var", "define_op",
           "lift", "public"]
