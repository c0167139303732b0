"""``ionpump completion bash|zsh``: the script names every command and option, and the
shells complete with it (the completion function is called as bash and zsh call it)."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from particles.cli import main
from particles.cli.completion import script
from particles.cli.parser import COMMANDS, build_parser
from particles.config import builtin_names


def _script(shell: str, capsys) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_script_names_every_command_and_option(shell, capsys):
    text = _script(shell, capsys)
    assert text == script(build_parser(), shell)
    assert "complete -F _ionpump_complete ionpump" in text
    names = [m.__name__.rsplit(".", 1)[1] for m in COMMANDS]
    assert "completion" in names
    for name in names:
        assert f"        {name}) opts=" in text, name
    for option in ("--checkpoint-every", "--scheduler-file", "--no-captions", "--vary"):
        assert option in text
    assert "ions.na.inside_mM=" in text
    assert ("bashcompinit" in text) == (shell == "zsh")


def test_unknown_shell_is_one_line(capsys):
    assert main(["completion", "fish"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'fish'" in err


def _run(shell: str, text: str, words: list[str], cwd) -> list[str]:
    """What ``shell`` proposes for the last of ``words`` (the word being completed)."""
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed")
    quoted = " ".join(shlex.quote(w) for w in words)
    cword = len(words) - 1
    if shell == "bash":
        call = (f"COMP_WORDS=({quoted}); COMP_CWORD={cword}; _ionpump_complete; "
                'printf "%s\\n" "${COMPREPLY[@]}"')
    else:  # as zsh's bashcompinit calls it: compgen -F, in sh emulation; zsh filters later
        call = (f"COMP_WORDS=({quoted}); COMP_CWORD={cword}; words=({quoted}); "
                f"CURRENT={cword + 1}; compgen -F _ionpump_complete -- {shlex.quote(words[-1])}")
    r = subprocess.run([exe, "-c", text + "\n" + call], capture_output=True, text=True,
                       cwd=cwd, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return sorted(w for w in r.stdout.split("\n") if w.startswith(words[-1]) and w)


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_shell_completes(shell, tmp_path, capsys):
    text = _script(shell, capsys)
    (tmp_path / "mine.toml").write_text("")
    (tmp_path / "out.csv").write_text("")
    (tmp_path / "sub").mkdir()

    def complete(*words):
        return _run(shell, text, ["ionpump", *words], tmp_path)

    assert complete("sw") == ["sweep"]
    assert complete("") == sorted([*(m.__name__.rsplit(".", 1)[1] for m in COMMANDS),
                                   "--help", "--version"])
    assert complete("run", "") == sorted([*builtin_names(), "mine.toml", "sub"])
    assert complete("run", "res") == [n for n in builtin_names() if n.startswith("res")]
    assert complete("run", "resting-t") == ["resting-timelapse"]
    assert complete("run", "--check") == ["--checkpoint", "--checkpoint-every"]
    assert complete("run", "resting", "--out", "") == ["mine.toml", "out.csv", "sub"]
    assert complete("run", "resting", "--seed", "") == []
    assert complete("run", "resting", "--set", "ions.na.in") == ["ions.na.inside_mM="]
    assert complete("sweep", "--vary", "pumps.cou") == ["pumps.count="]
    assert complete("run", "--seed", "3", "resting", "") == []  # the scenario is given
    assert complete("plot", "") == ["mine.toml", "out.csv", "sub"]
    assert complete("completion", "") == ["bash", "zsh"]
    assert complete("record", "--fps", "30", "pump") == ["pump-cycle"]
