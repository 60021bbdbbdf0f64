"""``python -m stack``: see :mod:`stack`."""

import sys

from stack.launcher import main

sys.exit(main())
