"""``python -m scratchnn`` is the ``scratchnn`` command."""

from .cli import main

raise SystemExit(main())
