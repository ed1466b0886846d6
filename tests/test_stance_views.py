"""Stance views: an essay's claims re-read as comments toward its major claim."""

from __future__ import annotations

import pytest

from argmine.stance.inputs import stance_examples
from argmine.stance.views import apply_view, claims_toward_major_claim
from argmine.thread import Post, Stance, Thread, make_component

TEXT = "Cities should ban cars. Parking wastes space. Yet vans need access. Buses are slow."


def essay() -> Thread:
    def part(start: str, end: str, label: str, cid: str, stance: str | None = None):
        a = TEXT.index(start)
        b = TEXT.index(end) + len(end)
        component = make_component(TEXT, a, b, label, cid)
        return component if stance is None else type(component)(**{**component.__dict__, "stance": Stance(stance)})

    components = (
        part("Cities", "cars", "MajorClaim", "T1"),
        part("Parking", "space", "Claim", "T2", "For"),
        part("vans", "access", "Claim", "T3", "Against"),
        part("Buses", "slow", "Premise", "T4"),
    )
    return Thread(id="essay1", post=Post(id="essay1", author=None, text=TEXT, components=components))


def test_the_major_claim_becomes_the_post_and_each_claim_a_comment_with_its_stance() -> None:
    view = claims_toward_major_claim(essay())
    assert view is not None
    assert view.post.text == "Cities should ban cars"
    assert [(c.text, c.stance.label) for c in view.comments] == [
        ("Parking wastes space", "For"),
        ("vans need access", "Against"),
    ]
    assert all(c.reply_to == view.post.id for c in view.comments)
    assert view.comments[1].meta["start"] == TEXT.index("vans")  # where it stood in the essay
    examples = stance_examples([view], "comment")
    assert [e.label for e in examples] == ["For", "Against"]
    assert examples[0].input.post == "Cities should ban cars"


def test_an_essay_without_a_major_claim_or_claim_stances_has_no_view() -> None:
    thread = essay()
    bare = Thread(id="x", post=Post(id="x", author=None, text=TEXT, components=thread.post.components[3:]))
    assert claims_toward_major_claim(bare) is None
    assert apply_view(thread, None) is thread
    with pytest.raises(ValueError, match="unknown stance view"):
        apply_view(thread, "nope")
