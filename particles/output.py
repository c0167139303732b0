"""Results files: output-path checks, atomic writes, the results table and its metadata
(``FILE.meta.json``), and reading them back."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any, Callable

from .config import ScenarioError

TABLE_SUFFIXES = (".csv", ".parquet")


class OutputError(ScenarioError):
    """An output path is unusable (bad extension, not writable, exists without --force)."""

    def __init__(self, path: str | os.PathLike, problem: str):
        super().__init__(str(path), None, problem)


def check_output(path: str | os.PathLike, suffixes: tuple[str, ...], force: bool) -> Path:
    """Check before any work that ``path`` can be written; return it as a Path.

    Raises:
        OutputError: unknown extension, missing or unwritable directory, or an existing file
            without ``force``.
    """
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise OutputError(p, f"unknown output extension {p.suffix or '(none)'!r}; use one of "
                          + ", ".join(suffixes))
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(p, f"cannot create directory {str(parent)!r}: {e.strerror}") from None
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError(p, f"directory {str(parent)!r} is not writable")
    try:  # the real test (root passes os.access; read-only mounts, /proc ... do not)
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(p, f"directory {str(parent)!r} is not writable: "
                          f"{e.strerror or e}") from None
    if p.is_dir():
        raise OutputError(p, "is a directory")
    if p.exists() and not force:
        raise OutputError(p, "already exists; pass --force to overwrite it")
    return p


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)``, fsync it, then rename it over ``path`` (atomic on POSIX).

    A crash or a full disk leaves the previous file (if any) intact; an ``OSError`` is
    re-raised as :class:`OutputError` with one line."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, p)
    except OSError as e:
        raise OutputError(p, f"could not write: {e.strerror or e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_table(df, path: str | os.PathLike) -> None:
    """Write a results DataFrame to ``.csv`` or ``.parquet``, atomically."""
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        atomic_write(p, lambda tmp: df.to_parquet(tmp, index=False))
    else:
        atomic_write(p, lambda tmp: df.to_csv(tmp, index=False, float_format="%.10g"))


def read_table(path: str | os.PathLike):
    """Read a results table from ``.csv`` or ``.parquet`` (a pandas DataFrame).

    Raises:
        OutputError: another extension, a missing or unreadable file (one line, exit 2 in
            the CLI).
    """
    import pandas as pd

    p = Path(path)
    suf = p.suffix.lower()
    if suf not in TABLE_SUFFIXES:
        raise OutputError(p, "results file must end in .csv or .parquet")
    if not p.is_file():
        raise OutputError(p, "no such results file")
    try:
        return pd.read_csv(p) if suf == ".csv" else pd.read_parquet(p)
    except Exception as e:  # malformed file: one line, not a traceback
        raise OutputError(p, f"cannot read results table: {type(e).__name__}: {e}") from None


def read_meta(path: str | os.PathLike) -> dict:
    """``FILE.meta.json`` beside a results file ``path``, or ``{}`` when absent or unreadable."""
    meta = Path(str(path) + ".meta.json")
    try:
        return json.loads(meta.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def write_meta(path: str | os.PathLike, meta: dict[str, Any]) -> Path:
    """Write ``FILE.meta.json`` beside the results file ``path``; return its path."""
    from . import __version__

    meta = {"ionpump_version": __version__, "python": platform.python_version(), **meta}
    mp = Path(str(path) + ".meta.json")
    atomic_write(mp, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2, default=str)))
    return mp
