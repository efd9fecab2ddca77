"""Backends: the same graph run by other engines (generated code, JAX, dask)."""
