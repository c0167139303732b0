"""``python -m particles`` is the ``ionpump`` command."""

import sys

from .cli import main

sys.exit(main())
