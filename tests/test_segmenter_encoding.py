"""The segmenter's pure encode / decode functions, on hand-written cases.

A tiny WordPiece tokenizer is built in-process from a vocabulary written here;
the real encoder is never loaded.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from argmine.segmenter.encoding import (
    IGNORE,
    TokenizedText,
    allowed_transitions,
    bio_tags,
    decode,
    labels_of_tags,
    make_windows,
    merge_windows,
    repair_bio,
    special_tokens,
    tags_to_components,
    tokenize,
    viterbi_bio,
    window_bounds,
    word_aligned,
    word_tags,
)
from argmine.thread import make_component

VOCAB = (  # noqa: SIM905 (a vocabulary reads best as one string)
    "[PAD] [UNK] [CLS] [SEP] [MASK] we should tax it is because not good cafe de ##ja "
    'vu the people pay taxes ##es . , ! “ ” " fair rich more poor than'
).split()
TAGS = bio_tags(["Claim", "Premise"])  # O, B-Claim, I-Claim, B-Premise, I-Premise
O, BC, IC, BP, IP = range(5)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import BertTokenizer

    return BertTokenizer(vocab={word: i for i, word in enumerate(VOCAB)})


def one_hot(rows: list[int], width: int = len(TAGS)) -> np.ndarray:
    out = np.full((len(rows), width), 0.01, dtype=np.float32)
    out[np.arange(len(rows)), rows] = 0.96
    return out


def window_probs_from_labels(windows, default=O) -> list[np.ndarray]:
    """What a perfect model would output: the gold tag on labelled positions."""
    return [one_hot([default if label == IGNORE else label for label in w.labels]) for w in windows]


def spans(components):
    return [(c.start, c.end, c.label, c.text) for c in components]


# -- tags -------------------------------------------------------------------------


def test_bio_tags_order_and_validation():
    assert TAGS == ("O", "B-Claim", "I-Claim", "B-Premise", "I-Premise")
    assert labels_of_tags(TAGS) == ("Claim", "Premise")
    for bad in ([], ["Claim", "Claim"], ["O"], ["B-Claim"], [""]):
        with pytest.raises(ValueError):
            bio_tags(bad)
    with pytest.raises(ValueError):
        labels_of_tags(("O", "I-Claim", "B-Claim"))


def test_special_tokens_of_a_bert_tokenizer(tokenizer):
    assert special_tokens(tokenizer) == ((VOCAB.index("[CLS]"),), (VOCAB.index("[SEP]"),))


# -- exact offsets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, parts",
    [
        # extra spaces, a tab, a newline, upper case (the tokenizer lowercases)
        (
            "  We   SHOULD tax\tit.\n\n  Because  PEOPLE pay  ",
            [("We   SHOULD tax\tit", "Claim"), ("Because  PEOPLE pay", "Premise")],
        ),
        # curly quotes and precomposed accents (the tokenizer strips accents)
        (
            "“Café” is fair, because déjà vu!",
            [("“Café”", "Premise"), ("fair", "Claim"), ("because déjà vu", "Premise")],
        ),
        # decomposed accents: the final combining grave belongs to the span
        ("de\u0301ja\u0300 vu is not fair", [("de\u0301ja\u0300 vu", "Claim"), ("not fair", "Premise")]),
        # a no-break space and an emoji the vocabulary does not know ([UNK])
        ("CAFÉ\u00a0is 🙂 fair", [("CAFÉ\u00a0is 🙂", "Claim")]),
    ],
)
def test_encode_decode_round_trip_gives_exact_offsets(tokenizer, text, parts):
    gold = []
    cursor = 0
    for k, (part, label) in enumerate(parts):
        start = text.index(part, cursor)
        cursor = start + len(part)
        gold.append(make_component(text, start, cursor, label, f"g{k}"))
    tok = tokenize([text], tokenizer)[0]
    assert all(word_aligned(tok, c) for c in gold)
    windows = make_windows(tok, word_tags(tok, gold, TAGS), max_length=64, stride=8, prefix=(2,), suffix=(3,))
    assert len(windows) == 1
    predicted = decode(tok, windows, window_probs_from_labels(windows), TAGS)
    assert spans(predicted) == spans(gold)
    assert [c.id for c in predicted] == [f"c{k}" for k in range(1, len(gold) + 1)]
    assert all(c.score == pytest.approx(0.97) for c in predicted)  # P(B-L) + P(I-L) = 0.96 + 0.01


def test_labels_sit_on_first_subwords_only(tokenizer):
    text = "Riches are fair"  # riches → rich ##es, "are" → [UNK]
    tok = tokenize([text], tokenizer)[0]
    assert [text[a:b] for a, b in tok.words] == ["Riches", "are", "fair"]
    assert tok.word_of_token == (0, 0, 1, 2)
    gold = [make_component(text, 0, 10, "Claim", "c")]
    (window,) = make_windows(tok, word_tags(tok, gold, TAGS), max_length=16, stride=2, prefix=(2,), suffix=(3,))
    assert window.input_ids == (2, VOCAB.index("rich"), VOCAB.index("##es"), 1, VOCAB.index("fair"), 3)
    assert window.labels == (IGNORE, BC, IGNORE, IC, O, IGNORE)


def test_span_inside_a_word_is_widened_to_the_whole_word(tokenizer):
    text = "taxes are fair"
    tok = tokenize([text], tokenizer)[0]
    gold = make_component(text, 2, 9, "Claim", "c")  # "xes are"
    assert not word_aligned(tok, gold)
    assert word_tags(tok, [gold], TAGS) == [BC, IC, O]


def test_word_tags_rejects_what_bio_cannot_hold(tokenizer):
    text = "we should tax it  because"
    tok = tokenize([text], tokenizer)[0]
    with pytest.raises(ValueError, match="Stance"):
        word_tags(tok, [make_component(text, 0, 2, "Stance", "c")], TAGS)
    with pytest.raises(ValueError, match="share the word 'tax'"):
        word_tags(tok, [make_component(text, 0, 13, "Claim", "a"), make_component(text, 10, 16, "Premise", "b")], TAGS)
    with pytest.raises(ValueError, match="covers no token"):
        word_tags(tok, [make_component(text, 16, 17, "Claim", "c")], TAGS)


def test_empty_and_blank_texts_have_no_windows(tokenizer):
    for text in ("", "   \n\t"):
        tok = tokenize([text], tokenizer)[0]
        assert tok.words == ()
        assert make_windows(tok, [], max_length=16, stride=2, prefix=(2,), suffix=(3,)) == []
        assert decode(tok, [], [], TAGS) == []


# -- windows ------------------------------------------------------------------------------


def synthetic(words_tokens: list[int], gap: int = 1) -> TokenizedText:
    """A text of words made of the given numbers of subword tokens, one character per token."""
    offsets, word_ids, text, position = [], [], "", 0
    for word, n in enumerate(words_tokens):
        for _ in range(n):
            offsets.append((position, position + 1))
            word_ids.append(word)
            text += "x"
            position += 1
        text += " " * gap
        position += gap
    return TokenizedText.from_tokens(text, list(range(10, 10 + len(offsets))), offsets, word_ids)


def test_window_bounds_respect_capacity_words_and_overlap():
    tok = synthetic([1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 2, 1, 3, 1])  # 20 tokens
    bounds = window_bounds(tok, capacity=6, stride=2)
    word_starts = set(tok.word_first_token) | {len(tok.input_ids)}
    assert bounds[0][0] == 0 and bounds[-1][1] == len(tok.input_ids)
    for (start, end), (next_start, next_end) in itertools.pairwise(bounds):
        assert start < next_start < end <= next_end  # progress with some overlap
        assert end - next_start <= 2  # at most stride tokens shared
    for start, end in bounds:
        assert 0 < end - start <= 6
        assert start in word_starts and end in word_starts  # no word is cut
    covered = set()
    for start, end in bounds:
        covered |= set(range(start, end))
    assert covered == set(range(len(tok.input_ids)))


def test_window_bounds_cut_a_word_longer_than_a_window():
    tok = synthetic([1, 9, 1])
    bounds = window_bounds(tok, capacity=4, stride=1)
    assert bounds[0] == (0, 1)  # backs off to the boundary before the long word
    assert all(end - start <= 4 for start, end in bounds)
    assert bounds[-1][1] == 11
    with pytest.raises(ValueError):
        window_bounds(tok, capacity=4, stride=4)


def test_long_text_windows_merge_back_to_the_gold_spans(tokenizer):
    sentence = "we should tax the rich more because people pay taxes . "
    text = sentence * 12  # 12 × 11 tokens, far more than one window
    gold = []
    cursor = 0
    for k in range(12):
        start = text.index("we should", cursor)
        claim_end = start + len("we should tax the rich more")
        premise_start = text.index("because", claim_end)
        premise_end = premise_start + len("because people pay taxes")
        gold += [
            make_component(text, start, claim_end, "Claim", f"c{k}"),
            make_component(text, premise_start, premise_end, "Premise", f"p{k}"),
        ]
        cursor = premise_end
    # one long Premise that no single window holds
    long_text = "we should tax . " + "because people pay taxes " * 10 + "."
    long_gold = [
        make_component(long_text, 0, 13, "Claim", "c"),
        make_component(long_text, 16, len(long_text) - 2, "Premise", "p"),
    ]
    for case_text, case_gold in ((text, gold), (long_text, long_gold)):
        tok = tokenize([case_text], tokenizer)[0]
        windows = make_windows(tok, word_tags(tok, case_gold, TAGS), max_length=20, stride=6, prefix=(2,), suffix=(3,))
        assert len(windows) > 3
        assert all(len(w) <= 20 for w in windows)
        assert spans(decode(tok, windows, window_probs_from_labels(windows), TAGS)) == spans(case_gold)


def test_merge_reads_each_word_where_it_has_most_context():
    tok = synthetic([1] * 10)
    windows = make_windows(tok, None, max_length=8, stride=3, prefix=(1,), suffix=(2,))
    assert [(w.token_start, w.token_end) for w in windows] == [(0, 6), (3, 9), (6, 10)]
    # window k says "tag k+1" for every token: the merge shows which window each word was read from
    probs = [one_hot([k + 1] * len(w)) for k, w in enumerate(windows)]
    merged = merge_windows(tok, windows, probs).argmax(axis=1)
    # token 3: 3 from window 0's start (text edge), 2 from its end; 0 from window 1's start → window 0
    # token 4: 1 from window 0's end; 1 from window 1's start → tie → the earlier window
    # token 5: 0 from window 0's end; 2 / 3 in window 1 → window 1
    assert merged.tolist() == [1, 1, 1, 1, 1, 2, 2, 2, 3, 3]
    with pytest.raises(ValueError):
        merge_windows(tok, windows, probs[:2])


# -- BIO repair and constrained decoding ----------------------------------------------------


@pytest.mark.parametrize(
    "tags, repaired",
    [
        ([IC, IC, O], [BC, IC, O]),  # I without B at the start
        ([O, IP, IP], [O, BP, IP]),  # I without B after O
        ([BC, IC, IP, IP], [BC, IC, BP, IP]),  # label switch inside a span: two spans
        ([BC, BC, IC], [BC, BC, IC]),  # B after B: already valid
        ([BP, O, IP], [BP, O, BP]),
        ([], []),
    ],
)
def test_repair_bio(tags, repaired):
    assert repair_bio(tags, TAGS) == repaired


def test_allowed_transitions():
    allowed = allowed_transitions(TAGS)
    assert allowed[BC, IC] and allowed[IC, IC] and allowed[O, BP] and allowed[IP, O]
    assert not allowed[O, IC] and not allowed[IC, IP] and not allowed[BP, IC]


def test_viterbi_finds_the_best_valid_path():
    # word 1 alone would be I-Claim after O (invalid). Valid options: O O (0.5·0.3 = 0.15),
    # B-Claim I-Claim (0.4·0.6 = 0.24), O B-Claim (0.5·0.1): Viterbi keeps B-Claim I-Claim.
    probs = np.array([[0.5, 0.4, 0.0, 0.1, 0.0], [0.3, 0.1, 0.6, 0.0, 0.0]])
    assert viterbi_bio(probs, TAGS) == [BC, IC]
    # when the B is unlikely, the stray I is dropped instead: O O (0.9·0.4) beats B I (0.05·0.6)
    probs = np.array([[0.9, 0.05, 0.0, 0.05, 0.0], [0.4, 0.0, 0.6, 0.0, 0.0]])
    assert viterbi_bio(probs, TAGS) == [O, O]
    # argmax + repair reads the same input as O B-Claim
    assert repair_bio(probs.argmax(axis=1).tolist(), TAGS) == [O, BC]
    # a label switch inside a span (argmax: B-Claim I-Claim I-Premise, invalid). Valid paths:
    # B-Claim I-Claim I-Claim 0.8·0.7·0.45 = 0.252, B-Claim B-Premise I-Premise 0.8·0.3·0.5 = 0.12,
    # B-Claim I-Claim B-Premise 0.8·0.7·0.05 = 0.028: the span keeps its label
    assert repair_bio([BC, IC, IP], TAGS) == [BC, IC, BP]
    probs = np.array([[0.1, 0.8, 0.1, 0.0, 0.0], [0.0, 0.0, 0.7, 0.3, 0.0], [0.0, 0.0, 0.45, 0.05, 0.5]])
    assert viterbi_bio(probs, TAGS) == [BC, IC, IC]
    assert viterbi_bio(np.zeros((0, 5)), TAGS) == []
    with pytest.raises(ValueError):
        viterbi_bio(np.zeros((2, 3)), TAGS)


def test_decode_methods_differ_only_where_repair_and_viterbi_do():
    tok = synthetic([1, 1, 1])
    windows = make_windows(tok, None, max_length=8, stride=2, prefix=(1,), suffix=(2,))
    probs = np.array(
        [[0.01] * 5, [0.9, 0.05, 0.0, 0.05, 0.0], [0.4, 0.0, 0.6, 0.0, 0.0], [0.9, 0.1, 0, 0, 0], [0.01] * 5]
    )
    assert decode(tok, windows, [probs], TAGS, method="viterbi") == []
    (component,) = decode(tok, windows, [probs], TAGS, method="argmax")
    assert (component.start, component.end, component.label) == (2, 3, "Claim")
    assert component.score == pytest.approx(0.6)  # P(B-Claim) + P(I-Claim) of its one word
    with pytest.raises(ValueError):
        decode(tok, windows, [probs], TAGS, method="greedy")


def test_tags_to_components_rejects_invalid_sequences():
    tok = synthetic([1, 1])
    with pytest.raises(ValueError, match="invalid IOB2"):
        tags_to_components(tok, [O, IC], TAGS)
    with pytest.raises(ValueError, match="invalid IOB2"):
        tags_to_components(tok, [BC, IP], TAGS)
    assert spans(tags_to_components(tok, [BC, BC], TAGS)) == [(0, 1, "Claim", "x"), (2, 3, "Claim", "x")]
