"""Text → Graph (placeholder; being written)."""


def parse(text, shapes=None, dtypes=None):
    raise NotImplementedError("parse is being written")
