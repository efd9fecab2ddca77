"""The on-disk cache of compiled artefacts (C shared libraries, Python code objects)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    """Where compiled artefacts are kept: ``$SYMGRAD_CACHE``, else ``~/.cache/symgrad``."""
    return Path(os.environ.get("SYMGRAD_CACHE") or Path.home() / ".cache" / "symgrad")


@contextlib.contextmanager
def staged(target: Path):
    """A path to write ``target``'s content to, in a temporary folder beside it; when the block
    ends without an exception the file is renamed into place, so readers never see half of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        path = Path(tmp) / target.name
        yield path
        os.replace(path, target)
