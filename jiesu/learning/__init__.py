"""Learning triage models from the centre's history or from files: the Django side of
``jiesu.triage`` (management commands ``train``, ``classify``, ``evaluate``; training data from
the database)."""
