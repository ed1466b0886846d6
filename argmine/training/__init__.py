"""Training infrastructure: the loop both trainers share, its run state, the data-parallel layer, the record.

    loop.fit ──► batches (argmine.runtime.length_bucketed_batches) ──► model ──► loss ──► best epoch by dev
       │                                   ▲ distributed: shards, DDP, rank 0 decides (torchrun)
       └── state.RunState: a resumable run folder in safetensors + JSON
    record.TrainingRecord: what a trainer writes of the run (metrics.json ``train/...``, argmine.json ``training``)

The trainers themselves are beside their models: ``argmine.segmenter.train``, ``argmine.stance.train``.
Settings are ``argmine.settings.TrainSettings``.
"""
