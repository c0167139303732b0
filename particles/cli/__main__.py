"""``python -m particles.cli`` is the ``ionpump`` command, as ``python -m particles`` is."""

from . import entry

entry()
