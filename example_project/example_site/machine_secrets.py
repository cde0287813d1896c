"""Secrets generated once per machine and kept in the demo's var directory.

A demo must not ship a secret in its source: a ``SECRET_KEY`` that everyone can
read lets anyone forge the site's signed data (sessions, password-reset tokens).
"""

import os
import secrets
import tempfile
from pathlib import Path


def machine_secret(path: Path, *, prefix: str = "") -> str:
    """The secret stored at ``path``, created (readable by its owner only) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(prefix + secrets.token_hex(32))
            # link() refuses to replace: of two processes starting at once, both read one secret.
            os.link(temp_name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp_name)
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise RuntimeError(f"{path} is empty; delete it to generate a new secret")
    return value
