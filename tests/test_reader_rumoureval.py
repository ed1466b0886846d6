"""The RumourEval 2019 reader on small invented releases written to ``tmp_path``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from argmine.errors import CorpusFormatError, InputError, InvalidThreadError
from argmine.readers.jsonl import read_jsonl, write_jsonl
from argmine.readers.rumoureval import key_labels, read_rumoureval
from argmine.thread import Thread


def tweet(tweet_id: str, text: str, parent: str | None = None, user: str = "someone") -> dict[str, Any]:
    return {
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "in_reply_to_status_id_str": parent,
        "created_at": "Mon Jan 01 10:00:00 +0000 2018",
        "user": {"screen_name": user},
    }


def reddit_source(post_id: str, title: str, selftext: str = "") -> dict[str, Any]:
    child = {"kind": "t3", "data": {"id": post_id, "title": title, "selftext": selftext, "author": "op_user"}}
    return {"kind": "Listing", "data": {"children": [child]}}


def reddit_reply(post_id: str, body: str, parent: str, author: str = "replier") -> dict[str, Any]:
    return {"kind": "t1", "data": {"id": post_id, "body": body, "parent_id": parent, "author": author}}


def reddit_more(post_id: str, parent: str) -> dict[str, Any]:
    return {"kind": "more", "data": {"id": post_id, "parent_id": parent, "count": 1, "children": [post_id]}}


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def write_thread(folder: Path, source: dict, replies: dict[str, dict], structure: dict) -> None:
    write_json(folder / "source-tweet" / f"{folder.name}.json", source)
    for reply_id, data in replies.items():
        write_json(folder / "replies" / f"{reply_id}.json", data)
    write_json(folder / "structure.json", structure)


TRAIN_KEY = {
    "100": "support",
    "101": "query",
    "102": "deny",
    "105": "comment",
    "r1": "support",
    "c1": "deny",
    "c2": "comment",
    "c3": "comment",
}
DEV_KEY = {"200": "support", "201": "comment", "202": "query", "r2": "support", "d1": "deny"}


def make_training_release(root: Path) -> Path:
    """Two Twitter threads (train, dev) and two Reddit threads (train, dev) with every quirk we handle."""
    data = root / "rumoureval-2019-training-data"
    # 103 is in the tree without a file; 104 is an extra top-level id without a file whose child 105 has one.
    write_thread(
        data / "twitter-english" / "townfire" / "100",
        tweet("100", "Big fire at the old mill tonight, sources say", user="newsdesk"),
        {
            "101": tweet("101", "Is this confirmed?", parent="100"),
            "102": tweet("102", "No, the mill is fine, I live next door", parent="101"),
            "105": tweet("105", "wow", parent="104"),
        },
        {"100": {"101": {"102": []}, "103": []}, "104": {"105": []}},
    )
    # 202 has a file but is not in structure.json; its own JSON says it replies to 201.
    write_thread(
        data / "twitter-english" / "bridgeclosed" / "200",
        tweet("200", "The north bridge is closed until Friday"),
        {"201": tweet("201", "ugh, again", parent="200"), "202": tweet("202", "Source?", parent="201")},
        {"200": {"201": []}},
    )
    write_thread(
        data / "reddit-training-data" / "r1",
        reddit_source("r1", "Town council to ban bicycles?", "Heard this at the market today."),
        {
            "c1": reddit_reply("c1", "That is not true, read the minutes.", "t3_r1"),
            "c2": reddit_reply("c2", "[deleted]", "t1_c1", author="[deleted]"),
            "c3": reddit_more("c3", "t3_r1"),
        },
        {"r1": {"c1": {"c2": []}, "c3": []}},
    )
    write_thread(
        data / "reddit-dev-data" / "r2",
        reddit_source("r2", "Mayor resigns"),
        {"d1": reddit_reply("d1", "Nope, she was at the fair today", "t3_r2")},
        {"r2": {"d1": []}},
    )
    write_json(data / "train-key.json", {"subtaskaenglish": TRAIN_KEY, "subtaskbenglish": {"100": "false"}})
    write_json(data / "dev-key.json", {"subtaskaenglish": DEV_KEY, "subtaskbenglish": {}})
    return root


TEST_KEY = {"300": "support", "301": "deny", "r3": "support", "e1": "query", "e2": "comment", "e3": "deny"}


def make_test_release(root: Path) -> Path:
    """The official test release as its organisers lay it out (invented texts).

    ``rumoureval-2019-test-data/`` holds ``twitter-en-test-data/<event>/<thread>/`` and
    ``reddit-test-data/<thread>/`` (each Reddit thread also with the crawl's ``raw.json``, not read);
    the key ``final-eval-key.json`` lies beside that folder. The Reddit tree marks three branches the
    crawl cut off with the placeholder ``"_": []``, twice in one object's children's subtrees and once
    at the top level, as the release does.
    """
    data = root / "rumoureval-2019-test-data"
    write_thread(
        data / "twitter-en-test-data" / "parkflood" / "300",
        tweet("300", "The park is flooded"),
        {"301": tweet("301", "It is dry, I just walked there", parent="300")},
        {"300": {"301": []}},
    )
    reddit = data / "reddit-test-data" / "r3"
    write_thread(
        reddit,
        reddit_source("r3", "New stadium approved", "Vote was 7-2."),
        {
            "e1": reddit_reply("e1", "Which vote?", "t3_r3"),
            "e2": reddit_reply("e2", "The council one", "t1_e1"),
            "e3": reddit_reply("e3", "There was no vote", "t3_r3"),
        },
        {"r3": {"e1": {"e2": {"_": []}, "_": []}, "e3": []}, "_": []},
    )
    write_json(reddit / "raw.json", [{"kind": "Listing", "data": {"children": []}}])
    write_json(root / "final-eval-key.json", {"subtaskaenglish": TEST_KEY, "subtaskbenglish": {"300": "false"}})
    return root


@pytest.fixture()
def training(tmp_path: Path) -> Path:
    return make_training_release(tmp_path / "re")


def by_id(threads: list[Thread]) -> dict[str, Thread]:
    return {t.id: t for t in threads}


def labelled(threads: list[Thread]) -> dict[str, str]:
    return {m.id: m.stance.label for t in threads for m in t.messages() if m.stance}


# -- training release -------------------------------------------------------------------------


def test_every_keyed_post_is_read_with_its_label_in_its_split(training: Path) -> None:
    train, dev = list(read_rumoureval(training, split="train")), list(read_rumoureval(training, split="dev"))
    assert sorted(t.id for t in train) == ["100", "r1"]
    assert sorted(t.id for t in dev) == ["200", "r2"]
    assert labelled(train) == TRAIN_KEY
    assert labelled(dev) == DEV_KEY
    assert key_labels(training, "train") == TRAIN_KEY
    assert key_labels(training, "dev") == DEV_KEY
    assert key_labels(training) == {**TRAIN_KEY, **DEV_KEY}
    assert sorted(t.id for t in read_rumoureval(training)) == ["100", "200", "r1", "r2"]
    assert list(read_rumoureval(training, split="test")) == []


def test_source_post_carries_its_label_and_thread_meta(training: Path) -> None:
    threads = by_id(list(read_rumoureval(training)))
    fire = threads["100"]
    assert fire.post.text == "Big fire at the old mill tonight, sources say"
    assert fire.post.author == "newsdesk"
    assert fire.post.stance is not None and fire.post.stance.label == "support"
    assert fire.meta == {
        "corpus": "rumoureval2019",
        "platform": "twitter",
        "event": "townfire",
        "split": "train",
        "veracity": "false",
        "truncated_branches": 0,
    }
    assert threads["r2"].meta["platform"] == "reddit" and threads["r2"].meta["event"] is None
    assert threads["r2"].meta["split"] == "dev"


def test_reply_tree_follows_structure_and_keeps_missing_posts(training: Path) -> None:
    fire = by_id(list(read_rumoureval(training)))["100"]
    comments = {c.id: c for c in fire.comments}
    assert [c.id for c in fire.comments] == ["101", "102", "103", "104", "105"]  # depth-first, source's tree first
    assert {i: c.reply_to for i, c in comments.items()} == {
        "101": "100",
        "102": "101",
        "103": "100",
        "104": "100",
        "105": "104",
    }
    assert fire.depth(comments["102"]) == 2
    # In the tree without a file: empty text, no label, flagged.
    assert comments["103"].text == "" and comments["103"].stance is None
    assert comments["103"].meta["text_missing"] == "no reply file"
    # Extra top-level id: its parent is unknown, it hangs under the source.
    assert comments["104"].meta == {"text_missing": "no reply file", "parent_unknown": True}
    assert comments["105"].text == "wow" and comments["105"].stance.label == "comment"


def test_reply_file_missing_from_structure_is_attached_by_its_own_parent(training: Path, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="argmine.readers.rumoureval"):
        bridge = by_id(list(read_rumoureval(training, split="dev")))["200"]
    assert "1 reply files are not in structure.json" in caplog.text
    extra = bridge.comments[-1]
    assert (extra.id, extra.reply_to, extra.text, extra.stance.label) == ("202", "201", "Source?", "query")
    assert extra.meta["not_in_structure"] is True and "parent_unknown" not in extra.meta


def test_reddit_texts_deleted_posts_and_more_stubs(training: Path) -> None:
    r1 = by_id(list(read_rumoureval(training)))["r1"]
    assert r1.post.text == "Town council to ban bicycles?\n\nHeard this at the market today."
    assert r1.post.meta["title"] == "Town council to ban bicycles?"
    assert r1.post.author == "op_user"
    comments = {c.id: c for c in r1.comments}
    assert comments["c1"].text == "That is not true, read the minutes." and comments["c1"].reply_to == "r1"
    assert comments["c2"].reply_to == "c1"
    assert comments["c2"].text == "[deleted]" and comments["c2"].meta["deleted"] is True
    assert comments["c2"].stance.label == "comment"
    assert comments["c3"].text == "" and comments["c3"].meta["text_missing"] == "reddit 'more' stub"
    assert comments["c3"].stance.label == "comment"
    r2 = by_id(list(read_rumoureval(training)))["r2"]
    assert r2.post.text == "Mayor resigns"  # no self-text: the title alone


def test_keyed_post_absent_from_every_thread_is_reported(training: Path, caplog) -> None:
    key = training / "rumoureval-2019-training-data" / "dev-key.json"
    write_json(key, {"subtaskaenglish": {**DEV_KEY, "999": "deny"}})
    with caplog.at_level(logging.WARNING, logger="argmine.readers.rumoureval"):
        list(read_rumoureval(training, split="dev"))
    assert "1 keyed posts of split 'dev' are in no thread read (first: 999)" in caplog.text


def test_thread_labelled_by_both_keys_is_an_error(training: Path) -> None:
    key = training / "rumoureval-2019-training-data" / "dev-key.json"
    write_json(key, {"subtaskaenglish": {**DEV_KEY, "103": "deny"}})
    with pytest.raises(CorpusFormatError, match="several keys: dev, train"):
        list(read_rumoureval(training))


# -- test release -----------------------------------------------------------------------------


def test_official_test_layout(tmp_path: Path) -> None:
    root = make_test_release(tmp_path / "re")
    threads = by_id(list(read_rumoureval(root, split="test")))
    assert sorted(threads) == ["300", "r3"]
    assert labelled(list(threads.values())) == TEST_KEY
    assert threads["300"].meta["event"] == "parkflood" and threads["300"].meta["split"] == "test"
    assert threads["r3"].post.text == "New stadium approved\n\nVote was 7-2."
    assert threads["r3"].meta["split"] == "test" and threads["r3"].meta["event"] is None
    assert sorted(t.id for t in read_rumoureval(root)) == ["300", "r3"]
    assert key_labels(root, "test") == TEST_KEY
    assert list(read_rumoureval(root, split="train")) == []
    with pytest.raises(CorpusFormatError, match="no key file for split 'train'"):
        key_labels(root, "train")


def test_truncated_branch_placeholders_are_no_replies_and_are_counted(tmp_path: Path, capsys) -> None:
    """Several ``"_": []`` in one tree (the test release) read as cut-off branches, not as a post ``_``."""
    root = make_test_release(tmp_path / "re")
    r3 = by_id(list(read_rumoureval(root, split="test")))["r3"]
    assert [(c.id, c.reply_to) for c in r3.comments] == [("e1", "r3"), ("e2", "e1"), ("e3", "r3")]
    assert r3.meta["truncated_branches"] == 3
    flags = ("text_missing", "parent_unknown", "not_in_structure")
    assert not [c.id for c in r3.comments if any(flag in c.meta for flag in flags)]  # nothing missing or misplaced
    assert by_id(list(read_rumoureval(root)))["300"].meta["truncated_branches"] == 0

    from argmine.cli import main

    assert main(["stats", "--format", "rumoureval", str(root), "--split", "test", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["comments"], stats["truncated_branches"]) == (4, 3)
    assert main(["stats", "--format", "rumoureval", str(root)]) == 0
    assert "truncated branches 3" in capsys.readouterr().out
    assert main(["convert", "--format", "rumoureval", str(root), str(tmp_path / "test.jsonl")]) == 0
    assert [t.meta["truncated_branches"] for t in read_jsonl(tmp_path / "test.jsonl")] == [0, 3]


def test_a_placeholder_with_replies_is_an_error(tmp_path: Path) -> None:
    root = make_test_release(tmp_path / "re")
    path = root / "rumoureval-2019-test-data" / "reddit-test-data" / "r3" / "structure.json"
    write_json(path, {"r3": {"e1": {"_": {"e2": []}}}})
    with pytest.raises(CorpusFormatError, match=r"\$\.r3\.e1\._: the placeholder '_' .* must map to \[\]") as error:
        list(read_rumoureval(root))
    assert error.value.source == str(path)


def test_both_releases_side_by_side(tmp_path: Path) -> None:
    root = make_test_release(make_training_release(tmp_path / "re"))
    assert sorted(t.id for t in read_rumoureval(root)) == ["100", "200", "300", "r1", "r2", "r3"]
    assert sorted(t.id for t in read_rumoureval(root, split="test")) == ["300", "r3"]
    assert sorted(t.id for t in read_rumoureval(root, split="train")) == ["100", "r1"]
    assert key_labels(root) == {**TRAIN_KEY, **DEV_KEY, **TEST_KEY}


def test_test_release_without_its_key_is_read_unlabelled(tmp_path: Path, caplog) -> None:
    root = make_test_release(tmp_path / "re")
    (root / "final-eval-key.json").unlink()
    with caplog.at_level(logging.WARNING, logger="argmine.readers.rumoureval"):
        threads = list(read_rumoureval(root, split="test"))
    assert "final-eval-key.json is missing" in caplog.text
    assert len(threads) == 2 and labelled(threads) == {}


# -- bad input --------------------------------------------------------------------------------


def test_malformed_structure_json_names_the_file_and_line(training: Path) -> None:
    path = training / "rumoureval-2019-training-data" / "twitter-english" / "townfire" / "100" / "structure.json"
    path.write_text('{"100": {\n  "101": [],\n  "102" []\n}}', encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="malformed JSON") as error:
        list(read_rumoureval(training))
    assert error.value.source == str(path) and error.value.line == 3


@pytest.mark.parametrize(
    ("structure", "message"),
    [
        ({"999": {}}, "include the source id 100"),
        ({"100": {"101": ["102"]}}, "non-empty list"),
        ({"100": {"101": "102"}}, "got str"),
        ({"100": {"101": {"101": []}}}, "appears twice"),
    ],
)
def test_bad_structure_is_an_error_naming_the_file(training: Path, structure: Any, message: str) -> None:
    path = training / "rumoureval-2019-training-data" / "twitter-english" / "townfire" / "100" / "structure.json"
    write_json(path, structure)
    with pytest.raises(CorpusFormatError, match=message) as error:
        list(read_rumoureval(training))
    assert error.value.source == str(path)


def test_malformed_reply_and_key_files_are_errors_naming_the_file(training: Path) -> None:
    data = training / "rumoureval-2019-training-data"
    reply = data / "reddit-training-data" / "r1" / "replies" / "c1.json"
    write_json(reply, {"kind": "t1", "data": {"id": "c1", "parent_id": "t3_r1"}})
    with pytest.raises(CorpusFormatError, match="data.body") as error:
        list(read_rumoureval(training))
    assert error.value.source == str(reply)
    write_json(reply, reddit_reply("c9", "text", "t3_r1"))
    with pytest.raises(CorpusFormatError, match="differs from its file name"):
        list(read_rumoureval(training))

    write_json(data / "train-key.json", {"subtaskaenglish": {"100": "agree"}})
    with pytest.raises(CorpusFormatError, match="label 'agree'"):
        next(read_rumoureval(training, split="train"))
    (data / "train-key.json").write_text('{"subtaskaenglish": {', encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="malformed JSON") as error:
        key_labels(training, "train")
    assert error.value.source == str(data / "train-key.json")


def test_reply_cycle_outside_structure_is_an_invalid_thread(training: Path) -> None:
    folder = training / "rumoureval-2019-training-data" / "twitter-english" / "bridgeclosed" / "200"
    write_json(folder / "replies" / "202.json", tweet("202", "a", parent="203"))
    write_json(folder / "replies" / "203.json", tweet("203", "b", parent="202"))
    with pytest.raises(InvalidThreadError, match="cycle") as error:
        list(read_rumoureval(training, split="dev"))
    assert error.value.source == str(folder / "structure.json")


def test_layout_and_arguments_are_checked_at_call_time(tmp_path: Path, training: Path) -> None:
    with pytest.raises(CorpusFormatError, match="give the folder that holds it"):
        read_rumoureval(tmp_path / "re" / "rumoureval-2019-training-data")
    with pytest.raises(CorpusFormatError, match="no such folder"):
        read_rumoureval(tmp_path / "nowhere")
    with pytest.raises(InputError, match="split"):
        read_rumoureval(training, split="validation")
    (training / "rumoureval-2019-training-data" / "dev-key.json").unlink()
    with pytest.raises(CorpusFormatError, match="missing key file"):
        read_rumoureval(training)


def test_jsonl_round_trip(tmp_path: Path) -> None:
    root = make_test_release(make_training_release(tmp_path / "re"))
    threads = list(read_rumoureval(root))
    out = tmp_path / "re.jsonl"
    write_jsonl(threads, out)
    back = list(read_jsonl(out))
    assert back == threads
    assert [t.to_dict() for t in back] == [t.to_dict() for t in threads]
