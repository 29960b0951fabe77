"""``python -m playground`` is the ``playground`` command."""
import sys

from playground.web.cli import main

sys.exit(main())
