"""python3 -m oxvac.plot SUBCOMMAND ... (see oxvac.plot.cli)."""
import sys

from .cli import main

sys.exit(main())
