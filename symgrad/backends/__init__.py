"""Layer 4: compiled evaluation. ``compile`` picks a backend (the numpy interpreter, generated
Python, generated C), ``to_python`` and ``to_c`` return the generated source; ``to_jax``
exports to JAX and dask arrays run through batched programs."""

from .compile import compile
from .python import to_python
from .c import to_c
from .jax_export import to_jax

__all__ = ["compile", "to_python", "to_c", "to_jax"]
