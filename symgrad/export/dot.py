"""Graph → DOT text and matplotlib pictures (placeholder; being written)."""


def to_dot(graph):
    raise NotImplementedError("to_dot is being written")


def draw(graph, ax=None):
    raise NotImplementedError("draw is being written")
