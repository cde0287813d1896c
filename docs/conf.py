"""Sphinx configuration for the django-skillswap-payments documentation."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

project = "django-skillswap-payments"
author = "The django-skillswap-payments authors"
copyright = "the django-skillswap-payments authors"

# Read the version from the package source without importing Django.
_init = (ROOT / "django_skillswap_payments" / "__init__.py").read_text(encoding="utf-8")
release = re.search(r'__version__\s*=\s*"([^"]+)"', _init).group(1)
version = release

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
# Lets pages link to sections with [text](page.md#section-title).
myst_heading_anchors = 3

html_title = f"django-skillswap-payments {release}"
html_theme = "furo" if importlib.util.find_spec("furo") else "alabaster"
html_static_path: list[str] = []

pygments_style = "sphinx"
nitpicky = False
