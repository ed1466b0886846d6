"""Gold stances from CMV relations and from RumourEval labels, on hand-made threads."""

from __future__ import annotations

from pathlib import Path

import pytest

from argmine.stance.gold import derive_cmv_stances, map_stances, polarity_conflicts
from argmine.thread import Comment, Post, Relation, Stance, Thread, make_component

CMV_POLARITY = {
    "support": "support",
    "agreement": "support",
    "partial_agreement": "support",
    "rebuttal": "attack",
    "rebuttal_attack": "attack",
    "undercutter": "attack",
    "undercutter_attack": "attack",
    "partial_attack": "attack",
    "attack": "attack",
    "disagreement": "attack",
    "partial_disagreement": "attack",
    "understand": "none",
}

TITLE = "CMV: Cats make better pets than dogs."
BODY = " They are quiet. They clean themselves."
POST_TEXT = TITLE + BODY


def comment(cid: str, text: str, reply_to: str, spans: list[tuple[str, str]]) -> Comment:
    """A comment whose components are the given (id, substring) pairs."""
    components = []
    for comp_id, piece in spans:
        start = text.index(piece)
        components.append(make_component(text, start, start + len(piece), "claim", comp_id))
    return Comment(id=cid, author="u", text=text, reply_to=reply_to, components=components)


def cmv_thread(relations: list[tuple[str, str, str]], comments: list[Comment] | None = None) -> Thread:
    post = Post(
        id="op",
        author="alice",
        text=POST_TEXT,
        components=[
            make_component(POST_TEXT, 0, len(TITLE), "main_claim", "T1"),
            make_component(
                POST_TEXT, POST_TEXT.index("They are quiet."), POST_TEXT.index("They are quiet.") + 15, "premise", "T2"
            ),
        ],
    )
    if comments is None:
        comments = [
            comment(
                "c1", "Dogs are loyal. Cats ignore you.", "op", [("T3", "Dogs are loyal."), ("T4", "Cats ignore you.")]
            ),
            comment("c2", "I agree, cats are easy.", "op", [("T5", "cats are easy")]),
            comment("c3", "Nice weather today.", "op", []),
            comment("c4", "True, but only partly.", "c1", [("T6", "only partly")]),
        ]
    return Thread(
        id="cmv-1",
        post=post,
        comments=comments,
        relations=[Relation(source, target, label) for source, target, label in relations],
    )


def stances(thread: Thread) -> dict[str, str | None]:
    out = {}
    for c in thread.comments:
        out[c.id] = c.stance.label if c.stance else None
        for comp in c.components:
            out[comp.id] = comp.stance.label if comp.stance else None
    return out


def test_relation_polarity_sets_component_and_comment_stances() -> None:
    thread = cmv_thread([("T3", "T1", "rebuttal"), ("T4", "T3", "support"), ("T5", "T1", "agreement")])
    got = stances(derive_cmv_stances(thread, CMV_POLARITY))
    assert got == {
        "c1": "attack",
        "T3": "attack",
        "T4": "none",  # supports the attacking claim only: not a direct relation to the post
        "c2": "support",
        "T5": "support",
        "c3": "none",  # no components at all
        "c4": "none",
        "T6": "none",
    }


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("partial_agreement", "support"),
        ("partial_attack", "attack"),
        ("partial_disagreement", "attack"),
        ("undercutter_attack", "attack"),
        ("understand", "none"),
    ],
)
def test_partial_and_other_labels_map_by_the_given_polarity(label: str, expected: str) -> None:
    thread = cmv_thread([("T5", "T2", label)])  # T2: a body component, not the title
    got = stances(derive_cmv_stances(thread, CMV_POLARITY))
    assert got["T5"] == expected
    assert got["c2"] == expected


def test_relation_to_the_post_itself_and_to_the_title_count() -> None:
    thread = cmv_thread([("T5", "op", "disagreement"), ("T3", "T1", "support")])
    got = stances(derive_cmv_stances(thread, CMV_POLARITY))
    assert (got["T5"], got["c2"]) == ("attack", "attack")
    assert (got["T3"], got["c1"]) == ("support", "support")


def test_relation_to_another_comment_gives_no_stance_toward_the_post() -> None:
    thread = cmv_thread([("T6", "T3", "rebuttal"), ("T6", "c1", "attack")])
    got = stances(derive_cmv_stances(thread, CMV_POLARITY))
    assert got["T6"] == "none"
    assert got["c4"] == "none"


