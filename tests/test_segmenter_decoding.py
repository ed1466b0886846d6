"""The segmenter's decoding rules (argmine.segmenter.decoding) on hand-built probabilities; no real encoder."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from tiny_models import build_encoder, build_segmenter

from argmine.checkpoint import META_FILE
from argmine.errors import CheckpointError
from argmine.segmenter.decoding import (
    DEFAULT,
    LEGACY,
    DecodingSettings,
    crosses_line_break,
    decode_words,
    decoding_settings,
    only_stop_words,
    tag_sequence,
    trim_trailing_connective,
    well_formed_spans,
    word_chars,
)
from argmine.segmenter.encoding import TokenizedText, bio_tags, repair_bio, tags_to_components, viterbi_bio
from argmine.segmenter.model import Segmenter

TAGS = bio_tags(["Claim", "Premise"])  # O B-Claim I-Claim B-Premise I-Premise
O, BC, IC, BP, IP = range(5)
ALL = DEFAULT


def words_of(text: str) -> list[tuple[int, int]]:
    """Words as a BERT pre-tokenizer makes them: runs of word characters, and each punctuation mark alone."""
    return [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]


def one_hot(tag_ids: list[int], width: int = len(TAGS), confidence: float = 0.9) -> np.ndarray:
    probs = np.full((len(tag_ids), width), (1 - confidence) / (width - 1), dtype=np.float32)
    probs[np.arange(len(tag_ids)), tag_ids] = confidence
    return probs


def tagged(text: str, tag_of_word: list[int], settings: DecodingSettings = ALL) -> list[tuple[str, str]]:
    """(label, text) of the components decoded from one confident tag per word."""
    words = words_of(text)
    assert len(words) == len(tag_of_word), [text[a:b] for a, b in words]
    return [(c.label, c.text) for c in decode_words(text, words, one_hot(tag_of_word), TAGS, settings)]


def valid_iob2(tag_ids: list[int]) -> bool:
    previous = "O"
    for tag_id in tag_ids:
        tag = TAGS[tag_id]
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            return False
        previous = tag
    return True


# -- constrained decoding ----------------------------------------------------------------------------


@pytest.mark.parametrize("viterbi", [True, False])
def test_decoded_tags_are_valid_iob2_never_an_inside_after_outside(viterbi):
    rng = np.random.default_rng(0)
    settings = DecodingSettings(viterbi=viterbi)
    for _ in range(200):
        probs = rng.dirichlet(np.ones(len(TAGS)) * 0.3, size=int(rng.integers(1, 30))).astype(np.float32)
        path = tag_sequence(probs, TAGS, settings)
        assert valid_iob2(path)
        assert all(not (TAGS[a] == "O" and TAGS[b].startswith("I-")) for a, b in zip(path, path[1:]))
        assert not TAGS[path[0]].startswith("I-")


def test_viterbi_prefers_a_valid_path_over_argmax_and_repair():
    # argmax reads O I-Claim I-Claim, which repair turns into a span starting at word 1;
    # Viterbi weighs the whole path: B-Claim at word 0 costs less than O there.
    probs = np.array([[0.45, 0.40, 0.05, 0.05, 0.05], [0.05, 0.05, 0.8, 0.05, 0.05], [0.05, 0.05, 0.8, 0.05, 0.05]])
    assert probs.argmax(axis=1).tolist() == [O, IC, IC]
    assert viterbi_bio(probs, TAGS) == [BC, IC, IC]
    assert repair_bio(probs.argmax(axis=1).tolist(), TAGS) == [O, BC, IC]
    text = "we need parks"
    assert tagged(text, [O, IC, IC], DecodingSettings(viterbi=False)) == [("Claim", "need parks")]


def test_legacy_decodes_exactly_as_before_the_rules():
    """All rules off reproduces encoding.tags_to_components on the same tags: old scores stay reproducible."""
    rng = np.random.default_rng(1)
    text = "We don't agree, so: remote teams work.\n\nBut the office? It is fine — really."
    tok = TokenizedText.from_tokens(text, list(range(len(words_of(text)))), words_of(text),
                                    list(range(len(words_of(text)))))
    for _ in range(50):
        probs = rng.dirichlet(np.ones(len(TAGS)) * 0.3, size=len(tok.words)).astype(np.float32)
        for viterbi in (True, False):
            ids = viterbi_bio(probs, TAGS) if viterbi else repair_bio(probs.argmax(axis=1).tolist(), TAGS)
            old = tags_to_components(tok, ids, TAGS, probs)
            new = decode_words(text, tok.words, probs, TAGS, DecodingSettings(viterbi=viterbi))
            assert [(c.start, c.end, c.label, c.text) for c in new] == [(c.start, c.end, c.label, c.text) for c in old]
            assert [c.score for c in new] == pytest.approx([c.score for c in old])


# -- the span rules ----------------------------------------------------------------------------------


def test_snapping_moves_a_boundary_inside_a_word_out_to_its_edge():
    text = "We don't trust self-driving cars"
    words = [text[a:b] for a, b in words_of(text)]
    assert words == ["We", "don", "'", "t", "trust", "self", "-", "driving", "cars"]
    tags = [BC, IC, O, BP, IP, IP, O, O, O]  # "We don" | "t trust self": both end or start inside a word
    off = DecodingSettings()
    assert tagged(text, tags, off) == [("Claim", "We don"), ("Premise", "t trust self")]
    # "don't" is the claim's (it reached it first), so the premise starts after it
    assert tagged(text, tags, DecodingSettings(snap_words=True)) == [
        ("Claim", "We don't"),
        ("Premise", "trust self-driving"),
    ]


def test_a_span_is_split_at_every_line_break():
    text = "Taxes should rise.\n\nSchools need money.\nRoads too, badly."
    tags = [BC] + [IC] * (len(words_of(text)) - 1)  # one span over all three lines
    assert tagged(text, tags, DecodingSettings()) == [("Claim", text)]
    assert tagged(text, tags, DecodingSettings(split_paragraphs=True)) == [
        ("Claim", "Taxes should rise."),
        ("Claim", "Schools need money."),
        ("Claim", "Roads too, badly."),
    ]
    assert all(not crosses_line_break(t) for _, t in tagged(text, tags))


def test_trimming_drops_separators_at_the_edges_but_keeps_a_final_full_stop():
    text = "Offices waste time , remote teams work better ; they said."
    tags = [BC, IC, IC, BP, IP, IP, IP, IP, IP, BC, IC, IC]
    assert tagged(text, tags, DecodingSettings()) == [
        ("Claim", "Offices waste time"), ("Premise", ", remote teams work better ;"), ("Claim", "they said."),
    ]
    assert tagged(text, tags, DecodingSettings(trim_punctuation=True)) == [
        ("Claim", "Offices waste time"), ("Premise", "remote teams work better"), ("Claim", "they said."),
    ]
    # a closing curly quote cannot start an argument, nor an opening one end it; a closing one may end it
    curly = "” taxes are theft “ and “ fees are fine ”"
    tags = [BC, IC, IC, IC, IC, O, BP, IP, IP, IP, IP]
    assert tagged(curly, tags, DecodingSettings(trim_punctuation=True)) == [
        ("Claim", "taxes are theft"), ("Premise", "“ fees are fine ”"),
    ]


def test_a_span_over_two_sentences_is_cut_at_the_sentence_end_not_at_an_inner_full_stop():
    text = "Taxes fell. Rents rose in 3.5 years ! “ So what .” he said"
    tags = [BC] + [IC] * 17
    rule = DecodingSettings(split_sentences=True)
    assert tagged(text, tags, DecodingSettings()) == [("Claim", text)]
    assert tagged(text, tags, rule) == [("Claim", "Taxes fell."), ("Claim", "Rents rose in 3.5 years !"),
                                        ("Claim", "“ So what .” he said")]


def test_a_trailing_connective_after_a_comma_is_cut_but_content_words_stay():
    text = "Religion shapes it , and culture follows , but slowly"
    tags = [BC, IC, IC, IC, IC, BP, IP, IP, IP, IP]  # "... it , and" | "culture follows , but slowly"
    rule = DecodingSettings(trim_punctuation=True, trim_connectives=True)
    assert tagged(text, tags, DecodingSettings(trim_punctuation=True)) == [
        ("Claim", "Religion shapes it , and"), ("Premise", "culture follows , but slowly"),
    ]
    assert tagged(text, tags, rule) == [("Claim", "Religion shapes it"), ("Premise", "culture follows , but slowly")]
    # only function words after the separator, and never the whole span
    assert trim_trailing_connective(", and", 0, 5) == (0, 5)
    assert trim_trailing_connective("taxes , so that", 0, 15) == (0, 5)


def test_fragments_are_dropped_by_word_characters_and_by_stop_words():
    text = "But I think so . And taxes fall"
    tags = [BC, BP, BC, IC, BP, BP, IP, IP]  # "But" | "I" | "think so" | "." | "And taxes fall"
    min3 = DecodingSettings(min_word_chars=3)
    assert tagged(text, tags, DecodingSettings()) == [
        ("Claim", "But"), ("Premise", "I"), ("Claim", "think so"), ("Premise", "."), ("Premise", "And taxes fall"),
    ]
    assert tagged(text, tags, min3) == [("Claim", "But"), ("Claim", "think so"), ("Premise", "And taxes fall")]
    assert tagged(text, tags, DecodingSettings(drop_stopword_only=True)) == [
        ("Claim", "think so"), ("Premise", "And taxes fall"),
    ]
    assert word_chars("Yet,") == 3 and word_chars("”") == 0
    assert only_stop_words("But it") and only_stop_words("”") and only_stop_words("It’s")
    assert not only_stop_words("But taxes")


def test_the_brief_example_with_every_default_rule():
    text = "One Claim swallowed it, remote teams are cheaper.\n\nYet, they fail"
    assert tagged(text, [BC] + [IC] * 13) == [
        ("Claim", "One Claim swallowed it, remote teams are cheaper."), ("Claim", "Yet, they fail"),
    ]
    # the claim starts at the comma; "Yet" alone is a fragment, the premise after it starts at "they"
    assert tagged(text, [O, O, O, O, BC, IC, IC, IC, IC, IC, BP, BP, IP, IP]) == [
        ("Claim", "remote teams are cheaper."), ("Premise", "they fail"),
    ]


def test_every_component_text_equals_its_slice_and_spans_are_disjoint_and_well_formed():
    rng = np.random.default_rng(2)
    pieces = ["We", "don't", ",", "remote", "teams", "—", "self-driving", "But", "I", ".", "”", "\n", "\n\n", "é"]
    for _ in range(300):
        text = " ".join(rng.choice(pieces, size=int(rng.integers(1, 25))))
        words = words_of(text)
        probs = rng.dirichlet(np.ones(len(TAGS)) * 0.3, size=len(words)).astype(np.float32)
        labelled = replace(DEFAULT, label_by_span=False)
        for settings in (LEGACY, DEFAULT, labelled, DecodingSettings(viterbi=False, snap_words=True, trim_punctuation=True)):
            found = decode_words(text, words, probs, TAGS, settings)
            for component in found:
                assert text[component.start : component.end] == component.text != ""
                assert component.text == component.text.strip()
                assert 0.0 <= component.score <= 1.0
            assert all(a.end <= b.start for a, b in zip(found, found[1:]))
            if settings in (DEFAULT, labelled):
                for c in found:
                    assert word_chars(c.text) >= 3 and not crosses_line_break(c.text)
                    assert not only_stop_words(c.text)
                    # never starts or ends inside a written word
                    assert not (c.start > 0 and re.match(r"\w", text[c.start - 1]) and re.match(r"\w", text[c.start]))
                    assert not (c.end < len(text) and re.match(r"\w", text[c.end - 1]) and re.match(r"\w", text[c.end]))


def test_label_by_span_finds_the_span_label_free_then_labels_it_by_its_words_mean():
    text = "remote teams"
    words = words_of(text)
    # Both words are most likely inside a component (0.60, 0.68), but no labelled path beats O O: the label wavers.
    probs = np.array([
        [0.40, 0.30, 0.00, 0.30, 0.00],
        [0.32, 0.00, 0.30, 0.00, 0.38],
    ], dtype=np.float32)
    assert DEFAULT.label_by_span
    assert decode_words(text, words, probs, TAGS, replace(DEFAULT, label_by_span=False)) == []
    by_span = decode_words(text, words, probs, TAGS, DEFAULT)
    assert [(c.label, c.text) for c in by_span] == [("Premise", text)]
    # Premise's mean inside-probability over the two words, (0.30 + 0.38) / 2, is its score (Claim's: 0.30)
    assert by_span[0].score == pytest.approx(0.34, abs=1e-6)
    # one label: the same spans as labelled decoding, whatever the probabilities
    rng = np.random.default_rng(5)
    one = bio_tags(["Claim"])
    for _ in range(50):
        probs = rng.dirichlet(np.ones(3) * 0.4, size=len(words)).astype(np.float32)
        assert decode_words(text, words, probs, one, DEFAULT) == decode_words(
            text, words, probs, one, replace(DEFAULT, label_by_span=False)
        )


def test_spans_of_no_word_and_empty_texts():
    assert decode_words("", [], np.zeros((0, len(TAGS)), np.float32), TAGS, DEFAULT) == []
    assert well_formed_spans("a\n\nb", [(0, 4, "Claim")], DecodingSettings(split_paragraphs=True)) == [
        (0, 1, "Claim"), (3, 4, "Claim"),
    ]
    with pytest.raises(ValueError, match="2 probability rows for 1 words"):
        decode_words("a", [(0, 1)], one_hot([O, O]), TAGS)


# -- settings.decoding ---------------------------------------------------------------------------------


def test_settings_forms_and_their_errors():
    assert decoding_settings(None) == LEGACY == DecodingSettings()  # no key: as before the rules
    assert decoding_settings("viterbi") == LEGACY
    assert decoding_settings("argmax") == DecodingSettings(viterbi=False)
    assert decoding_settings(DEFAULT.record()) == DEFAULT
    assert decoding_settings({"min_word_chars": 2}) == DecodingSettings(min_word_chars=2)  # the rest: LEGACY's
    assert json.loads(json.dumps(DEFAULT.record())) == DEFAULT.record()
    for bad, message in [
        ("beam", "must be one of viterbi, argmax"),
        ({"snap": True}, "unknown fields \\['snap'\\]"),
        ({"snap_words": 1}, "snap_words must be true or false"),
        ({"min_word_chars": -1}, "min_word_chars must be an integer"),
        ({"min_word_chars": True}, "min_word_chars must be an integer"),
        ([True], "must be an object or a string"),
    ]:
        with pytest.raises(ValueError, match=message):
            decoding_settings(bad)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("decoding")
    return Path(build_segmenter(build_encoder(folder / "encoder")).save_pretrained(folder / "segmenter"))


def rewrite_decoding(folder: Path, target: Path, value: object, *, remove: bool = False) -> Path:
    shutil.copytree(folder, target)
    meta = json.loads((target / META_FILE).read_text(encoding="utf-8"))
    if remove:
        del meta["settings"]["decoding"]
    else:
        meta["settings"]["decoding"] = value
    (target / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    return target


@pytest.mark.usefixtures("one_torch_thread")
def test_new_segmenters_record_the_default_rules(tiny_checkpoint):
    meta = json.loads((tiny_checkpoint / META_FILE).read_text(encoding="utf-8"))
    assert meta["settings"]["decoding"] == DEFAULT.record()
    segmenter = Segmenter.from_pretrained(tiny_checkpoint)
    assert segmenter.decoding == DEFAULT
    assert "decoding: viterbi + split_paragraphs" in segmenter.model_card()


@pytest.mark.usefixtures("one_torch_thread")
def test_an_old_checkpoint_without_settings_decoding_decodes_as_before(tiny_checkpoint, tmp_path):
    old = Segmenter.from_pretrained(rewrite_decoding(tiny_checkpoint, tmp_path / "old", None, remove=True))
    string = Segmenter.from_pretrained(rewrite_decoding(tiny_checkpoint, tmp_path / "string", "viterbi"))
    assert old.decoding == string.decoding == LEGACY  # Viterbi, no span rules
    texts = ["we should build more bike lanes because cycling is cheap and clean .", "it is fair , because parks"]
    pairs = old.word_probabilities(texts)
    expected = [tags_to_components(tok, viterbi_bio(p, old.tags), old.tags, p) for tok, p in pairs]
    assert old.predict(texts) == string.predict(texts) == expected
    assert "decoding: viterbi, no span rules" in old.model_card()


def test_a_bad_settings_decoding_is_a_checkpoint_error(tiny_checkpoint, tmp_path):
    for name, value in [("typo", {"snapwords": True}), ("method", "greedy")]:
        with pytest.raises(CheckpointError, match="settings.decoding"):
            Segmenter.from_pretrained(rewrite_decoding(tiny_checkpoint, tmp_path / name, value))
