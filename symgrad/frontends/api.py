"""Builders the user calls directly: re-exported op builders plus var() and const()."""

from ..ops import const, var

__all__ = ["var", "const"]