def test_comment_aggregation_attack_beats_support_beats_none() -> None:
    thread = cmv_thread([("T3", "T1", "agreement"), ("T4", "T2", "undercutter")])
    got = stances(derive_cmv_stances(thread, CMV_POLARITY))
    assert (got["T3"], got["T4"], got["c1"]) == ("support", "attack", "attack")
    thread = cmv_thread([("T3", "T1", "understand"), ("T4", "T2", "partial_agreement")])
    got = stances(derive_cmv_stances(thread, CMV_POLARITY))
    assert (got["T3"], got["T4"], got["c1"]) == ("none", "support", "support")


def test_component_with_both_polarities_is_attack_and_reported() -> None:
    thread = cmv_thread([("T3", "T1", "agreement"), ("T3", "T2", "rebuttal"), ("T5", "T1", "support")])
    assert stances(derive_cmv_stances(thread, CMV_POLARITY))["T3"] == "attack"
    assert polarity_conflicts(thread, CMV_POLARITY) == ["T3"]


def test_default_label_and_input_left_unchanged() -> None:
    thread = cmv_thread([("T5", "T1", "agreement")])
    derived = derive_cmv_stances(thread, CMV_POLARITY, default="neutral")
    got = stances(derived)
    assert got["c1"] == "neutral" and got["T3"] == "neutral" and got["c2"] == "support"
    assert all(c.stance is None for c in thread.comments)  # the input thread is not changed
    assert derived.post == thread.post  # the post's own components keep no stance


def test_cmv_data_config_lists_every_relation_label_of_the_release() -> None:
    """conf/data/cmv.yaml maps each label of CMV modes v2.0 (CMV_POLARITY, ``understand`` included), no more."""
    from omegaconf import OmegaConf

    config = OmegaConf.load(Path(__file__).resolve().parent.parent / "conf" / "data" / "cmv.yaml")
    polarity = OmegaConf.to_container(config.relation_polarity)
    assert polarity == CMV_POLARITY
    # The release's one `understand` relation (to the title here) no longer stops the derivation.
    assert stances(derive_cmv_stances(cmv_thread([("T5", "T1", "understand")]), polarity))["c2"] == "none"


def test_unmapped_relation_label_is_an_error() -> None:
    thread = cmv_thread([("T5", "T1", "sarcasm")])
    with pytest.raises(ValueError, match="'sarcasm'"):
        derive_cmv_stances(thread, CMV_POLARITY)


def test_bad_polarity_map_is_an_error() -> None:
    thread = cmv_thread([])
    with pytest.raises(ValueError, match="support, attack, none"):
        derive_cmv_stances(thread, {"support": "pro"})


RUMOUR_THREE_WAY = {"support": "support", "deny": "attack", "query": "none", "comment": "none"}


def rumour_thread() -> Thread:
    post = Post(id="s1", author="news", text="Breaking: the bridge has closed.", stance=Stance("support"))
    replies = [
        Comment(id="r1", author="a", text="Confirmed by the city.", reply_to="s1", stance=Stance("support")),
        Comment(id="r2", author="b", text="Fake, it is open.", reply_to="s1", stance=Stance("deny", 0.9)),
        Comment(id="r3", author="c", text="Source?", reply_to="r2", stance=Stance("query")),
        Comment(id="r4", author="d", text="lol", reply_to="s1", stance=Stance("comment")),
        Comment(id="r5", author="e", text="(not in the key)", reply_to="s1"),
    ]
    return Thread(id="rumour-1", post=post, comments=replies)


def test_map_stances_three_way() -> None:
    mapped = map_stances(rumour_thread(), RUMOUR_THREE_WAY)
    assert mapped.post.stance == Stance("support")
    assert [c.stance.label if c.stance else None for c in mapped.comments] == [
        "support",
        "attack",
        "none",
        "none",
        None,
    ]
    assert mapped.comments[1].stance.score == 0.9  # scores are kept


def test_map_stances_identity_keeps_four_way_labels() -> None:
    identity = {label: label for label in ("support", "deny", "query", "comment")}
    thread = rumour_thread()
    assert map_stances(thread, identity).to_dict() == thread.to_dict()


def test_map_stances_unknown_label_names_the_item() -> None:
    with pytest.raises(ValueError, match=r"comments\[2\].*'query'"):
        map_stances(rumour_thread(), {"support": "support", "deny": "attack", "comment": "none"})
