"""Layer 3: ways into G (Python builders, text, sympy)."""

from .api import const, var
from .from_sympy import from_sympy
from .parser import parse

__all__ = ["var", "const", "parse", "from_sympy"]
