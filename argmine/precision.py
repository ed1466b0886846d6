"""The number formats a miner can run in, and which one ``auto`` means on this machine.

float32 is what every dev metric was measured in. bfloat16 keeps float32's
range with 8 mantissa bits: on a CPU with bf16 instructions (AVX512-BF16 or
AMX) the matrix products run about twice as fast and predictions barely move;
elsewhere bf16 is emulated and slower, so ``auto`` only picks it where it is
native. int8 (dynamic quantization of the linear layers) is faster still but
moves span boundaries noticeably. Measurements: experiments/benchmarks/README.md.

No torch import at module level: the CLI reads ``PRECISIONS`` before loading any model.
"""

from __future__ import annotations

PRECISIONS = ("float32", "bfloat16", "int8")
# `argmine mine` and ArgumentMiner.from_pretrained run in "auto": bf16 where native kept 99% of spans and every
# comment stance of the float32 run (experiments/benchmarks/README.md). evaluate asks for float32, what it measures.
DEFAULT_PRECISION = "auto"


def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 instructions, so bf16 inference is fast here."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private torch.cpu helpers, hence getattr
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def resolve_precision(precision: str) -> str:
    """``precision`` checked against ``PRECISIONS``, with ``"auto"`` decided for this CPU."""
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be auto or one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision
