"""`argmine convert` on each real corpus, then `convert --format jsonl` back: byte-identical."""

from __future__ import annotations

import json

import pytest

from argmine.cli import main

pytestmark = pytest.mark.integration

CORPORA = {
    "cmv": ("cmv-modes-v2", {"threads": 87, "messages": 355}),
    "aae": ("aae2", {"threads": 1464}),
    "rumoureval": ("rumoureval2019", {"threads": 365}),
}


@pytest.mark.parametrize("format", sorted(CORPORA))
def test_convert_round_trip(format, shared_data, tmp_path, capsys):
    folder, expected = CORPORA[format]
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["convert", "--format", format, str(shared_data / folder), str(first)]) == 0
    assert main(["convert", "--format", "jsonl", str(first), str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    capsys.readouterr()
    assert main(["stats", "--format", "jsonl", str(second), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    for key, value in expected.items():
        assert stats[key] == value
