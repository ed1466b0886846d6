"""Which language a message is in, so that a stance read from a comment that is not English can be flagged.

    language_meta(text) → {"language": {"code": "pt", "score": 0.99, "english": 0.0}, "not_english": True}

The stance models are trained on English only; on another language their label
is a guess, and the output should say so. Detection is py3langid (a maintained
fork of langid.py, Lui & Baldwin 2012: a naive Bayes model over byte n-grams,
97 languages, BSD). Its model ships inside the package (4.5 MB, numpy arrays,
no pickle), so nothing is downloaded at run time; it reads a comment in well
under a millisecond and loads in one or two seconds, once per process, at first use
(``preload`` starts that in the background).

What is read: mentions, hashtags, links, HTML entities and tokens with digits
are removed first (on tweets they are most of a short text and read as any
language), a text mostly in capitals is lower-cased, and only the first
``MAX_CHARS`` characters are read (the language of a comment shows well before).

The flag, ``not_english``, is set only when the detector is confident: the
cleaned text has at least ``MIN_CHARS`` characters (a shorter one is too short
to tell: "Danke" or "lol" could be anything), English gets a probability under
``MAX_ENGLISH`` and the best language at least ``MIN_BEST`` (probabilities
spread thin over many languages mean noise such as slang or spelled-out
letters, not another language). Measured on RumourEval 2019 (7,049 messages,
tweets and Reddit posts): 10 flagged, 9 of them French, Portuguese, Italian,
Polish or Russian (the tenth spelled out letter by letter); on our own threads
every German, French and Portuguese message flagged and none of the 38 English.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from argmine.errors import ArgmineError

log = logging.getLogger(__name__)

MIN_CHARS = 20  # shorter cleaned texts get a guess but never the flag
MAX_ENGLISH = 0.05  # the flag needs P(English) below this ...
MIN_BEST = 0.3  # ... and the best language at least this
MAX_CHARS = 4000  # characters read of a long comment (the cost is linear in its length)

# What a detector reads as noise: links, @mentions, #hashtags, HTML entities (&gt;), tokens holding a digit.
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w[\w'’]*|&#?\w+;|\S*\d\S*")


@dataclass(frozen=True)
class LanguageGuess:
    """The most likely language of a text (ISO 639-1 code where there is one), its probability and English's."""

    code: str
    score: float
    english: float
    chars: int  # characters read, after cleaning

    @property
    def not_english(self) -> bool:
        """Confidently another language than English (see the module docstring for the rule)."""
        return self.chars >= MIN_CHARS and self.english < MAX_ENGLISH and self.score >= MIN_BEST

    def to_meta(self) -> dict[str, Any]:
        return {"code": self.code, "score": round(self.score, 4), "english": round(self.english, 4)}


def clean(text: str) -> str:
    """``text`` as the detector reads it: noise removed, spaces collapsed, mostly-capital text lower-cased."""
    flat = " ".join(_NOISE.sub(" ", text[: MAX_CHARS * 2]).split())[:MAX_CHARS]
    letters = [c for c in flat if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) * 2 > len(letters):
        flat = flat.lower()  # the model's n-grams are mostly lower case; shouting reads as another language
    return flat


_LOCK = threading.Lock()  # one load, even when preload's thread and a caller ask at once
_LOADED: list[Any] = []


def _identifier() -> Any:
    with _LOCK:
        if not _LOADED:
            try:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier
            except ImportError as error:  # a dependency of argmine; an old environment may lack it
                raise ArgmineError(f"language detection needs py3langid ({error}): pip install py3langid") from None
            # norm_probs: probabilities (softmax over the 97 languages), not raw log scores
            _LOADED.append(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))
        return _LOADED[0]


def preload() -> None:
    """Load the model in a background thread (it takes a second or two, mostly LZMA, which frees the GIL).

    ``argmine mine`` calls this before loading its own models, so the two loads overlap.
    """
    def load() -> None:
        try:
            _identifier()
        except Exception as error:  # the first real call raises it again, in the caller's thread
            log.debug("preloading the language model failed: %s", error)

    threading.Thread(target=load, name="argmine-language-preload", daemon=True).start()


def detect_language(text: str) -> LanguageGuess | None:
    """The language of ``text``; None when nothing is left to read after cleaning (empty, only links...)."""
    cleaned = clean(text)
    if not any(c.isalpha() for c in cleaned):
        return None
    ranked = _identifier().rank(cleaned)
    code, score = ranked[0]
    english = next((p for lang, p in ranked if lang == "en"), 0.0)
    return LanguageGuess(code=str(code), score=float(score), english=float(english), chars=len(cleaned))


def language_meta(text: str) -> dict[str, Any]:
    """The keys a mined message's ``meta`` gets: ``language`` (when there is text), ``not_english`` (when flagged)."""
    guess = detect_language(text)
    if guess is None:
        return {}
    out: dict[str, Any] = {"language": guess.to_meta()}
    if guess.not_english:
        out["not_english"] = True
    return out


__all__ = ["LanguageGuess", "clean", "detect_language", "language_meta", "preload"]
