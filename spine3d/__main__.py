"""``python -m spine3d``: the command line, the same as the installed ``spine3d`` command."""

import sys

from ._cli.main import main

sys.exit(main())
