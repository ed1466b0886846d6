"""The number formats a model can run in, which one ``auto`` means on this machine, and converting to one.

float32 is what every dev metric was measured in. bfloat16 keeps float32's
range with 8 mantissa bits: on a CPU with bf16 instructions (AVX512-BF16 or
AMX) the matrix products run about twice as fast and predictions barely move;
elsewhere bf16 is emulated and slower, so ``auto`` only picks it where it is
native. Each model converts itself (``to_precision``, with ``convert``) and
folds LoRA adapters in for inference (``merged``, with ``merge_lora``);
measurements are in experiments/benchmarks/README.md.

int8 is not offered. Dynamic quantization of the linear layers (torch's
deprecated ``torch.ao.quantization.quantize_dynamic``; torchao's maintained
``Int8DynamicActivationInt8WeightConfig`` is the same per-token int8 scheme)
kept only 60.2% of the float32 components and 930 of 1,000 comment stances
when measured: faster, but other answers.

No torch import at module level: the CLI reads ``PRECISIONS`` before loading any model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from argmine.errors import InputError

if TYPE_CHECKING:
    from torch import nn

PRECISIONS = ("float32", "bfloat16")
# `argmine mine` and ArgumentMiner.from_pretrained run in "auto": bf16 where native kept 99% of spans and every
# comment stance of the float32 run (experiments/benchmarks/README.md). evaluate asks for float32, what it measures.
DEFAULT_PRECISION = "auto"


def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 instructions, so bf16 inference is fast here."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private torch.cpu helpers, hence getattr
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def resolve_precision(precision: str) -> str:
    """``precision`` checked against ``PRECISIONS`` (an ``InputError`` if not), ``"auto"`` decided for this CPU."""
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    if precision not in PRECISIONS:
        dropped = " (int8 was dropped: it changed the predicted spans)" if precision == "int8" else ""
        raise InputError(f"precision must be auto or one of {', '.join(PRECISIONS)}, got {precision!r}{dropped}")
    return precision


def merge_lora(model: nn.Module) -> None:
    """Fold a peft model's LoRA adapters into its base weights, in place, for inference.

    About 1.5x faster on a CPU, the same predictions up to float rounding. The
    adapters stay beside the merged weights, so the checkpoint still saves as
    the small delta; don't train a merged model. A plain model, or one merged
    already, is left as it is.
    """
    if not callable(getattr(model, "merge_adapter", None)):  # not a peft model
        model.eval()
        return
    from peft.tuners.tuners_utils import BaseTunerLayer

    layers = [m for m in model.modules() if isinstance(m, BaseTunerLayer)]
    if any(not layer.merged for layer in layers):
        model.merge_adapter()
    model.eval()


def convert(model: nn.Module, current: str, precision: str) -> tuple[nn.Module, str]:
    """``model`` (running in ``current``) for inference in ``precision`` (``"auto"`` resolved), and that precision.

    Leaving float32 is one way: a LoRA model's adapters are folded into its
    weights for good (peft's wrappers removed, so the returned module may be
    another object), then every weight is cast. Load the checkpoint again to
    go back to float32.
    """
    import torch

    precision = resolve_precision(precision)
    if precision == current:
        return model, current
    if current != "float32":
        raise ValueError(f"this model already runs in {current}; load the checkpoint again for {precision}")
    merge_lora(model)
    if callable(getattr(model, "unload", None)):  # peft: the base model, its weights already merged
        model = model.unload()
    return model.to(getattr(torch, precision)).eval(), precision
