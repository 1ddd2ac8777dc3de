"""``python -m stronglth`` is the ``stronglth`` command."""

import sys

from stronglth.cli import main

sys.exit(main())
