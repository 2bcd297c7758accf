"""What ``scratchnn train MODEL`` runs: one module per model family (``mlp``, ``cnn``), one shared set-up.

Each recipe loads its data, builds its model, trains it with the Trainer into a new run folder
(config, metrics, checkpoints, figures, results) and reports test accuracy; :mod:`.common` holds the
training flags and run set-up they share, :mod:`.session` the run folder, ``--resume`` and the clean
stop on SIGINT / SIGTERM, :mod:`.cli` the ``train`` subcommand.
"""
