"""``ionpump scenarios``: the built-in scenarios, one line each."""

from __future__ import annotations

from ..config import builtin_names, load_scenario, printable


def add_parser(sub) -> None:
    """Declare ``scenarios``."""
    sp = sub.add_parser("scenarios", help="list the built-in scenarios")
    sp.set_defaults(func=cmd_scenarios)


def cmd_scenarios(args) -> int:
    """Print name, title and description of every built-in scenario."""
    rows = []
    for name in builtin_names():
        sc = load_scenario(name)
        rows.append((name, printable(sc.title), printable(sc.description)))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'name':<{w0}}  {'title':<{w1}}  description")
    for name, title, desc in rows:
        print(f"{name:<{w0}}  {title:<{w1}}  {desc}")
    return 0
