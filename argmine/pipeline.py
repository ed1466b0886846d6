"""The whole pipeline on a thread: components in every message, stance toward the post.

    Thread ──┬─ post + comment texts ──► Segmenter.predict ──► components (label, offsets, score)
             │                                                    │ the claims of each comment
             └─ comments ─────────────────────────────────────────┤
                                     comment_input / component_input (post [+ parent], text)
                                                                  ▼
                         stance classifier ──► Stance(label, score) on each comment and each claim
                                                                  ▼
                                        a NEW Thread holding only predictions

``mine_many`` streams: it reads the input in chunks of whole threads (about
``chunk_messages`` posts + comments each), runs each model once per chunk over
all of the chunk's texts (length-bucketed batches, ``torch.inference_mode``),
yields the chunk's mined threads in input order and forgets them, so a JSONL
file of any size runs in bounded memory.

What a mined thread holds, and what it drops:

* the post and every comment carry the *predicted* components (ids
  ``<message id>.c<k>``, exact character offsets, ``score``); gold components
  on the input are replaced, never merged;
* every non-empty comment carries its predicted stance toward the post, and so
  does every predicted component whose label is a claim label (``Claim`` by
  default); premises and the post's own components carry none; gold stances
  are replaced (the post's own stance is cleared); with ``stance_chain`` set, a
  reply to a reply is read through its parent (``argmine.stance.chain``);
* relations are dropped (they name gold components that no longer exist);
* each message with text gets ``meta["language"]`` (``{"code", "score",
  "english"}``, from ``argmine.language``) and ``meta["not_english"] = True``
  when it is confidently another language, where the stance is a guess;
* ``meta["mined"]`` records the argmine version, the labels, and whether
  stance was predicted. When the post text is empty (a copied comment page
  read without ``--post``) no stance is predicted: the stance *toward the
  post* cannot be read from the comments alone, so every stance is ``None``
  and ``meta["mined"]["stance"]`` says why. An empty comment gets no
  components and no stance.

The input thread is never changed (frozen dataclasses; meta dicts are copied).

Checkpoint folder, written by ``save_pretrained`` and read by ``from_pretrained``:

    DIR/
      argmine.json     kind "pipeline"; labels = component labels + stance labels;
                       settings: component_labels, stance_labels, claim_labels, stance_kind
      components/      a segmenter checkpoint (argmine.segmenter.model)
      stance/          a stance checkpoint (transformer or scikit-learn, argmine.stance)
      README.md        model card
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence, Sized
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from argmine import __version__
from argmine.checkpoint import META_FILE, CheckpointMeta, load_checkpoint, staged_checkpoint
from argmine.commands import portable_command
from argmine.errors import CheckpointError, InputError
from argmine.language import language_meta
from argmine.precision import DEFAULT_PRECISION, resolve_precision
from argmine.segmenter.context import message_contexts
from argmine.segmenter.model import Segmenter
from argmine.stance.chain import ChainSettings, chain_for, predict_stances
from argmine.stance.predict import StanceClassifier, load_stance_classifier
from argmine.thread import Comment, Component, Post, Stance, Thread

log = logging.getLogger(__name__)

KIND = "pipeline"
COMPONENTS_DIR = "components"
STANCE_DIR = "stance"
DEFAULT_CLAIM_LABELS = ("Claim",)
TEXT_POST_ID = "post"  # mine_texts: the post id of a copied page (argmine.readers.text)


class ArgumentMiner:
    """A segmenter and a stance classifier, joined: ``mine(thread)`` → a thread of predictions.

    ``claim_labels`` are the component labels whose components get a stance
    of their own (each must be one of the segmenter's labels). ``stance_chain``: replies to
    replies read through their parent (``argmine.stance.chain``; None reads every comment directly).
    """

    def __init__(
        self,
        segmenter: Segmenter,
        stance: StanceClassifier,
        *,
        claim_labels: Sequence[str] = DEFAULT_CLAIM_LABELS,
        stance_chain: ChainSettings | None = None,
        training: dict[str, Any] | None = None,
    ) -> None:
        claim_labels = tuple(claim_labels)
        unknown = [label for label in claim_labels if label not in segmenter.labels]
        if unknown:
            raise InputError(
                f"claim label(s) {', '.join(map(repr, unknown))} are not among the segmenter's labels "
                f"({', '.join(segmenter.labels)}); pass claim_labels= with labels it predicts"
            )
        self.segmenter = segmenter
        self.stance = stance
        self.claim_labels = claim_labels
        self.stance_chain = chain_for(stance.labels, stance_chain)
        self.training = dict(training) if training is not None else _provenance(segmenter, stance)
        self.precision = segmenter.precision  # float32 as loaded; set by to_precision()

    @property
    def component_labels(self) -> tuple[str, ...]:
        return tuple(self.segmenter.labels)

    @property
    def stance_labels(self) -> tuple[str, ...]:
        return tuple(self.stance.labels)

    def __repr__(self) -> str:
        meta = self.meta
        encoder = f", encoder={meta.base_encoder!r}" if meta.base_encoder else ""
        return (
            f"ArgumentMiner(components={list(self.component_labels)}, stance={list(self.stance_labels)} "
            f"({meta.settings['stance_kind']}), claim_labels={list(self.claim_labels)}{encoder}, "
            f"{f'stance_chain={self.stance_chain.to_json()}, ' if self.stance_chain else ''}precision={self.precision!r})"
        )

    # -- building -------------------------------------------------------------

    @classmethod
    def from_parts(
        cls,
        segmenter_dir: str | Path,
        stance_dir: str | Path,
        *,
        claim_labels: Sequence[str] = DEFAULT_CLAIM_LABELS,
        merge_lora: bool = True,
        precision: str = "float32",
    ) -> ArgumentMiner:
        """Join a segmenter checkpoint and a stance checkpoint (e.g. two training runs) into a miner.

        ``merge_lora`` folds LoRA adapters into the encoder weights for inference (``merged``).
        ``precision``: one of ``argmine.precision.PRECISIONS`` or ``"auto"`` (see ``to_precision``).
        A miner not in float32 cannot be saved: save the checkpoint it was
        loaded from instead.
        """
        precision = resolve_precision(precision)  # a bad name is refused before anything loads
        segmenter, stance = Segmenter.from_pretrained(segmenter_dir), load_stance_classifier(stance_dir)
        miner = cls(segmenter, stance, claim_labels=claim_labels)
        return (miner.merged() if merge_lora else miner).to_precision(precision)

    @classmethod
    def from_pretrained(
        cls, folder: str | Path, *, merge_lora: bool = True, precision: str = DEFAULT_PRECISION
    ) -> ArgumentMiner:
        """Load a pipeline folder written by ``save_pretrained``; a bad folder raises ``CheckpointError``.

        ``merge_lora``: as in ``from_parts``. ``precision`` defaults to ``auto``, as ``argmine mine`` does
        (bfloat16 where the CPU has it natively, else float32); pass ``"float32"`` to reproduce the dev
        metrics exactly (what ``argmine evaluate`` does).
        """
        resolve_precision(precision)  # a bad name is refused before anything loads
        return load_checkpoint(folder, {KIND: partial(cls.from_meta, merge_lora=merge_lora, precision=precision)})

    @classmethod
    def from_meta(
        cls, folder: Path, meta: CheckpointMeta, *, merge_lora: bool = True, precision: str = DEFAULT_PRECISION
    ) -> ArgumentMiner:
        """The pipeline saved in ``folder`` whose ``argmine.json`` is ``meta``: settings checked, then both parts."""
        where = folder / META_FILE
        settings = meta.settings
        for key in ("component_labels", "stance_labels", "claim_labels"):
            value = settings.get(key)
            if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                raise CheckpointError(f"{where}: settings.{key} must be a list of strings")
        if list(meta.labels) != settings["component_labels"] + settings["stance_labels"]:
            raise CheckpointError(
                f"{where}: labels {list(meta.labels)} are not settings.component_labels + settings.stance_labels"
            )
        for sub in (COMPONENTS_DIR, STANCE_DIR):
            if not (folder / sub).is_dir():
                raise CheckpointError(f"{folder}: incomplete pipeline checkpoint, missing the folder {sub}/")
        segmenter = Segmenter.from_pretrained(folder / COMPONENTS_DIR)
        stance = load_stance_classifier(folder / STANCE_DIR)
        parts = (("component", COMPONENTS_DIR, segmenter.labels), ("stance", STANCE_DIR, stance.labels))
        for name, sub, labels in parts:
            if list(labels) != settings[f"{name}_labels"]:
                raise CheckpointError(
                    f"{where}: {name} labels {settings[f'{name}_labels']} differ from those of "
                    f"{folder / sub} ({list(labels)})"
                )
        chain = ChainSettings.from_json(settings.get("stance_chain"), str(where))
        try:
            miner = cls(segmenter, stance, claim_labels=settings["claim_labels"], stance_chain=chain,
                        training=meta.training)
        except ValueError as error:
            raise CheckpointError(f"{where}: {error}") from None
        log.info("loaded pipeline %s (components %s; stance %s)", folder, miner.component_labels, miner.stance_labels)
        return (miner.merged() if merge_lora else miner).to_precision(precision)

    def merged(self) -> ArgumentMiner:
        """Both models with LoRA folded into the weights for inference, in place (``argmine.precision.merge_lora``)."""
        self.segmenter.merged()
        self.stance.merged()
        return self

    def to_precision(self, precision: str) -> ArgumentMiner:
        """Run both models in ``precision`` from now on, each converting itself in place; returns ``self``.

        ``"auto"`` picks bfloat16 where the CPU computes it natively and float32 elsewhere
        (``argmine.precision``). Converting is one way: load the checkpoint again to go back to float32.
        """
        precision = resolve_precision(precision)
        if precision != self.precision:  # a model already converted refuses another precision
            self.segmenter.to_precision(precision)
            self.stance.to_precision(precision)
            self.precision = precision
        return self

    @property
    def meta(self) -> CheckpointMeta:
        """What ``argmine.json`` of this pipeline says."""
        seg_meta: CheckpointMeta = self.segmenter.meta
        stance_meta = self.stance.meta
        same_encoder = seg_meta.base_encoder == stance_meta.base_encoder
        return CheckpointMeta(
            kind=KIND,
            labels=self.component_labels + self.stance_labels,
            base_encoder=seg_meta.base_encoder if same_encoder else None,
            base_sha256=seg_meta.base_sha256 if same_encoder else None,
            finetune=None,
            settings={
                "component_labels": list(self.component_labels),
                "stance_labels": list(self.stance_labels),
                "claim_labels": list(self.claim_labels),
                "stance_kind": stance_meta.kind,
                "components": COMPONENTS_DIR,
                "stance": STANCE_DIR,
                **({"stance_chain": self.stance_chain.to_json()} if self.stance_chain else {}),
            },
            training=self.training,
        )

    def save_pretrained(self, folder: str | Path, card: str | None = None) -> Path:
        """Write the pipeline folder atomically (a crash leaves the old one); ``card`` replaces the README.md.

        A converted miner cannot be saved (its converted models refuse): save the checkpoint it was loaded from.
        """
        folder = Path(folder)
        with staged_checkpoint(folder, self.meta, card if card is not None else self.model_card()) as tmp:
            self.segmenter.save_pretrained(tmp / COMPONENTS_DIR)
            self.stance.save_pretrained(tmp / STANCE_DIR)
        log.info("saved pipeline to %s", folder)
        return folder

    def model_card(self) -> str:
        """A README.md: what the pipeline does, its parts, how to run it, and its limits."""
        meta = self.meta
        lines = [
            "# argmine thread miner",
            "",
            "Finds the argument components of an original post and its comments, and says how each comment",
            "and each claim stands toward the original post.",
            "",
            f"- components: {', '.join(self.component_labels)} (folder `{COMPONENTS_DIR}/`, a segmenter checkpoint)",
            (
                f"- stance toward the post: {', '.join(self.stance_labels)} (folder `{STANCE_DIR}/`, "
                f"a {meta.settings['stance_kind']} checkpoint)"
            ),
            f"- components with a stance of their own: {', '.join(self.claim_labels) or 'none'}",
        ]
        if self.stance_chain:
            lines.append(f"- replies to replies read through their parent: {self.stance_chain.to_json()}")
        if meta.base_encoder:
            lines.append(f"- base encoder: {meta.base_encoder} (weights sha256 {meta.base_sha256})")
        for part, info in self.training.items():
            if isinstance(info, dict):
                for key in ("data", "command"):
                    value = info.get(key)
                    if isinstance(value, dict):
                        value = ", ".join(f"{k} {v}" for k, v in value.items())
                    elif key == "command" and isinstance(value, str):
                        value = portable_command(value)  # no paths of the machine it was trained on
                    if value:
                        lines.append(f"- {part} {key}: {value}")
        lines += [
            "",
            "Usage: `argmine mine THREAD.jsonl --checkpoint DIR --output mined.html`, or from Python",
            "`argmine.pipeline.ArgumentMiner.from_pretrained(DIR).mine(thread)`.",
            "",
            "Each part has its own card with its development scores: `components/README.md`, `stance/README.md`.",
            "",
            "Limits:",
            "",
            "- gold components, stances and relations on the input are replaced by predictions; no relations are",
            "  predicted;",
            "- without an original post text no stance is predicted (stance is toward the post);",
            "- trained on English data (see the parts' cards); expect lower scores on other genres and languages.",
            "",
            f"Written by argmine {meta.argmine_version}.",
            "",
        ]
        return "\n".join(lines)

    # -- mining ---------------------------------------------------------------------

    def mine(self, thread: Thread, *, batch_size: int = 16) -> Thread:
        """A new thread holding the predicted components and stances of ``thread`` (see the module docstring)."""
        if not isinstance(thread, Thread):
            got = type(thread).__name__
            raise TypeError(f"mine takes a Thread, got {got}; for plain texts use mine_texts(post, comments)")
        (mined,) = self.mine_many([thread], batch_size=batch_size, progress=False)
        return mined

    def mine_texts(
        self, post: str, comments: Sequence[str] = (), *, thread_id: str = "thread", batch_size: int = 16
    ) -> Thread:
        """Mine a thread given as plain texts: the original post, then comments that each reply to it.

        Ids are those of a copied page (``post``, ``c1``, ``c2``, ...), so the mined components are
        ``post.c1``, ``c1.c1``, ... For reply chains (a comment answering a comment) build a ``Thread``
        and call ``mine``. An empty post gives no stance (stance is toward the post).
        """
        if not isinstance(post, str):
            raise TypeError(f"post must be the post's text (a str), got {type(post).__name__}")
        if isinstance(comments, str):  # a str is iterable: it would become one comment per character
            raise TypeError("comments must be a list of comment texts (str), got a str")
        comments = list(comments)
        if not all(isinstance(c, str) for c in comments):
            got = ", ".join(sorted({type(c).__name__ for c in comments if not isinstance(c, str)}))
            raise TypeError(f"comments must be a list of comment texts (str), got {got}")
        thread = Thread(
            id=thread_id,
            post=Post(id=TEXT_POST_ID, author=None, text=post),
            comments=[
                Comment(id=f"c{i}", author=None, text=text, reply_to=TEXT_POST_ID)
                for i, text in enumerate(comments, start=1)
            ],
        )
        return self.mine(thread, batch_size=batch_size)

    def __call__(self, post: str | Thread, comments: Sequence[str] | None = None, *, batch_size: int = 16) -> Thread:
        """``miner(thread)`` is ``mine(thread)``; ``miner("post", ["comment", ...])`` is ``mine_texts``."""
        if isinstance(post, Thread):
            if comments is not None:
                raise TypeError("a Thread already holds its comments: call miner(thread) without comments")
            return self.mine(post, batch_size=batch_size)
        return self.mine_texts(post, () if comments is None else comments, batch_size=batch_size)

    def mine_many(
        self,
        threads: Iterable[Thread],
        *,
        batch_size: int = 16,
        chunk_messages: int = 256,
        progress: bool = True,
    ) -> Iterator[Thread]:
        """Mine a stream of threads, in order, a chunk of whole threads at a time.

        A chunk closes once it holds ``chunk_messages`` posts + comments (a
        thread is never split): bigger chunks batch better, smaller ones hold
        less in memory. ``batch_size`` caps the texts (windows, stance pairs)
        per forward pass: on a 2-core CPU 8 to 16 is as fast as anything larger,
        and bigger batches of long windows get slower. torch's thread count is
        the caller's (see ``argmine.runtime.use_cpu_threads``).
        """
        if isinstance(threads, Thread):
            raise TypeError("mine_many takes an iterable of threads; use mine() for one thread")
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")
        if chunk_messages < 1:
            raise InputError(f"chunk_messages must be at least 1, got {chunk_messages}")
        total = len(threads) if isinstance(threads, Sized) else None
        bar = tqdm(total=total, unit="thread", desc="mining", disable=not progress, leave=False)
        try:
            for chunk in _chunks(threads, chunk_messages):
                mined = self._mine_chunk(chunk, batch_size)
                bar.update(len(chunk))
                yield from mined
        finally:
            bar.close()

    def _mine_chunk(self, chunk: list[Thread], batch_size: int) -> list[Thread]:
        messages = [m for thread in chunk for m in thread.messages()]
        contexts = [c for thread in chunk for c in message_contexts(thread, self.segmenter.context)]
        with torch.inference_mode():
            found = self.segmenter.predict([m.text for m in messages], contexts=contexts, batch_size=batch_size)

        # Predicted components per message, renamed to be unique in their thread.
        components: list[list[list[Component]]] = []
        position = 0
        for thread in chunk:
            per_message = []
            for message in thread.messages():
                per_message.append([replace(c, id=f"{message.id}.{c.id}", stance=None) for c in found[position]])
                position += 1
            components.append(per_message)

        judged = [bool(thread.post.text.strip()) for thread in chunk]
        for thread, judge in zip(chunk, judged):
            if not judge and thread.comments:
                log.warning("thread %s: the original post is empty, so no stance toward it is predicted", thread.id)
        # Every non-empty comment and each of its claims, read toward the post (replies through their parent).
        # (Threads are keyed by their place in the chunk: ids need not be unique across an input file.)
        with_components = [
            replace(thread, id=str(t), relations=(),
                    comments=tuple(replace(c, components=tuple(k)) for c, k in zip(thread.comments, components[t][1:])))
            for t, thread in enumerate(chunk)
            if judged[t]
        ]
        with torch.inference_mode():
            predicted = predict_stances(self.stance, with_components, level="both", component_labels=self.claim_labels,
                                        chain=self.stance_chain, batch_size=batch_size)
        empty = {(str(t), c.id) for t, thread in enumerate(chunk) for c in thread.comments if not c.text.strip()}

        def stance_of(t: int, item_id: str) -> Stance | None:
            key = (str(t), item_id)
            return predicted.get(key) if key not in empty else None

        out = []
        for t, thread in enumerate(chunk):
            post = _with(thread.post, components[t][0], stance=None)
            comments = tuple(
                _with(
                    comment,
                    [replace(c, stance=stance_of(t, c.id)) for c in found_here],
                    stance=stance_of(t, comment.id),
                )
                for comment, found_here in zip(thread.comments, components[t][1:])
            )
            meta = {**thread.meta, "mined": self._mined_note(judged[t])}
            mined = replace(thread, post=post, comments=comments, relations=(), meta=meta)
            if len(mined.comments) != len(thread.comments):  # cannot happen; never lose comments silently
                raise RuntimeError(f"thread {thread.id}: {len(thread.comments)} comments in, {len(mined.comments)} out")
            out.append(mined)
        return out

    def _mined_note(self, judged: bool) -> dict[str, Any]:
        return {
            "argmine_version": __version__,
            "component_labels": list(self.component_labels),
            "stance_labels": list(self.stance_labels),
            "claim_labels": list(self.claim_labels),
            "stance": "predicted" if judged else "not predicted: the original post is empty",
        }


def _with(message: Post, components: list[Component], *, stance: Stance | None) -> Any:
    # ``replace`` keeps the type (Post or Comment); meta is copied so the output shares no dict with the input.
    return replace(message, components=tuple(components), stance=stance, meta=_with_language(message))


def _with_language(message: Post) -> dict[str, Any]:
    """A copy of the message's meta with its detected language and, when confidently not English, the flag.

    The stance models read English only: ``not_english`` says a stance is a guess. A ``language`` the
    input already held that argmine did not write is kept; the detection then goes to ``language_detected``.
    """
    meta = dict(message.meta)
    if meta.get("not_english") is True:
        del meta["not_english"]  # an earlier mining's flag: decided again below
    found = language_meta(message.text)
    given = meta.get("language")
    if "language" in found and given is not None and not (isinstance(given, dict) and "code" in given):
        found["language_detected"] = found.pop("language")
    meta.update(found)
    return meta


def _chunks(threads: Iterable[Thread], chunk_messages: int) -> Iterator[list[Thread]]:
    chunk: list[Thread] = []
    size = 0
    for index, thread in enumerate(threads):
        if not isinstance(thread, Thread):
            raise TypeError(f"item {index} is a {type(thread).__name__}, not a Thread")
        chunk.append(thread)
        size += 1 + len(thread.comments)
        if size >= chunk_messages:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _provenance(segmenter: Segmenter, stance: StanceClassifier) -> dict[str, Any]:
    """Where the parts came from (data, command), for the card."""
    out: dict[str, Any] = {}
    for name, part in ((COMPONENTS_DIR, segmenter), (STANCE_DIR, stance)):
        training = getattr(getattr(part, "meta", None), "training", None) or {}
        kept = {key: training[key] for key in ("data", "command", "experiment") if key in training}
        if kept:
            out[name] = kept
    return out
