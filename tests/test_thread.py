"""The data model: construction, validation errors that name the field, lossless JSON."""

from __future__ import annotations

import json
import sys

import pytest

from argmine.errors import CorpusFormatError, InvalidThreadError
from argmine.readers.jsonl import read_jsonl, write_jsonl
from argmine.thread import Comment, Component, Post, Relation, Stance, Thread, make_component

POST = "Cities should ban cars from their centres."
REPLY = "I disagree.  Délivery vans need access, and “small shops” depend on them."
REPLY2 = "Vans could get permits, so that is not a reason."


def small_thread(**overrides) -> Thread:
    claim = make_component(POST, 0, 41, "Claim", "p-T1")
    attack = make_component(REPLY, 0, 11, "Claim", "c1-T1", stance=Stance("attack", 0.75))
    premise = make_component(REPLY, 13, 73, "Premise", "c1-T2", attributes={"type": "logos"})
    fields = dict(
        id="t1",
        post=Post(id="p", author="ann", text=POST, components=[claim], stance=Stance("support")),
        comments=[
            Comment(id="c1", author="bob", reply_to="p", text=REPLY, components=[attack, premise], stance=Stance("attack")),
            Comment(id="c2", author="ann", reply_to="c1", text=REPLY2),
        ],
        relations=[Relation("c1-T2", "c1-T1", "support"), Relation("c1-T1", "p-T1", "attack", 0.5)],
        meta={"source": "invented"},
    )
    fields.update(overrides)
    return Thread(**fields)


def test_component_text_is_the_slice_even_with_unicode_and_double_spaces():
    thread = small_thread()
    premise = thread.comments[0].components[1]
    assert premise.text == REPLY[13:73]
    assert premise.text.startswith("Délivery") and premise.text.endswith("them.")


def test_navigation_helpers():
    thread = small_thread()
    assert [m.id for m in thread.messages()] == ["p", "c1", "c2"]
    assert [(m.id, c.id) for m, c in thread.components()] == [("p", "p-T1"), ("c1", "c1-T1"), ("c1", "c1-T2")]
    assert thread.depth(thread.comments[0]) == 1 and thread.depth(thread.comments[1]) == 2
    assert thread.message("c2").text == REPLY2


def test_json_round_trip_is_lossless_including_scores_and_attributes():
    thread = small_thread()
    again = Thread.from_dict(json.loads(json.dumps(thread.to_dict())))
    assert again == thread
    assert again.to_dict() == thread.to_dict()
    assert again.comments[0].components[0].stance.score == 0.75
    assert again.relations[1].score == 0.5
    assert again.comments[0].components[1].attributes == {"type": "logos"}


def test_inputs_are_frozen():
    thread = small_thread()
    with pytest.raises(AttributeError):
        thread.comments[0].text = "changed"  # type: ignore[misc]
    assert isinstance(thread.comments, tuple) and isinstance(thread.comments[0].components, tuple)


@pytest.mark.parametrize(
    "mutate, field, message",
    [
        (lambda d: d["comments"][0].update(id="p"), "comments[0].id", "already used at post.id"),
        (lambda d: d["comments"][1].update(reply_to="nope"), "comments[1].reply_to", "neither the post"),
        (lambda d: d["comments"][0]["components"][0].update(end=500), "comments[0].components[0].end", "inside a text"),
        (lambda d: d["comments"][0]["components"][0].update(start=5, end=5), "comments[0].components[0].start", "non-empty"),
        (lambda d: d["comments"][0]["components"][0].update(text="I agree."), "comments[0].components[0].text", "differs"),
        (lambda d: d["relations"][0].update(target="ghost"), "relations[0].target", "not in this thread"),
        (lambda d: d["relations"][0].update(source="c1"), "relations[0].source", "not a component"),
        (lambda d: d["comments"][0].pop("text"), "comments[0].text", "is missing"),
        (lambda d: d["comments"][0].update(stance=3), "comments[0].stance", "expected null"),
        (lambda d: d["comments"][0]["components"][0].update(start="0"), "comments[0].components[0].start", "expected int"),
        (lambda d: d.update(id=""), "id", "non-empty"),
    ],
)
def test_violations_name_the_field(mutate, field, message):
    data = small_thread().to_dict()
    mutate(data)
    with pytest.raises(InvalidThreadError) as caught:
        Thread.from_dict(data)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_reply_cycle_is_rejected():
    data = small_thread().to_dict()
    data["comments"][0]["reply_to"] = "c2"
    with pytest.raises(InvalidThreadError, match="cycle"):
        Thread.from_dict(data)


def test_constructor_validates_too():
    with pytest.raises(InvalidThreadError):
        Thread(id="x", post=Post(id="p", author=None, text="abc", components=[Component("k", 0, 2, "Claim", "xx")]))


