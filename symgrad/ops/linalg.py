"""Linear algebra: matmul (dot as a composite) (placeholder; being written)."""

OPS = ()
