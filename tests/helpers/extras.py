"""Optional extras (jax, dask) in tests: skipped when absent, unless CI says they must be here."""

from __future__ import annotations

import importlib
import os

import pytest


def require(module: str):
    """Import ``module`` for a test; skip without it, but fail when SYMGRAD_EXTRAS=1 (CI's
    extras step), so a CI run cannot pass by skipping the tests of an extra."""
    if os.environ.get("SYMGRAD_EXTRAS") == "1":
        return importlib.import_module(module)
    return pytest.importorskip(module)
