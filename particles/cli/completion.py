"""``ionpump completion bash|zsh``: a shell completion script, generated from the parser.

The script completes the commands, each command's options, the built-in scenario names and
``.toml`` files where a scenario is expected, file names after the options that take a file,
and the scenario keys after ``--set`` and ``--vary``. It is generated from
:func:`~particles.cli.parser.build_parser`, so it never disagrees with the options. zsh runs
the same completion function through its bash compatibility (``bashcompinit``).

Install::

    ionpump completion bash > ~/.local/share/bash-completion/completions/ionpump
    ionpump completion zsh > ~/.ionpump.zsh   # and in ~/.zshrc: source ~/.ionpump.zsh
"""

from __future__ import annotations

import argparse
import sys

from . import options

#: Option metavars that name a file to complete.
FILE_METAVARS = ("FILE", "PNG")
#: Options followed by ``KEY=...``: completed with the scenario keys.
KEY_OPTIONS = ("--set", "--vary")

_FUNCTION = r"""
_ionpump_complete() {
    [[ -n ${ZSH_VERSION-} ]] && setopt localoptions ksharrays
    COMPREPLY=()
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" w i n=0
    (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
    local scenarios="%(scenarios)s"
    local keys="%(keys)s"
    local opts values files pwords pfiles
    for (( i = 1; i < COMP_CWORD; i++ )); do
        case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac
    done
    case "$cmd" in
%(cases)s
        *) return 0 ;;
    esac
    if [[ -n $prev && " $values " == *" $prev "* ]]; then
        if [[ " $files " == *" $prev "* ]]; then
            COMPREPLY=($(compgen -f -- "$cur"))
        elif [[ " %(key_options)s " == *" $prev "* ]]; then
            COMPREPLY=($(compgen -W "$keys" -- "$cur"))
            [[ -z ${ZSH_VERSION-} ]] && compopt -o nospace 2>/dev/null
        fi
        return 0
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    for (( i = i + 1; i < COMP_CWORD; i++ )); do  # a positional already given: nothing more
        w="${COMP_WORDS[i]}"
        if [[ " $values " == *" $w "* ]]; then (( i++ )); elif [[ $w != -* ]]; then (( n++ )); fi
    done
    (( n > 0 )) && return 0
    COMPREPLY=($(compgen -W "$pwords" -- "$cur"))
    case "$pfiles" in
        toml) COMPREPLY+=($(compgen -d -- "$cur") $(compgen -f -X '!*.toml' -- "$cur")) ;;
        all) COMPREPLY+=($(compgen -f -- "$cur")) ;;
    esac
    return 0
}
complete -F _ionpump_complete ionpump
"""


def add_parser(sub) -> None:
    """Declare ``completion``."""
    sp = sub.add_parser("completion", help="shell completion script (bash or zsh)",
                        **options.examples(
                            "ionpump completion bash > ~/.local/share/bash-completion/"
                            "completions/ionpump",
                            "ionpump completion zsh > ~/.ionpump.zsh  "
                            "# and in ~/.zshrc: source ~/.ionpump.zsh"))
    sp.add_argument("shell", choices=("bash", "zsh"), metavar="SHELL", help="bash or zsh")
    sp.set_defaults(func=cmd_completion)


def cmd_completion(args) -> int:
    """Print the completion script for ``args.shell``."""
    from .parser import build_parser

    sys.stdout.write(script(build_parser(), args.shell))
    return 0


def _takes_value(action: argparse.Action) -> bool:
    return bool(action.option_strings) and action.nargs != 0


def _command_case(name: str, parser: argparse.ArgumentParser) -> str:
    """The ``case`` branch that describes command ``name`` to the completion function."""
    opts = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
    values = [s for a in parser._actions if _takes_value(a) for s in a.option_strings]
    files = [s for a in parser._actions if _takes_value(a) and a.metavar in FILE_METAVARS
             for s in a.option_strings]
    pos = next((a for a in parser._actions if not a.option_strings), None)
    pwords, pfiles = "", ""
    if pos is not None and pos.choices:
        pwords = " ".join(pos.choices)
    elif pos is not None and pos.dest == "scenario":
        pwords, pfiles = "$scenarios", "toml"
    elif pos is not None and pos.metavar in FILE_METAVARS:
        pfiles = "all"
    body = (f'opts="{" ".join(opts)}"; values="{" ".join(values)}"; '
            f'files="{" ".join(files)}"; pwords="{pwords}"; pfiles="{pfiles}"')
    return f"        {name}) {body} ;;"


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of ``parser`` (the ``ionpump`` parser) for ``shell``.

    Args:
        parser: the top-level parser, with one sub-parser per command.
        shell: ``bash`` or ``zsh``.

    Returns:
        The script's text: a function ``_ionpump_complete`` and its ``complete`` line.
    """
    from ..config import SCHEMA, builtin_names

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    top = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
    cases = [f'        "") COMPREPLY=($(compgen -W "{" ".join([*sub.choices, *top])}" '
             f'-- "$cur")); return 0 ;;']
    cases += [_command_case(name, p) for name, p in sub.choices.items()]
    text = _FUNCTION % {"scenarios": " ".join(builtin_names()),
                        "keys": " ".join(f"{k}=" for k in SCHEMA),
                        "key_options": " ".join(KEY_OPTIONS), "cases": "\n".join(cases)}
    head = f"# {shell} completion for ionpump (generated by `ionpump completion {shell}`)\n"
    if shell == "zsh":
        head += ("autoload -U +X compinit && { (( ${+functions[compdef]} )) || compinit; }\n"
                 "autoload -U +X bashcompinit && bashcompinit\n")
    return head + text.lstrip("\n")
