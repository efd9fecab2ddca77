"""Graph → sympy (placeholder; being written)."""


def to_sympy(graph, cse=False):
    raise NotImplementedError("to_sympy is being written")
