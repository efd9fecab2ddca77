"""Reductions: sum, max (mean as a composite) (placeholder; being written)."""

OPS = ()
