"""Layer 3: graph-to-graph passes that keep values (optimize)."""

from .optimize import optimize

__all__ = ["optimize"]