def test_jsonl_round_trip_and_errors_with_file_and_line(tmp_path):
    path = tmp_path / "threads.jsonl"
    threads = [small_thread(), small_thread(id="t2")]
    assert write_jsonl(threads, path) == 2
    assert list(read_jsonl(path)) == threads

    lines = path.read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[1])
    broken["comments"][0]["components"][1]["end"] = 999
    path.write_text(lines[0] + "\n\n" + json.dumps(broken) + "\n", encoding="utf-8")
    with pytest.raises(InvalidThreadError) as caught:
        list(read_jsonl(path))
    assert str(caught.value).startswith(f"{path}:3: comments[0].components[1].end:")

    path.write_text(lines[0] + "\n{not json\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r":2: malformed JSON"):
        list(read_jsonl(path))


def test_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.jsonl"
    write_jsonl([small_thread()], path)
    before = path.read_bytes()

    def exploding():
        yield small_thread(id="t9")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_jsonl(exploding(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


# -- unknown fields are kept (issue 17, item 5) ------------------------------------------------------


def test_unknown_fields_everywhere_survive_a_jsonl_round_trip(tmp_path):
    data = small_thread().to_dict()
    data["annotator"] = {"name": "zoë", "round": 2}
    data["post"]["url"] = "https://example.org/p"
    data["comments"][0]["upvotes"] = 12
    data["comments"][0]["stance"]["confidence"] = "low"
    data["comments"][0]["components"][1]["note"] = ["check", None, 1.5]
    data["relations"][0]["implicit"] = True
    data["extra"] = "a key named extra is just another unknown field"
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")

    (thread,) = read_jsonl(path)
    assert thread.extra == {"annotator": {"name": "zoë", "round": 2},
                            "extra": "a key named extra is just another unknown field"}
    assert thread.comments[0].extra == {"upvotes": 12}
    assert thread.comments[0].stance.extra == {"confidence": "low"}
    assert thread.relations[0].extra == {"implicit": True}
    write_jsonl([thread], tmp_path / "out.jsonl")
    again = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert again == data  # every key back in its place, nothing added or lost


def test_an_extra_field_cannot_shadow_a_field():
    with pytest.raises(InvalidThreadError) as caught:
        small_thread(extra={"comments": []})
    assert caught.value.field == "extra"


# -- hostile input: one located line, never a traceback (issue 17, item 11) --------------------------


def test_deeply_nested_json_is_a_located_error(tmp_path):
    path = tmp_path / "deep.jsonl"
    good = json.dumps(small_thread().to_dict())
    path.write_text(good + "\n" + '{"id": "t", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r"deep\.jsonl:2: JSON nested too deeply"):
        list(read_jsonl(path))


def test_nesting_json_can_read_but_not_always_write_is_refused_with_its_path(tmp_path):
    data = small_thread().to_dict()
    data["comments"][1]["meta"] = {"tree": json.loads("[" * 150 + "]" * 150)}
    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")
    with pytest.raises(InvalidThreadError) as caught:
        list(read_jsonl(path))
    assert str(caught.value).startswith(f"{path}:1: comments[1].meta.tree[0][0]")
    assert "nested more than 100 levels" in str(caught.value)


@pytest.mark.parametrize(
    "place, field",
    [
        (lambda d: d["comments"][1].update(text="Vans\ud800 could"), "comments[1].text"),
        (lambda d: d["post"].update(author="\udfff"), "post.author"),
        (lambda d: d["comments"][0]["components"][0].update(label="Cl\ud83daim"), "comments[0].components[0].label"),
        (lambda d: d["meta"].update(note=["ok", "\ud800"]), "meta.note[1]"),
        (lambda d: d.update(added={"k": "\ud800"}), "added.k"),
    ],
)
def test_a_lone_surrogate_is_a_located_error_at_read_time(tmp_path, place, field):
    data = small_thread().to_dict()
    place(data)
    path = tmp_path / "surrogate.jsonl"
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")  # ASCII JSON with a \\ud800 escape
    with pytest.raises(InvalidThreadError) as caught:
        list(read_jsonl(path))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{path}:1: {field}: contains a lone surrogate")


# -- deep reply chains (issue 17, item 14) ---------------------------------------------------------------


def chain(n: int, post_text: str = "Cities should ban cars.") -> Thread:
    comments = [Comment(id=f"c{i}", author="a", reply_to="p" if i == 0 else f"c{i - 1}", text=f"reply {i}")
                for i in range(n)]
    return Thread(id="chain", post=Post(id="p", author=None, text=post_text), comments=comments)


class _OverBudget(Exception):
    pass


def _count_lines(function, files, budget):
    """Run ``function`` counting the Python lines executed in ``files``; stop with ``_OverBudget`` past ``budget``."""
    executed = 0

    def local(frame, event, arg):
        nonlocal executed
        if event == "line":
            executed += 1
            if executed > budget:
                raise _OverBudget(f"more than {budget} lines executed")
        return local

    def calls(frame, event, arg):
        return local if frame.f_code.co_filename in files else None

    sys.settrace(calls)
    try:
        function()
    finally:
        sys.settrace(None)
    return executed


def test_validation_and_parent_lookups_are_linear_in_a_deep_chain():
    # An operation count, not a timing: the old reply-tree check walked every comment's ancestors
    # (n * n / 2 steps of 3 lines, 13 million lines here); building, validating, converting to and from
    # JSON and pairing every comment with its parent take about 190 lines per comment.
    import argmine.json_fields as json_fields
    import argmine.stance.inputs as inputs
    import argmine.thread as thread_module

    n = 3000
    files = {thread_module.__file__, json_fields.__file__, inputs.__file__}

    def work():
        thread = chain(n)
        Thread.from_dict(thread.to_dict())
        assert thread.depth(thread.comments[-1]) == n
        assert [thread.depth(c) for c in thread.comments[:3]] == [1, 2, 3]
        examples = inputs.stance_examples([thread], "comment", labelled_only=False)
        assert examples[-1].input.parent == f"reply {n - 2}"

    executed = _count_lines(work, files, budget=400 * n)
    print(f"{executed} lines for a {n}-deep chain")


def test_a_50000_deep_chain_validates_without_recursion(tmp_path):
    n = 50_000
    thread = chain(n)
    assert thread.depth(thread.comments[-1]) == n
    path = tmp_path / "chain.jsonl"
    write_jsonl([thread], path)
    (again,) = read_jsonl(path)
    assert [c.reply_to for c in again.comments[-2:]] == [f"c{n - 3}", f"c{n - 2}"]
    cyclic = again.to_dict()
    cyclic["comments"][0]["reply_to"] = f"c{n - 1}"
    with pytest.raises(InvalidThreadError, match="cycle"):
        Thread.from_dict(cyclic)
