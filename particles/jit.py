"""numba compilation flags and the on-disk cache of compiled kernels, in one place.

``JIT`` is for small helpers inlined into kernels and for the serial kernels Python calls;
``JIT_PARALLEL`` for the kernels that loop over ions with ``prange``. ``fastmath`` is limited
to flags that keep IEEE results reproducible (no reassociation), so a NumPy reference
reproduces kernel results exactly.

The cache. numba keys a cached kernel on the source of its own file only: an edit in a
module it calls into or takes constants from would leave a stale kernel on disk. So this
module, imported by ``particles/__init__.py`` before anything imports numba, points
``NUMBA_CACHE_DIR`` at ``<parent>/numba-<hash>``, where the hash covers the source of every
module that defines kernels and of every package module those import
(:func:`kernel_sources`): any such edit selects a fresh directory. The parent is, in order, an explicit ``NUMBA_CACHE_DIR``, the
user cache (``$XDG_CACHE_HOME`` or ``~/.cache``, then ``ionpump/``), or a private directory
under the system's temporary directory; when none is writable the kernels are not cached
(one line says so). Directories of other versions not used for a day are removed, except
the few most recent.

Parallel kernels are not cached: numba saves a broken kernel (it segfaults when loaded)
when it compiles a cached caller against a cached ``parallel=True`` callee loaded from disk
(numba issue 8578; issue 18 item 7 here). Reach a parallel kernel only through a cached
serial kernel; the caller's cache entry then holds the parallel code too.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

FASTMATH = {"nnan", "ninf", "nsz", "arcp", "afn"}

SOURCE_ROOT = Path(__file__).resolve().parent.parent
"""Directory holding the ``particles`` and ``render`` packages (checkout or site-packages)."""

KERNEL_PACKAGES = ("particles", "render")
"""Packages whose modules may define kernels or hold what kernels compile in."""

DIR_PATTERN = re.compile(r"numba-[0-9a-f]{16}")
KEEP_OTHER_VERSIONS = 3
PRUNE_AFTER_S = 86400.0

COMPILING_NOTICE = ("ionpump: compiling the simulation kernels for this version "
                    "(once, about 30 s)...")
NO_CACHE_NOTICE = ("ionpump: warning: no writable directory for compiled kernels "
                   "(NUMBA_CACHE_DIR, ~/.cache, temporary directory); compiling them on every "
                   "start (about 30 s)")


_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)"
                     r"|import[ \t]+([^\n]*))", re.MULTILINE)
_DECORATOR = re.compile(r"^[ \t]*@[ \t]*(?:numba\.)?(?:njit|jit|vectorize|guvectorize|stencil"
                        r"|cfunc|jitclass)\b", re.MULTILINE)


def _names(text: str) -> list[str]:
    """``a.b`` of each ``a.b as c`` in an import list (parentheses, comments dropped)."""
    text = re.sub(r"#[^\n]*|[()\\]", " ", text)
    return [n.split()[0] for n in text.split(",") if n.strip()]


def _imports(text: str, package: list[str]) -> list[tuple[list[str], list[str]]]:
    """The import statements of a module's source, at any depth, as (module, names): ``import
    a.b`` gives (``[a, b]``, []), ``from .m import x, y`` gives (``package + [m]``, [x, y]).
    A regular expression, not a parse: cheap at every start; a statement quoted in a
    docstring can only add a file to the hash."""
    out = []
    for m in _IMPORT.finditer(text):
        dots, module, listed, plain = m.groups()
        if plain is not None:
            out += [(n.split("."), []) for n in _names(plain)]
            continue
        base = package[:len(package) - len(dots) + 1] if dots else []
        out.append((base + (module.split(".") if module else []), _names(listed)))
    return out


def _defines_kernels(text: str, imports: list[tuple[list[str], list[str]]]) -> bool:
    """True if the module takes the flags of this module, or imports numba and decorates a
    function with one of its compilers."""
    for module, names in imports:
        if module == ["particles", "jit"] and {"JIT", "JIT_PARALLEL"} & set(names):
            return True
    return (any(module[0] == "numba" for module, _ in imports if module)
            and _DECORATOR.search(text) is not None)


def kernel_sources(root: Path = SOURCE_ROOT) -> list[Path]:
    """The modules whose source a compiled kernel depends on.

    Every ``.py`` file of :data:`KERNEL_PACKAGES` under ``root`` that defines kernels, and
    every module of those packages it imports (directly or through another, in any
    function), since numba freezes the globals it reads when it compiles. ``from p import
    m`` of a submodule ``m`` counts ``p.m``, not the package ``p`` itself.

    Args:
        root: directory holding the packages.

    Returns:
        Paths, sorted.
    """
    text = {p: p.read_text(encoding="utf-8", errors="replace")
            for pkg in KERNEL_PACKAGES for p in (root / pkg).rglob("*.py")}

    def find(parts: list[str]) -> list[Path]:
        return [f for f in (root.joinpath(*parts).with_suffix(".py"),
                            root.joinpath(*parts, "__init__.py")) if f in text][:1]

    imports = {p: _imports(t, _package(p, root)) for p, t in text.items()}
    todo = [p for p, t in text.items() if _defines_kernels(t, imports[p])]
    seen: set[Path] = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for module, names in imports[p]:
            subs = [find(module + [n]) for n in names]
            todo += [f for sub in subs for f in sub]
            if not all(subs):
                todo += find(module)
    return sorted(seen)


def _package(path: Path, root: Path) -> list[str]:
    """Package of the module at ``path`` as parts (``a/b/c.py`` and ``a/b/__init__.py``:
    ``[a, b]``)."""
    return list(path.relative_to(root).parts[:-1])


def source_hash(files: list[Path], root: Path = SOURCE_ROOT) -> str:
    """16 hex digits of sha256 over the paths (relative to ``root``) and contents of
    ``files``."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _writable(path: Path) -> bool:
    """Create ``path`` (mode 0700) if needed and check that a file can be written in it."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _private(path: Path) -> bool:
    """``path`` is a real directory of this user that nobody else can write (in a shared
    temporary directory another user could have made it: numba's cache files are pickles)."""
    try:
        st = path.lstat()
    except OSError:
        return False
    own = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return path.is_dir() and not path.is_symlink() and own and not st.st_mode & 0o022


def candidate_parents(environ=os.environ) -> list[tuple[Path, bool]]:
    """Parents to try for the cache directory, in order (see the module docstring), each
    with whether it must be private (:func:`_private`).

    An explicit ``NUMBA_CACHE_DIR`` that is itself a ``numba-<hash>`` directory (inherited
    from an ionpump process that started this one) stands for its parent.
    """
    out = []
    explicit = environ.get("NUMBA_CACHE_DIR", "")
    if explicit:
        p = Path(explicit).expanduser()
        out.append((p.parent if DIR_PATTERN.fullmatch(p.name) else p, False))
    xdg = environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        out.append((Path(xdg) / "ionpump", False))
    home = os.path.expanduser("~")
    if os.path.isabs(home):
        out.append((Path(home) / ".cache" / "ionpump", False))
    try:
        user = os.getuid() if hasattr(os, "getuid") else os.getlogin()
        out.append((Path(tempfile.gettempdir()) / f"ionpump-{user}", True))
    except OSError:  # no usable temporary directory at all
        pass
    return out


def choose_cache_dir(name: str, parents: list[tuple[Path, bool]]) -> Path | None:
    """The first ``parent / name`` that can be written, from ``(parent, must be private)``
    pairs; None if none can."""
    for parent, private in parents:
        if private and not (_writable(parent) and _private(parent)):
            continue
        if _writable(parent / name):
            return parent / name
    return None


def prune(current: Path, keep: int = KEEP_OTHER_VERSIONS, age_s: float = PRUNE_AFTER_S) -> None:
    """Mark ``current`` as used now; remove sibling ``numba-<hash>`` directories unused for
    ``age_s`` seconds, except the ``keep`` most recently used."""
    now = time.time()
    try:
        os.utime(current)
        others = [p for p in current.parent.iterdir()
                  if p != current and DIR_PATTERN.fullmatch(p.name) and p.is_dir()]
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for p in others[keep:]:
            if now - p.stat().st_mtime > age_s:
                shutil.rmtree(p, ignore_errors=True)
    except OSError:  # another process pruned at the same time
        pass


def remove_caches() -> None:
    """Remove every ``numba-<hash>`` directory of every candidate parent (``make
    clean-cache``; nothing needs it for correctness)."""
    for parent, _ in candidate_parents():
        for p in parent.glob("numba-*"):
            if DIR_PATTERN.fullmatch(p.name):
                shutil.rmtree(p, ignore_errors=True)


def _announce_first_compile() -> None:
    """Print :data:`COMPILING_NOTICE` to a terminal (or a notebook) at the first compilation
    in this process. Only a waiting person needs it; scripts and tests get clean output."""
    if not (sys.stderr.isatty() or "ipykernel" in sys.modules):
        return
    from numba.core import event

    class Notice(event.Listener):
        done = False

        def on_start(self, ev):
            if not self.done:
                self.done = True
                print(COMPILING_NOTICE, file=sys.stderr, flush=True)

        def on_end(self, ev):
            pass

    event.register("numba:compile", Notice())


def _configure() -> Path | None:
    """Choose the cache directory and hand it to numba (environment, and numba's config if
    numba is already imported); print the notices. Returns the directory or None."""
    name = f"numba-{source_hash(kernel_sources())}"
    path = choose_cache_dir(name, candidate_parents())
    if path is None:
        print(NO_CACHE_NOTICE, file=sys.stderr)
        return None
    empty = not any(path.iterdir())
    os.environ["NUMBA_CACHE_DIR"] = str(path)
    if "numba.core.config" in sys.modules:
        sys.modules["numba.core.config"].CACHE_DIR = str(path)
    prune(path)
    if empty:
        _announce_first_compile()
    return path


CACHE_DIR = _configure()
"""numba's cache directory for this version of the kernels; None: no caching."""

JIT = dict(cache=CACHE_DIR is not None, nogil=True, fastmath=FASTMATH)
JIT_PARALLEL = dict(cache=False, nogil=True, fastmath=FASTMATH, parallel=True)
