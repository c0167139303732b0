"""numba's on-disk cache (particles/jit.py, issue 16 item 1, issue 18 items 6 and 7): keyed by
the kernel sources, never written beside a read-only install, never a crash when loaded."""

import os
import pty
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from particles import jit

ROOT = Path(__file__).resolve().parent.parent

KERNEL = '''from numba import njit

from .jit import JIT
from . import consts as c
from .more import (A,
                   B)


@njit(**JIT)
def f():
    from .lazy import Z
    return c.X + A + B + Z
'''


def _run(code: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, text=True,
                          capture_output=True, timeout=600)


def _files(d: Path) -> dict[str, int]:
    return {p.relative_to(d).as_posix(): p.stat().st_mtime_ns for p in d.rglob("*")}


def _tree(root: Path) -> Path:
    """A small package tree: a kernel module and what it imports, plus an unrelated module."""
    pkg = root / "particles"
    pkg.mkdir(parents=True)
    (root / "render").mkdir()
    for name, text in {"__init__.py": "", "jit.py": "JIT = {}\n", "kernels.py": KERNEL,
                       "consts.py": "X = 1\n", "more.py": "A, B = 2, 3\n", "lazy.py": "Z = 4\n",
                       "cli.py": "import numba\nfrom .consts import X\n"}.items():
        (pkg / name).write_text(text)
    (root / "render" / "raster.py").write_text(
        "import numba\nfrom particles.jit import JIT\n\n\n@numba.njit(**JIT)\ndef g():\n"
        "    return 0\n")
    return root


def _hash(root: Path) -> str:
    return jit.source_hash(jit.kernel_sources(root), root)


def test_the_cache_key_covers_every_module_a_kernel_compiles_in(tmp_path):
    root = _tree(tmp_path)
    names = {p.relative_to(root).as_posix() for p in jit.kernel_sources(root)}
    assert names == {"particles/jit.py", "particles/kernels.py", "particles/consts.py",
                     "particles/more.py", "particles/lazy.py", "render/raster.py"}
    before = _hash(root)
    for name in ("consts.py", "more.py", "lazy.py", "kernels.py"):
        f = root / "particles" / name
        text = f.read_text()
        f.write_text(text + "# edited\n")
        assert _hash(root) != before, name
        f.write_text(text)
        assert _hash(root) == before
    (root / "particles" / "cli.py").write_text("X = 2\n")  # not compiled into any kernel
    assert _hash(root) == before
    (root / "particles" / "layout.py").write_text("N = 5\n")  # a new module, once imported
    assert _hash(root) == before
    k = root / "particles" / "kernels.py"
    k.write_text(k.read_text().replace("from . import consts as c",
                                       "from . import consts as c, layout"))
    assert "particles/layout.py" in {p.relative_to(root).as_posix()
                                     for p in jit.kernel_sources(root)}


def test_the_real_kernel_modules_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in jit.kernel_sources(ROOT)}
    assert {"particles/jit.py", "particles/rng.py", "render/raster.py"} <= names
    assert not any("cli" in n or "warmup" in n for n in names)
    assert jit.CACHE_DIR is None or re.fullmatch(r"numba-[0-9a-f]{16}", jit.CACHE_DIR.name)


def test_numba_imported_first_still_gets_the_directory(tmp_path):
    code = ("import numba\nfrom numba.core import config\nfrom particles import jit\n"
            "assert config.CACHE_DIR == str(jit.CACHE_DIR), (config.CACHE_DIR, jit.CACHE_DIR)\n")
    r = _run(code, dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path)), tmp_path)
    assert r.returncode == 0, r.stderr


def test_cache_parents_in_order(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "mine"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    parents = [p for p, _ in jit.candidate_parents(env)]
    assert parents[:2] == [tmp_path / "mine", tmp_path / "xdg" / "ionpump"]
    assert jit.candidate_parents(env)[-1][1]  # the temporary directory must be private
    # a cache directory inherited from an ionpump parent process stands for its parent
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "mine" / "numba-0123456789abcdef")}
    assert jit.candidate_parents(env)[0][0] == tmp_path / "mine"


