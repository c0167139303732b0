"""``python -m particles`` is the ``ionpump`` command."""

from .cli import entry

entry()
