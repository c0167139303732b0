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

    def __init__(self, path: str | os.PathLike, problem: str, kept: Path | None = None):
        super().__init__(str(path), None, problem)
        self.kept = kept  # where the content went instead (a file that appeared meanwhile)


#: Directories :func:`check_output` created for this process's outputs, outermost first.
_CREATED: list[Path] = []


def remove_created_dirs() -> None:
    """Remove the directories :func:`check_output` created, innermost first, where they are
    still empty (a run that failed before writing leaves nothing behind)."""
    while _CREATED:
        try:
            _CREATED.pop().rmdir()
        except OSError:  # not empty (something was written) or gone
            pass


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
        missing = [d for d in (parent, *parent.parents) if not d.exists()]
        try:
            parent.mkdir(parents=True, exist_ok=True)
            _CREATED.extend(reversed(missing))  # outermost first
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


def atomic_write(path: str | os.PathLike, write: Callable[[str], None],
                 replace: bool = True) -> Path:
    """Call ``write(tmp_path)``, fsync it, then rename it over ``path`` (atomic on POSIX).

    A crash or a full disk leaves the previous file (if any) intact; an ``OSError`` (a
    vanished or read-only directory, a full disk) is re-raised as :class:`OutputError` with
    one line and no temporary file is left behind.

    Args:
        path: destination.
        write: writes the content to the temporary path it is given.
        replace: False refuses to replace a file that exists at ``path`` when the content is
            ready (one that appeared while a run was going on): the content is then kept
            under a free name beside it and :class:`OutputError` names that file.

    Returns:
        ``path`` as a Path.
    """
    p = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent or ".")
        os.close(fd)
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
        if replace:
            os.replace(tmp, p)
        else:
            _link_new(tmp, p)
    except OSError as e:
        raise OutputError(p, f"could not write: {e.strerror or e}") from None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)
    return p


def _link_new(tmp: str, p: Path) -> None:
    """Give ``tmp`` the name ``p`` unless ``p`` exists (no check-then-replace race: a hard
    link fails on an existing name); if it does, keep ``tmp`` as ``STEM-N.SUFFIX``."""
    try:
        os.link(tmp, p)
        return
    except FileExistsError:
        pass
    for n in range(1, 1000):
        alt = p.with_name(f"{p.stem}-{n}{p.suffix}")
        try:
            os.link(tmp, alt)
        except FileExistsError:
            continue
        raise OutputError(p, f"appeared while the run was going on and was not replaced "
                          f"(pass --force to overwrite); the results are in {alt}", alt)
    raise OutputError(p, "appeared while the run was going on and was not replaced")


#: Characters that make a spreadsheet read a CSV cell as a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _guard_formulas(df):
    """A copy of ``df`` whose text cells cannot start a spreadsheet formula: a cell that
    begins with one of ``= + - @`` (or a tab or carriage return) gets a leading ``'``."""
    from pandas.api import types

    text = [c for c in df.columns if types.is_string_dtype(df[c]) or
            types.is_object_dtype(df[c]) or isinstance(df[c].dtype, types.CategoricalDtype)]
    if not text:
        return df
    df = df.copy()
    for c in text:
        df[c] = df[c].astype(object).map(lambda s: "'" + s if isinstance(s, str) and
                                         s.startswith(_FORMULA_START) else s)
    return df


def write_table(df, path: str | os.PathLike, meta: dict[str, Any] | None = None,
                replace: bool = True) -> Path:
    """Write a results DataFrame to ``.csv`` or ``.parquet``, atomically.

    Text cells of a CSV are guarded against spreadsheet formulas (:func:`_guard_formulas`);
    a Parquet file carries ``meta`` (when given) as JSON under the key-value metadata key
    ``ionpump``. ``replace`` is as in :func:`atomic_write`."""
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        return atomic_write(p, lambda tmp: _write_parquet(df, tmp, meta), replace)
    safe = _guard_formulas(df)
    return atomic_write(p, lambda tmp: safe.to_csv(tmp, index=False, float_format="%.10g"),
                        replace)


def _write_parquet(df, path: str, meta: dict[str, Any] | None) -> None:
    """``df`` to Parquet with ``meta`` as JSON in the file's key-value metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if meta is not None:
        kv = dict(table.schema.metadata or {})
        kv[b"ionpump"] = json.dumps(_with_versions(meta), default=str).encode("utf-8")
        table = table.replace_schema_metadata(kv)
    pq.write_table(table, path)


def read_parquet_meta(path: str | os.PathLike) -> dict:
    """The run metadata a Parquet results file carries (``{}`` when it has none)."""
    import pyarrow.parquet as pq

    kv = pq.read_schema(path).metadata or {}
    raw = kv.get(b"ionpump")
    return json.loads(raw) if raw else {}


def write_results(df, path: str | os.PathLike, meta: dict[str, Any],
                  replace: bool = True) -> Path:
    """The results table (with ``meta`` inside when Parquet) and ``FILE.meta.json``."""
    try:
        p = write_table(df, path, meta, replace)
    except OutputError as e:
        if e.kept is not None:
            write_meta(e.kept, meta)
        raise
    write_meta(p, meta)
    return p


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
    meta = _with_versions(meta)
    mp = Path(str(path) + ".meta.json")
    atomic_write(mp, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2, default=str)))
    return mp


def _with_versions(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` preceded by the ionpump and Python versions."""
    from . import __version__

    return {"ionpump_version": __version__, "python": platform.python_version(), **meta}
