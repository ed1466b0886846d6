"""Jobs: a training run and an evaluation run from typed settings, usable without Hydra (a notebook, a script).

    argmine.jobs.data      DataSettings (one data config as plain values), gold(data, split)
    argmine.jobs.train     run_settings(...) → RunSettings; run_training(settings, data, run_dir)
    argmine.jobs.evaluate  run_evaluation(settings, data, run_dir) (or a dev suite)

``argmine train|evaluate`` (``argmine.cli.hydra_app``) compose conf/ with Hydra, turn the
composed config into these settings and call these functions with the run folder Hydra made.

A job is what Hydra calls one run of the task function: one run folder, filled by one of these.
"""
