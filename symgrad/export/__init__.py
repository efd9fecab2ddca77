"""Layer 4: ways out of G (sympy, DOT pictures; networkx lives on Graph itself)."""

from .dot import draw, render, to_dot
from .to_sympy import to_sympy

__all__ = ["to_sympy", "to_dot", "draw", "render"]
