"""explain(): Algorithm 6 narrated step by step (placeholder; being written)."""


def explain(f, wrt):
    raise NotImplementedError("explain is being written")
