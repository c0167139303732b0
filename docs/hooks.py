"""mkdocs hooks of the documentation site: the README as its home page and the model
description (``MODEL.md`` in ``shared/`` beside the repository, or ``$IONPUMP_SHARED``) as
"The model". Links of the README into ``docs/`` are made relative to the site."""

from __future__ import annotations

import os
from pathlib import Path

from mkdocs.structure.files import File

MISSING_MODEL = """# The model

The description of the model, `MODEL.md`, is kept in `shared/` beside the repository; it was
not there when this site was built (set `IONPUMP_SHARED` to its folder).
"""


def on_files(files, config):
    """Add ``index.md`` (README.md) and ``model.md`` (MODEL.md) to the site's pages."""
    root = Path(config.config_file_path).resolve().parent
    readme = (root / "README.md").read_text(encoding="utf-8").replace("](docs/", "](")
    files.append(File.generated(config, "index.md", content=readme))
    model = Path(os.environ.get("IONPUMP_SHARED", root.parent / "shared")) / "MODEL.md"
    text = model.read_text(encoding="utf-8") if model.is_file() else MISSING_MODEL
    files.append(File.generated(config, "model.md", content=text))
    return files
