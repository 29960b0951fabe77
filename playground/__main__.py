"""``python -m playground`` is the ``playground`` command."""
import sys

from .cli import main

sys.exit(main())
