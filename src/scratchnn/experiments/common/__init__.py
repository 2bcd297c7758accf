"""What several experiments share: small-data course-Solver runs (:mod:`.small_runs`)."""
