"""The training loop every argmine transformer model shares.

    lengths (one per example) ──► length_bucketed_batches ──► collate(indices) ──► model ──► loss
                                                                                    │
    after each epoch: evaluate() on dev ──► keep the best epoch by one metric ◄─────┘
                      state_dir/ ◄── trainable weights, optimizer, scheduler, RNG: a resumable run

A model plugs in with its own ``collate`` (indices → a dict of tensors for
``model(**batch)``) and ``evaluate`` (→ a dict of dev metrics); the loop knows
nothing about tokens, labels or spans. We use this plain loop rather than the
transformers ``Trainer``: on a 2-core CPU what matters is no padding waste
(length-bucketed batches, sized by examples or by tokens), and that a resumable
state holds only the *trainable* parameters, never pickles (``argmine.training.state``).
The schedule is transformers' ``get_linear_schedule_with_warmup``.

Calling ``fit`` again with the same ``state_dir`` and settings continues after
the last finished epoch with the same batch order it would have had (on any
device: tensors are saved from the CPU; but with as many processes).

Data-parallel training: under ``torchrun`` or ``accelerate launch`` (WORLD_SIZE > 1)
``fit`` joins the process group (nccl on a GPU, gloo on the CPU) and wraps the model in
``DistributedDataParallel``. Every rank builds the same seeded batch plan and takes every
WORLD_SIZE-th batch of it, so all ranks take the same number of steps on disjoint data
and DDP averages their gradients; the optimizer and schedule are the same everywhere.
(The last ``len % WORLD_SIZE`` batches of an epoch are left out; see ``shard_batches``.)
A step thus sees WORLD_SIZE batches, and an epoch has 1/WORLD_SIZE of the steps; the
learning rate is not scaled for that. Dropout is seeded per rank and epoch.
Rank 0 alone evaluates, logs, draws progress bars and writes ``state_dir``; it sends
each epoch's record (loss, dev metrics) to the other ranks, so all pick the same best
epoch. ``state_dir`` must be readable by every rank (one machine, or a shared disk) to
resume.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from argmine.errors import InputError
from argmine.runtime import length_bucketed_batches, use_cpu_threads
from argmine.settings import TrainSettings
from argmine.training.distributed import (
    broadcast_object,
    broadcast_parameters,
    pick_device,
    process_rank,
    rank_seed,
    shard_batches,
    start_distributed,
    stop_distributed,
    sum_over_ranks,
)
from argmine.training.record import EpochRecord, TrainResult
from argmine.training.state import RunState, load_trainable

log = logging.getLogger(__name__)

Batch = Mapping[str, torch.Tensor]


def default_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """``model(**batch).loss``: what a Hugging Face model returns when the batch has ``labels``."""
    return model(**batch).loss


def fit(
    model: nn.Module,
    *,
    lengths: Sequence[int],
    collate: Callable[[list[int]], Batch],
    settings: TrainSettings,
    evaluate: Callable[[], Mapping[str, float]] | None = None,
    state_dir: str | Path | None = None,
    compute_loss: Callable[[nn.Module, Batch], torch.Tensor] = default_loss,
    progress: bool = True,
) -> TrainResult:
    """Train the parameters of ``model`` that require grad; leave it holding the best epoch's weights.

    ``lengths[i]`` is the token length of example ``i`` (for bucketing and
    throughput); ``collate(indices)`` builds its batch. ``evaluate()`` is called
    after each epoch with the model in eval mode and returns dev metrics;
    ``settings.select_metric`` among them picks the best epoch (higher is
    better; ties keep the earlier epoch). Without ``evaluate`` or
    ``select_metric`` the last epoch is kept. With ``state_dir`` the run can be
    resumed (see the module docstring); a finished run found there is not
    trained again, its best weights are just loaded.

    The model trains on ``settings.device`` and is handed back on the device it
    came on. Under ``torchrun`` (WORLD_SIZE > 1) each process trains on its
    shard of every epoch (see the module docstring); ``evaluate`` is called on
    rank 0 only, ``compute_loss`` gets the ``DistributedDataParallel`` wrapper,
    and every rank returns the same result and weights. A process group that
    ``fit`` created, it also destroys.
    """
    if len(lengths) == 0:
        raise InputError("no training examples")
    if settings.select_metric is not None and evaluate is None:
        raise InputError(f"select_metric {settings.select_metric!r} needs an evaluate function")
    trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
    if not trainable:
        raise InputError("the model has no trainable parameters")
    home = next(iter(trainable.values())).device
    if settings.threads is not None:
        use_cpu_threads(settings.threads)
    device = home if settings.device is None else pick_device(settings.device)
    created = start_distributed(device)
    try:
        return _train(
            model,
            trainable,
            device,
            lengths=lengths,
            collate=collate,
            settings=settings,
            evaluate=evaluate,
            state_dir=state_dir,
            compute_loss=compute_loss,
            progress=progress,
        )
    finally:
        model.to(home)
        if created:
            stop_distributed()


def _train(
    model: nn.Module,
    trainable: dict[str, nn.Parameter],
    device: torch.device,
    *,
    lengths: Sequence[int],
    collate: Callable[[list[int]], Batch],
    settings: TrainSettings,
    evaluate: Callable[[], Mapping[str, float]] | None,
    state_dir: str | Path | None,
    compute_loss: Callable[[nn.Module, Batch], torch.Tensor],
    progress: bool,
) -> TrainResult:
    rank, world = process_rank()
    main = rank == 0
    say = log.info if main else log.debug
    model.to(device)

    plan = []
    for epoch in range(settings.epochs):
        batches = length_bucketed_batches(
            lengths, settings.batch_size, shuffle=True, seed=settings.seed + epoch, max_tokens=settings.max_tokens
        )
        plan.append(shard_batches(batches, rank, world) if world > 1 else batches)
    total_steps = sum(len(batches) for batches in plan)  # one rank's steps: the schedule is the same on all
    if settings.max_steps is not None:
        total_steps = min(total_steps, settings.max_steps)
    optimizer = _make_optimizer(trainable, settings)
    scheduler = _make_scheduler(optimizer, total_steps, settings.warmup_ratio)

    store = RunState(Path(state_dir), settings, world) if state_dir is not None else None
    start_epoch, step, history, best_epoch = 0, 0, [], 0
    best_weights: dict[str, torch.Tensor] | None = None
    if store is not None and store.exists():
        # Every rank reads the same state. Rank 0 writes again only after the first step,
        # which waits for all ranks (DDP's set-up below is a collective too).
        start_epoch, step, history, best_epoch = store.load(model, trainable, optimizer, scheduler)
        say("resuming %s after epoch %d (step %d)", store.folder, start_epoch, step)
    best_value = _metric_of(history[best_epoch - 1], settings) if best_epoch else -math.inf
    net: nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        # Averages the gradients over the ranks in backward(); also copies rank 0's weights to all at the start.
        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    say(
        "training %d trainable parameters on %s: %d examples, %d epochs, %d steps%s",
        sum(p.numel() for p in trainable.values()),
        device,
        len(lengths),
        settings.epochs,
        total_steps,
        f" per process, {world} processes" if world > 1 else "",
    )

    for epoch in range(start_epoch, settings.epochs):
        if step >= total_steps:
            break
        if world > 1:
            torch.manual_seed(rank_seed(settings.seed, epoch, rank))
        net.train()
        began, losses, tokens, epoch_steps = time.perf_counter(), [], 0, 0
        bar = tqdm(
            plan[epoch], desc=f"epoch {epoch + 1}/{settings.epochs}", disable=not (progress and main), leave=False
        )
        for indices in bar:
            batch = {k: v.to(device) for k, v in collate(indices).items()}
            with _autocast(device, settings.autocast):
                loss = compute_loss(net, batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at step {step + 1} (epoch {epoch + 1})")
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(trainable.values()), settings.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            epoch_steps += 1
            losses.append(loss.item())
            tokens += sum(lengths[i] for i in indices)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
            if step >= total_steps:
                break
        bar.close()
        seconds = time.perf_counter() - began
        train_loss = float(np.mean(losses))
        if world > 1:  # the loss and tokens of all ranks' batches
            loss_sum, batches_done, tokens_done = sum_over_ranks([sum(losses), len(losses), tokens], device)
            train_loss, tokens = loss_sum / batches_done, int(tokens_done)

        record: EpochRecord | None = None
        if main:
            metrics: dict[str, float] = {}
            if evaluate is not None:
                model.eval()
                metrics = {k: float(v) for k, v in evaluate().items()}
                model.train()
            record = EpochRecord(epoch + 1, epoch_steps, train_loss, tokens, seconds, metrics)
        # Rank 0's record (its dev metrics) on every rank: all then pick the same best epoch below.
        record = broadcast_object(record)
        history.append(record)
        value = _metric_of(record, settings)
        if value > best_value or best_epoch == 0:
            best_value, best_epoch = value, epoch + 1
            best_weights = {k: p.detach().clone() for k, p in trainable.items()} if store is None else None
        shown = settings.select_metric
        say(
            "epoch %d/%d: loss %.4f, %.0f tokens/s%s%s",
            epoch + 1,
            settings.epochs,
            record.train_loss,
            record.tokens_per_second,
            f", dev {shown} {record.metrics[shown]:.4f}" if shown else "",
            " (best)" if best_epoch == epoch + 1 and shown else "",
        )
        if store is not None and main:
            store.save(epoch + 1, step, history, best_epoch, trainable, optimizer, scheduler)

    del net  # drops DDP's gradient hooks
    model.eval()
    if store is not None and best_epoch:
        if main:
            load_trainable(trainable, store.folder / "best.safetensors")
        if world > 1:  # the other ranks need not see rank 0's disk (and rank 0 may delete the folder next)
            broadcast_parameters(trainable)
    elif best_weights is not None:  # every rank kept its own copy: DDP keeps them equal
        with torch.no_grad():
            for name, p in trainable.items():
                p.copy_(best_weights[name])
    best_metrics = dict(history[best_epoch - 1].metrics) if best_epoch else {}
    return TrainResult(best_epoch, best_metrics, tuple(history), step)


def _autocast(device: torch.device, precision: str):
    """The forward pass in bfloat16 where asked (mixed precision: the weights and their updates stay float32)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16")


def _metric_of(record: EpochRecord, settings: TrainSettings) -> float:
    if settings.select_metric is None:
        return float(record.epoch)  # later is better: keeps the last epoch
    if settings.select_metric not in record.metrics:
        known = ", ".join(sorted(record.metrics)) or "none"
        raise KeyError(f"select_metric {settings.select_metric!r} is not among the dev metrics ({known})")
    value = record.metrics[settings.select_metric]
    return -math.inf if math.isnan(value) else value


def _make_optimizer(trainable: dict[str, nn.Parameter], settings: TrainSettings) -> torch.optim.Optimizer:
    # Biases and LayerNorm weights (1-d) are not decayed, as is usual for transformers.
    decay = [p for p in trainable.values() if p.ndim >= 2]
    no_decay = [p for p in trainable.values() if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=settings.learning_rate)


def _make_scheduler(
    optimizer: torch.optim.Optimizer, total: int, warmup_ratio: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_ratio`` of the ``total`` steps, then linear decay to 0 (transformers' schedule)."""
    from transformers import get_linear_schedule_with_warmup

    return get_linear_schedule_with_warmup(optimizer, int(total * warmup_ratio), total)
