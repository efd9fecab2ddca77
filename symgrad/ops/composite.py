"""Composites: softmax, log_softmax, logsumexp, cross_entropy (placeholder; being written)."""

OPS = ()
