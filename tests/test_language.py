"""Honest scores in ``argmine mine``: the not_english flag (argmine.language) and --min-stance-score (abstention).

Detector tests on short texts we wrote ourselves in several languages; the same flag through the tiny
pipeline of tests/tiny_models.py, in the JSON and in the text / Markdown / HTML views; the JSON of each
message stays exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_models import TEXTS, build_pipeline_parts, mine_cli

from argmine.language import MIN_CHARS, clean, detect_language, language_meta
from argmine.cli.mine import mark_unsure
from argmine.pipeline import ArgumentMiner
from argmine.readers.text import read_text_page
from argmine.rendering import UNSURE_KEY, is_unsure, to_html, to_markdown, to_text_summary
from argmine.thread import Comment, Post, Stance, Thread, make_component

ENGLISH = [
    "I completely disagree with you about the treaty.",
    "Great post, thanks for sharing this with us!",
    "Not sure I follow. What do you mean by legitimacy?",
    "The sanctions never worked and never will, imo.",
    "Who cares about the flag over the table?",
    "nah mate, that's just propaganda tbh",
    "@someone @another totally agree, see https://example.com/x #peace",
    "THIS IS THE BEST THING I HAVE READ ALL WEEK",
]
OTHER = [
    ("pt", "Não concordo, isso é pura propaganda do governo."),
    ("es", "No estoy de acuerdo, la paz siempre es mejor que la guerra."),
    ("fr", "Je ne suis pas d'accord avec cette analyse du conflit."),
    ("de", "Das ist völliger Unsinn, der Vertrag ist ein Erfolg."),
    ("it", "Grazie per l'articolo, molto interessante davvero."),
    ("ru", "Я полностью не согласен с автором этой статьи."),
    ("pl", "Nie zgadzam się z tym, to jest propaganda."),
]


# -- the detector -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ENGLISH)
def test_english_comments_are_not_flagged(text: str) -> None:
    meta = language_meta(text)
    assert meta["language"]["code"] == "en" and "not_english" not in meta


@pytest.mark.parametrize(("code", "text"), OTHER)
def test_other_languages_are_flagged_with_their_code(code: str, text: str) -> None:
    meta = language_meta(text)
    assert meta["not_english"] is True
    assert meta["language"]["code"] == code and meta["language"]["english"] < 0.05
    assert set(meta["language"]) == {"code", "score", "english"}


def test_short_texts_get_a_guess_but_never_the_flag() -> None:
    for text in ("Danke schön!", "Merci beaucoup", "Obrigado"):
        assert len(clean(text)) < MIN_CHARS
        meta = language_meta(text)
        assert "language" in meta and "not_english" not in meta


def test_noise_is_not_read_and_texts_without_words_get_nothing() -> None:
    assert clean("@bob #tag see https://t.co/x1 &gt; 2024 now") == "see now"
    assert clean("STOP SHOUTING PLEASE") == "stop shouting please"
    assert language_meta("") == {} and language_meta("   ") == {}
    assert language_meta("@bob https://t.co/abc 123") == {} and detect_language("😂😂") is None


def test_preload_and_callers_share_one_model() -> None:
    from argmine import language

    language.preload()
    first = language._identifier()  # waits for the preload thread when it is still loading
    language.preload()
    assert language._identifier() is first


def test_the_portuguese_comment_of_the_substack_page_is_flagged(substack_page: Path) -> None:
    thread = read_text_page(substack_page, post="A post of our own about peace in the Caucasus.")
    flagged = [c.author for c in thread.comments if language_meta(c.text).get("not_english")]
    assert flagged == [thread.comments[-1].author]  # the last comment is the Portuguese one; the ten others English
    assert language_meta(thread.comments[-1].text)["language"]["code"] == "pt"


# -- through the pipeline -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("language")
    _, segmenter, stance = build_pipeline_parts(folder)
    return ArgumentMiner.from_parts(segmenter, stance).save_pretrained(folder / "pipeline")


@pytest.fixture(scope="module")
def miner(checkpoint: Path) -> ArgumentMiner:
    return ArgumentMiner.from_pretrained(checkpoint, precision="float32")


PORTUGUESE = "Não concordo, isso é pura propaganda do governo."


def mixed_thread() -> Thread:
    return Thread(
        id="t",
        post=Post(id="p", author="op", text=TEXTS[0], meta={"kept": 1}),
        comments=[
            Comment(id="en", author="ann", reply_to="p", text=TEXTS[1]),
            Comment(id="pt", author="bea", reply_to="p", text=PORTUGUESE, meta={"source": "ours"}),
            Comment(id="short", author="cy", reply_to="pt", text="Obrigado"),
            Comment(id="empty", author="di", reply_to="p", text=""),
        ],
    )


@pytest.mark.usefixtures("one_torch_thread")
def test_mined_messages_carry_their_language_and_the_flag(miner: ArgumentMiner) -> None:
    thread = mixed_thread()
    mined = miner.mine(thread)
    by_id = {c.id: c for c in mined.comments}
    assert by_id["pt"].meta["not_english"] is True and by_id["pt"].meta["language"]["code"] == "pt"
    assert by_id["pt"].meta["source"] == "ours"  # the input's meta is kept
    assert "not_english" not in by_id["short"].meta and "language" in by_id["short"].meta
    assert "not_english" not in by_id["en"].meta
    assert "language" not in by_id["empty"].meta
    assert "language" in mined.post.meta and mined.post.meta["kept"] == 1
    assert thread.comments[1].meta == {"source": "ours"}  # the input is not changed
    # Mined again (its own output as input): the same language, no stale flag, nothing doubled.
    again = miner.mine(mined)
    assert [dict(c.meta) for c in again.comments] == [dict(c.meta) for c in mined.comments]


@pytest.mark.usefixtures("one_torch_thread")
def test_a_language_the_input_gave_is_kept(miner: ArgumentMiner) -> None:
    thread = mixed_thread()
    given = Comment(id="pt", author="bea", reply_to="p", text=PORTUGUESE, meta={"language": "Portuguese"})
    mined = miner.mine(Thread(id="t", post=thread.post, comments=[given]))
    meta = mined.comments[0].meta
    assert meta["language"] == "Portuguese" and meta["language_detected"]["code"] == "pt"
    assert meta["not_english"] is True


@pytest.mark.usefixtures("one_torch_thread")
def test_json_keeps_every_message_text_exact(miner: ArgumentMiner, checkpoint: Path, tmp_path: Path,
                                             capsys) -> None:
    tricky = "Não concordo\u202e, isso é\x1b[2J pura propaganda: \"aspas\" <b>e</b> emoji 😂\r\n fim."
    thread = Thread(id="t", post=Post(id="p", author="op", text=TEXTS[0]),
                    comments=[Comment(id="c", author="x", reply_to="p", text=tricky),
                              Comment(id="d", author="y", reply_to="c", text=TEXTS[2])])
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(thread.to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
    code, _, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "--output", str(tmp_path / "out.jsonl"),
                             "--min-stance-score", "0.9"], capsys)
    assert code == 0, err
    (out,) = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert out["post"]["text"] == TEXTS[0]
    assert [c["text"] for c in out["comments"]] == [tricky, TEXTS[2]]
    assert out["comments"][0]["meta"]["not_english"] is True
    for comment in out["comments"]:  # label and score kept, the threshold said beside them
        stance = comment["stance"]
        assert stance["label"] in ("support", "attack", "none") and 0 < stance["score"] <= 1
        assert (stance.get(UNSURE_KEY) == 0.9) == (stance["score"] < 0.9)
    assert out["meta"]["mined"]["min_stance_score"] == 0.9


# -- abstention: --min-stance-score -------------------------------------------------------------


def scored_thread() -> Thread:
    text = "We should build more bike lanes."
    claim = make_component(text, 0, 31, "Claim", "c1.c1", score=0.9, stance=Stance("attack", 0.31))
    return Thread(
        id="t",
        post=Post(id="p", author="op", text="The town needs more parks."),
        comments=[
            Comment(id="c1", author="ann", reply_to="p", text=text, stance=Stance("support", 0.42),
                    components=[claim]),
            Comment(id="c2", author="bo", reply_to="p", text="I agree, parks are good.",
                    stance=Stance("support", 0.87)),
            Comment(id="c3", author="cy", reply_to="p", text="No score here.", stance=Stance("none")),
            Comment(id="c4", author="di", reply_to="p", text=PORTUGUESE, stance=Stance("attack", 0.66),
                    meta={"language": {"code": "pt", "score": 0.98, "english": 0.0}, "not_english": True}),
        ],
        meta={"mined": {"stance": "predicted"}},
    )


def test_mark_unsure_keeps_label_and_score_and_says_the_threshold() -> None:
    thread = scored_thread()
    marked = mark_unsure(thread, 0.5)
    c1, c2, c3, c4 = marked.comments
    assert (c1.stance.label, c1.stance.score, c1.stance.extra) == ("support", 0.42, {UNSURE_KEY: 0.5})
    assert c1.components[0].stance.extra == {UNSURE_KEY: 0.5}
    assert not is_unsure(c2.stance) and not is_unsure(c3.stance) and not is_unsure(c4.stance)
    assert c1.to_dict()["stance"] == {"label": "support", "score": 0.42, UNSURE_KEY: 0.5}
    assert marked.meta["mined"] == {"stance": "predicted", "min_stance_score": 0.5}
    assert thread.comments[0].stance.extra == {}  # the input is not changed
    assert not is_unsure(mark_unsure(marked, 0.4).comments[0].stance)  # a lower threshold: judged again


def test_views_show_unsure_with_the_score_and_every_stance_scored() -> None:
    marked = mark_unsure(scored_thread(), 0.5)
    text = to_text_summary(marked)
    assert "[c1]: unsure (support 0.42)" in text and "(0.90; unsure (attack 0.31))" in text
    assert "[c2]: support 0.87" in text and "[c3]: none" in text
    assert "comment stance: 1 attack, 1 none, 1 support, 1 unsure" in text
    markdown = to_markdown(marked)
    assert "**unsure (support 0.42)**" in markdown
    page = to_html(marked)
    assert '<span class="badge unsure" title="score below --min-stance-score 0.5">unsure (support 0.42)</span>' in page
    assert '<span class="tag unsure">unsure (attack 0.31)</span>' in page
    assert "support 0.87" in page and "attack 0.66" in page
    # Off by default: the same thread unmarked shows the plain label and score.
    plain = to_text_summary(scored_thread())
    assert "[c1]: support 0.42" in plain and "unsure" not in plain


def test_views_flag_a_comment_that_is_not_english() -> None:
    thread = scored_thread()
    assert "[c4]: attack 0.66 [pt?]" in to_text_summary(thread)
    assert "[c2]: support 0.87\n" in to_text_summary(thread)  # English: no flag
    assert "**attack 0.66** \\[pt?\\]" in to_markdown(thread)
    page = to_html(thread)
    assert page.count('title="not English: stance may be unreliable">not English (pt)</span>') == 1


def test_a_hostile_language_code_is_shown_escaped_and_short() -> None:
    thread = scored_thread()
    evil = Comment(id="c5", author="ev", reply_to="p", text="x", stance=Stance("none", 0.5),
                   meta={"language": {"code": "<script>alert(1)</script>"}, "not_english": True})
    page = to_html(Thread(id="t", post=thread.post, comments=[evil]))
    assert "<script>alert" not in page and "not English (&lt;script&gt;aler)" in page


@pytest.mark.parametrize("value", ["-0.1", "1.5", "nan"])
def test_a_threshold_outside_0_1_is_one_line_exit_2(value: str, checkpoint: Path, tmp_path: Path, capsys) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(mixed_thread().to_dict()) + "\n", encoding="utf-8")
    code, _, err = mine_cli([str(source), "--checkpoint", str(checkpoint), "--min-stance-score", value], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "--min-stance-score must lie between 0 and 1" in lines[0]
