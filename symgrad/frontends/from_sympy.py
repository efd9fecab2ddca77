"""sympy → Graph (placeholder; being written)."""


def from_sympy(expr_or_exprs):
    raise NotImplementedError("from_sympy is being written")
