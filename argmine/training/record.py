"""What a training run did, in one shape for every trainer.

    fit ──► TrainResult (best epoch, its dev metrics, one EpochRecord per epoch)
    trainer ──TrainingRecord.of(settings, result, seconds)──► .scores()  → metrics.json's ``train/...``
                                                          └─► .section() → argmine.json's ``training``

The segmenter and the stance transformer both record their run through ``TrainingRecord``, so
``train/best_epoch`` is an int in both, both give the per-epoch losses (``train/losses``) and the
best epoch's (``train/loss``), and both checkpoints carry the same ``history``. Checkpoints written
before this keep their older ``training`` section; readers take what they find (see ``section``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from argmine.settings import TrainSettings


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch, as ``fit`` keeps it in its history and in the run state."""

    epoch: int  # 1-based
    steps: int  # optimizer steps in this epoch
    train_loss: float  # mean over this epoch's batches
    tokens: int  # real (unpadded) tokens seen, from ``lengths``
    seconds: float  # training time, evaluation excluded
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class TrainResult:
    """What ``fit`` returns: the best epoch (1-based), its dev metrics, every epoch's record, steps in all."""

    best_epoch: int
    best_metrics: dict[str, float]
    history: tuple[EpochRecord, ...]
    steps: int  # optimizer steps in all

    @property
    def tokens_per_second(self) -> float:
        tokens = sum(r.tokens for r in self.history)
        seconds = sum(r.seconds for r in self.history)
        return tokens / seconds if seconds > 0 else 0.0


@dataclass(frozen=True)
class TrainingRecord:
    """A trainer's run of ``fit``: what both trainers write to metrics.json and argmine.json."""

    settings: TrainSettings
    best_epoch: int  # 1-based: the epoch whose weights the checkpoint holds
    steps: int  # optimizer steps in all (one process's under torchrun)
    losses: tuple[float, ...]  # mean training loss of each epoch
    dev_metrics: tuple[dict[str, float], ...]  # each epoch's dev metrics ({} without dev data)
    tokens_per_second: float  # real training tokens per second of training (dev evaluation excluded)
    seconds: float  # the trainer's whole time: preparing the data, training, evaluating

    @classmethod
    def of(cls, settings: TrainSettings, result: TrainResult, seconds: float) -> TrainingRecord:
        return cls(
            settings=settings,
            best_epoch=result.best_epoch,
            steps=result.steps,
            losses=tuple(r.train_loss for r in result.history),
            dev_metrics=tuple(dict(r.metrics) for r in result.history),
            tokens_per_second=result.tokens_per_second,
            seconds=seconds,
        )

    def scores(self) -> dict[str, Any]:
        """The ``train/...`` entries of a run's metrics; ``train/loss`` is the best epoch's (a scalar to average)."""
        return {
            "train/best_epoch": self.best_epoch,
            "train/steps": self.steps,
            "train/loss": self.losses[self.best_epoch - 1],
            "train/losses": list(self.losses),
            "train/seconds": self.seconds,
            "train/tokens_per_second": self.tokens_per_second,
        }

    def section(self) -> dict[str, Any]:
        """The loop's facts for argmine.json's ``training`` (what the model cards list).

        Before this record, the segmenter wrote ``history`` as ``{epoch, train_loss, <its select
        metric>}`` and the stance transformer no history and no ``seconds``; the other keys are as they were.
        """
        settings = self.settings
        return {
            "epochs": settings.epochs,
            "best_epoch": self.best_epoch,
            "steps": self.steps,
            "seed": settings.seed,
            "learning_rate": settings.learning_rate,
            "batch_size": settings.batch_size,
            "max_tokens": settings.max_tokens,
            "max_steps": settings.max_steps,
            "weight_decay": settings.weight_decay,
            "warmup_ratio": settings.warmup_ratio,
            "seconds": self.seconds,
            "history": [
                {"epoch": number, "train_loss": loss, "metrics": metrics}
                for number, (loss, metrics) in enumerate(zip(self.losses, self.dev_metrics), start=1)
            ],
        }