def test_unwritable_or_foreign_parents_are_skipped(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert jit.choose_cache_dir("numba-x", [(blocker, False), (blocker / "sub", False)]) is None
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # as another user's directory in /tmp could be
    assert jit.choose_cache_dir("numba-x", [(shared, True)]) is None
    got = jit.choose_cache_dir("numba-x", [(blocker, False), (tmp_path / "ok", True)])
    assert got == tmp_path / "ok" / "numba-x" and got.is_dir()


def test_prune_keeps_recent_versions(tmp_path):
    old = time.time() - 3 * jit.PRUNE_AFTER_S
    dirs = [tmp_path / f"numba-{i:016x}" for i in range(6)]
    for i, d in enumerate(dirs):
        d.mkdir()
        os.utime(d, (old + i, old + i))
    for d in dirs[2:5]:
        os.utime(d, None)  # used today, e.g. by other worktrees
    (tmp_path / "numba-notahash").mkdir()
    jit.prune(dirs[0], keep=2)
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {d.name for d in dirs[:1] + dirs[2:5]} | {"numba-notahash"}


def test_read_only_install_without_writable_home(tmp_path):
    """Issue 18 item 6: the package read-only, HOME and the XDG cache unusable -> the cache
    goes to a private temporary directory; a second process loads it (writes nothing)."""
    ro = tmp_path / "ro"
    for pkg in ("particles", "render", "scenarios"):
        shutil.copytree(ROOT / pkg, ro / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for p in [ro, *ro.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(HOME=str(blocker), XDG_CACHE_HOME=str(blocker), TMPDIR=str(tmp),
               PYTHONPATH=str(ro), PYTHONDONTWRITEBYTECODE="1")
    code = ("from particles import Simulation, jit\nimport particles\n"
            f"assert particles.__file__.startswith({str(ro)!r})\n"
            "Simulation('pump-cycle').step(2)\nprint(jit.CACHE_DIR)")
    installed = _files(ro)
    try:
        first = _run(code, env, tmp_path)
        assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr
        cache = Path(first.stdout.split()[-1])
        assert cache.parent.parent == tmp and cache.name.startswith("numba-")
        filled = _files(cache)
        assert any(n.endswith(".nbi") for n in filled)
        second = _run(code, env, tmp_path)
        assert second.returncode == 0 and "Traceback" not in second.stderr, second.stderr
        assert _files(cache) == filled  # everything loaded, nothing compiled again
        assert _files(ro) == installed  # nothing written beside the package
    finally:
        for p in [ro, *ro.rglob("*")]:
            p.chmod(0o755)


def test_no_writable_directory_at_all_means_no_caching_and_one_line(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = dict(os.environ, HOME=str(blocker), XDG_CACHE_HOME=str(blocker),
               NUMBA_CACHE_DIR=str(blocker))
    code = (f"import tempfile\ntempfile.tempdir = {str(blocker)!r}\n"
            "from particles import jit\nimport render.raster\n"
            "assert jit.CACHE_DIR is None and jit.JIT['cache'] is False\n")
    r = _run(code, env, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == jit.NO_CACHE_NOTICE


PARALLEL_PAIR = '''import numpy as np
from numba import njit, prange

from particles.jit import JIT, JIT_PARALLEL


@njit(**JIT_PARALLEL)
def inner(x, y):
    for i in prange(x.shape[0]):
        y[i] = 2 * x[i]


@njit(**JIT)
def outer(x, y=None):
    if y is None:
        inner(x, np.zeros(x.shape[0]))
    else:
        inner(x, y)


@njit(**JIT)
def top(x, y):
    outer(x, y)
'''


def test_second_specialisation_of_a_cached_caller_loads_without_crash(tmp_path):
    """Issue 18 item 7: one process fills the cache; the next compiles a second
    specialisation of the caller of a parallel kernel; the one after loads it (it
    segfaulted when the parallel kernel was cached too)."""
    (tmp_path / "pair.py").write_text(PARALLEL_PAIR)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    head = "import numpy as np, particles, pair\nx = np.ones(10)\n"
    fill = head + "y = np.zeros(10)\npair.top(x, y)\nassert y.sum() == 20\n"
    other = head + "pair.outer(x)\n"
    for code in (fill, other, other, fill):
        r = _run(code, env, tmp_path)
        assert r.returncode == 0, (r.returncode, r.stderr)


def test_first_compile_into_an_empty_cache_says_so_on_a_terminal(tmp_path):
    code = ("import particles\nfrom numba import njit\n"
            "njit(lambda: 1)()\nnjit(lambda: 2)()\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "empty"))
    master, slave = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                           stdout=subprocess.DEVNULL, stderr=slave, timeout=600)
        os.close(slave)
        slave = None
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child's end is closed
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    assert r.returncode == 0
    assert out.decode().strip().splitlines() == [jit.COMPILING_NOTICE]
    # not a terminal (a script, a test, CI): nothing
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "empty-too")
    r = _run(code, env, tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_warm_up_compiles_everything_once(tmp_path):
    """After one warm-up, another finds every kernel in the cache (0 compiled per stage)."""
    for _ in range(2):
        r = subprocess.run([sys.executable, "-m", "particles", "warmup"], cwd=tmp_path, text=True,
                           capture_output=True, timeout=900)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    stages = [ln for ln in r.stdout.splitlines() if ln.startswith("  ")]
    assert len(stages) >= 9, r.stdout
    assert all(" 0 functions compiled" in ln for ln in stages), r.stdout
