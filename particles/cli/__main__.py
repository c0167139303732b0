"""``python -m particles.cli`` is the ``ionpump`` command, as ``python -m particles`` is."""

import sys

from . import main

sys.exit(main())
