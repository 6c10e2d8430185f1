"""``python -m idprobe`` runs the command-line interface."""

import sys

from idprobe.cli import main

sys.exit(main())
