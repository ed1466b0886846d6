"""Data-parallel training under ``torchrun`` / ``accelerate launch``: processes, devices, shards, collectives.

    Launch.from_env()        this process's rank, world size and local rank (rank 0 of 1 when started alone)
    pick_device(name)        auto / cpu / cuda / cuda:N → the torch device of this process
    start_distributed(dev)   join the launcher's process group (nccl on a GPU, gloo on the CPU)
    shard_batches(plan, r)   rank r's share of an epoch's batches, the same count on every rank
    broadcast_object, sum_over_ranks, broadcast_parameters   what the loop exchanges between ranks

``argmine.training.loop`` wraps the model in ``DistributedDataParallel`` itself and uses
these for the rest. Why not ``accelerate``'s ``Accelerator``: its state is one per process
(the first one fixes the device; a later ``Accelerator(cpu=...)`` keeps it), while ``fit``
takes its device per call and trains "where the model already is" by default; it never
leaves a process group it joined, which ``fit`` does for the one it created; and its
sharding fills the last batches with repeated examples where ``shard_batches`` leaves
them out. What it would replace is the few wrappers around ``torch.distributed`` below.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from argmine.errors import InputError
from argmine.settings import DEVICES, is_device_name


@dataclass(frozen=True)
class Launch:
    """This process's place in a ``torchrun`` / ``accelerate launch`` job; rank 0 of 1 when started alone."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> Launch:
        """Read RANK, WORLD_SIZE and LOCAL_RANK, the variables both launchers set for each process."""
        try:
            return cls(
                rank=int(os.environ.get("RANK", "0")),
                world_size=int(os.environ.get("WORLD_SIZE", "1")),
                local_rank=int(os.environ.get("LOCAL_RANK", "0")),
            )
        except ValueError:
            raise InputError("RANK, WORLD_SIZE and LOCAL_RANK must be integers (set by torchrun)") from None

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def pick_device(name: str, *, local_rank: int | None = None) -> torch.device:
    """The device ``name`` means for this process.

    ``auto``: ``cuda:LOCAL_RANK`` where CUDA is available, else the CPU;
    ``cuda``: ``cuda:LOCAL_RANK`` (an error without CUDA); ``cpu``; ``cuda:N`` as given.
    """
    if not is_device_name(name):
        raise InputError(f"device must be one of {', '.join(DEVICES)} or cuda:N, got {name!r}")
    if local_rank is None:
        local_rank = Launch.from_env().local_rank
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise InputError(f"device {name!r}: CUDA is not available here (use device=cpu or device=auto)")
    return torch.device(f"cuda:{local_rank}" if name == "cuda" else name)


def start_distributed(device: torch.device) -> bool:
    """Join the process group of a ``torchrun`` / ``accelerate launch`` job; True if this call created it.

    Nothing happens when the process was started alone (WORLD_SIZE 1) or the group
    exists already. The backend is nccl for a CUDA device, gloo for the CPU; where
    to meet comes from the launcher's MASTER_ADDR/MASTER_PORT (``env://``).
    """
    import torch.distributed as dist

    if not Launch.from_env().distributed or dist.is_initialized():
        return False
    if not dist.is_available():
        raise InputError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    if device.type == "cuda":
        torch.cuda.set_device(device)  # nccl's collectives (and broadcast_object_list) use the current device
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return True


def stop_distributed() -> None:
    """Leave the process group (if there is one)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def process_rank() -> tuple[int, int]:
    """(rank, world size) in the running process group, else of the launch (0, 1 when started alone)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    launch = Launch.from_env()
    return launch.rank, launch.world_size


def is_main_process() -> bool:
    """Whether this process writes files: rank 0, or the only process."""
    return process_rank()[0] == 0


def broadcast_object(value: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``value`` on every rank (a picklable object); ``value`` itself without a process group."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def shard_batches(batches: Sequence[list[int]], rank: int, world_size: int) -> list[list[int]]:
    """Rank ``rank``'s share of one epoch's batches: every ``world_size``-th batch, the same count on every rank.

    The last ``len(batches) % world_size`` batches are left out of this epoch
    (at most ``world_size - 1``), so that no rank waits in an all-reduce for a
    step the others never take. The plan is reshuffled every epoch, so other
    examples are left out next time.
    """
    usable = len(batches) - len(batches) % world_size
    if usable == 0:
        raise InputError(
            f"{len(batches)} batches per epoch cannot be shared by {world_size} processes: "
            "use a smaller batch_size or fewer processes"
        )
    return list(batches[rank:usable:world_size])


def rank_seed(seed: int, epoch: int, rank: int) -> int:
    """A torch seed for one rank's epoch: dropout differs between ranks and is the same when resumed."""
    digest = hashlib.sha256(f"{seed}/{epoch}/{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % (2**63)


def sum_over_ranks(values: list[float], device: torch.device) -> list[float]:
    """The element-wise sum of ``values`` over all ranks (in float64), on every rank."""
    import torch.distributed as dist

    summed = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(summed)
    return summed.tolist()


def broadcast_parameters(parameters: dict[str, nn.Parameter]) -> None:
    """Copy rank 0's ``parameters`` into every rank's, in place."""
    import torch.distributed as dist

    with torch.no_grad():
        for p in parameters.values():
            dist.broadcast(p.detach(), src=0)
