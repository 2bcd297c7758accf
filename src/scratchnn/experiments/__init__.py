"""Runnable experiments, one file each (``scratchnn train ...`` and, later, ``scratchnn experiment ...``)."""
