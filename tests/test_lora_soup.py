"""experiments/lora_soup.py: one adapter whose product is exactly the mean of several adapters' products."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from experiment_scripts import load_script

soup = load_script(Path(__file__).resolve().parents[1] / "experiments" / "lora_soup.py")

KEY = "base_model.model.bert.encoder.layer.0.attention.self.query"


def adapter(seed: int, rank: int = 4) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        f"{KEY}.lora_A.weight": torch.randn(rank, 6, generator=g),
        f"{KEY}.lora_B.weight": torch.randn(5, rank, generator=g),
        "base_model.model.classifier.weight": torch.randn(3, 6, generator=g),
        "base_model.model.position_ids": torch.arange(4),
    }


def test_the_stacked_adapter_is_the_mean_of_the_products_and_heads() -> None:
    parts = [adapter(s) for s in (1, 2, 3)]
    out = soup.soup_tensors(parts)
    a, b = out[f"{KEY}.lora_A.weight"], out[f"{KEY}.lora_B.weight"]
    assert a.shape == (12, 6) and b.shape == (5, 12)
    # same alpha, rank 3·4: (alpha / 12) B A equals the mean of (alpha / 4) B_i A_i
    mean = sum(p[f"{KEY}.lora_B.weight"] @ p[f"{KEY}.lora_A.weight"] for p in parts) / 3 / 4
    assert torch.allclose(b @ a / 12, mean, atol=1e-5)
    head = torch.stack([p["base_model.model.classifier.weight"] for p in parts]).mean(0)
    assert torch.allclose(out["base_model.model.classifier.weight"], head)
    assert torch.equal(out["base_model.model.position_ids"], torch.arange(4))


def test_adapters_with_other_tensors_are_refused() -> None:
    other = adapter(2)
    del other["base_model.model.classifier.weight"]
    with pytest.raises(SystemExit, match="other tensors"):
        soup.soup_tensors([adapter(1), other])
