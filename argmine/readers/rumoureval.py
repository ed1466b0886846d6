"""SemEval-2019 Task 7 RumourEval (subtask A, English) → ``Thread``.

``path`` is the folder that holds the release(s)::

    <path>/rumoureval-2019-training-data/
        train-key.json, dev-key.json                 {"subtaskaenglish": {post id: label}, "subtaskbenglish": ...}
        twitter-english/<event>/<thread>/            threads of both train and dev (the keys tell which)
        reddit-training-data/<thread>/, reddit-dev-data/<thread>/
    <path>/rumoureval-2019-test-data/                the official test release
        twitter-en-test-data/<event>/<thread>/, reddit-test-data/<thread>/
    <path>/final-eval-key.json                       its key, beside the test folder

A thread folder holds ``structure.json`` (the reply tree, ``{id: {child id:
{...}}}`` with ``[]`` for a leaf), ``source-tweet/<thread>.json`` and
``replies/<id>.json``; anything else there (``raw.json``, ``urls-content/``)
is not read. Tweets give ``text`` (or ``full_text``) and ``user.screen_name``;
Reddit replies ``data.body`` / ``data.author``, and the source
``data.children[0].data``: its text is the title, then a blank line and the
self-text when there is one (the title alone is kept in ``post.meta["title"]``).

Reddit trees mark a branch cut off by the crawl ("continue this thread": a
``more`` object with id ``_`` and no children in ``raw.json``) as the key ``_``
mapped to ``[]``, several times in one tree in the test release. Such a
placeholder is no post: it is left out of the thread and counted in
``Thread.meta["truncated_branches"]`` (and by ``argmine stats``).

One thread per conversation: the source is the ``post``; every other id of
``structure.json`` is a ``Comment`` whose ``reply_to`` is its parent there, in
the tree's depth-first order. Each post and comment gets its key label
(``support`` / ``deny`` / ``query`` / ``comment``) as ``stance``. The official
score counts every keyed post, so nothing is dropped:

* an id of ``structure.json`` with no reply file, and a Reddit ``more`` stub
  (a keyed reply saved without its text), becomes a comment with empty text
  and ``meta["text_missing"]`` saying why;
* a deleted Reddit post keeps its ``[deleted]`` / ``[removed]`` text and gets
  ``meta["deleted"] = True``;
* a top-level id of ``structure.json`` other than the source (its parent is
  not in the data) replies to the source, with ``meta["parent_unknown"] = True``;
* a reply file that ``structure.json`` does not list replies to the parent its
  own JSON names (``in_reply_to_status_id_str`` / ``parent_id``), or to the
  source with ``parent_unknown`` when that parent is absent; it gets
  ``meta["not_in_structure"] = True`` and a warning is logged.

Thread split: in the training release a thread belongs to the key (train or
dev) that labels its posts, so ``split="train"`` / ``"dev"`` follow the
official keys; every thread of the test release is ``test``. ``split="all"``
reads every release present. Keyed ids that no thread holds are reported with
a warning at the end; ``key_labels`` gives the key itself for evaluation.

``Thread.id`` and ``post.id`` are the source id; comment ids are the post ids
of the key. ``Thread.meta``: ``corpus``, ``platform`` (twitter/reddit),
``event`` (Twitter's event folder, None on Reddit), ``split``, ``veracity``
(the subtask B label of the source, when keyed) and ``truncated_branches``
(the placeholders above, 0 for most threads). Post and comment
meta: ``created`` (as the platform wrote it) and the flags above.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.errors import CorpusFormatError, InvalidThreadError
from argmine.io_utils import read_text
from argmine.readers.splits import check_split
from argmine.thread import Comment, Post, Stance, Thread

log = logging.getLogger(__name__)

LABELS = ("support", "deny", "query", "comment")
TRAINING_FOLDER = "rumoureval-2019-training-data"
TEST_FOLDER = "rumoureval-2019-test-data"
TEST_KEY = "final-eval-key.json"
_FOLDERS = (TRAINING_FOLDER, TEST_FOLDER)
CORPUS = "rumoureval2019"
_DELETED = ("[deleted]", "[removed]")
_FLAGS = ("text_missing", "deleted", "parent_unknown", "not_in_structure")  # meta keys counted in the log
PLACEHOLDER = "_"  # structure.json's key for a truncated Reddit branch ("continue this thread"), always -> []


@dataclass(frozen=True)
class _Root:
    """A folder of thread folders: ``folder/<event>/<thread>/`` (Twitter) or ``folder/<thread>/`` (Reddit)."""

    folder: Path
    platform: str


@dataclass(frozen=True)
class _Release:
    """One release found under ``path``: its thread folders and its keys (split → key file)."""

    name: str
    roots: tuple[_Root, ...]
    keys: dict[str, Path] = field(default_factory=dict)


def read_rumoureval(path: str | Path, *, split: str = "all") -> Iterator[Thread]:
    """Threads of RumourEval 2019 at ``path`` (training release, test release or both).

    Arguments and the layout are checked now; threads are read while iterating.
    A split whose release is absent here yields nothing, with a warning.
    """
    check_split(split)
    releases = _releases(Path(path))
    wanted = [r for r in releases if split == "all" or split in r.keys or (split == "test" and r.name == TEST_FOLDER)]
    if not wanted:
        present = ", ".join(r.name for r in releases)
        log.warning("RumourEval at %s: no release with split %r here (found %s): nothing to read", path, split, present)
    return _read(wanted, split)


def key_labels(path: str | Path, split: str = "all") -> dict[str, str]:
    """``{post id: label}`` of subtask A for ``split``: what an evaluation must find predictions for.

    ``all`` merges every key present; a named split whose key file is absent is an error.
    """
    check_split(split)
    labels: dict[str, str] = {}
    found = False
    for release in _releases(Path(path)):
        for name, key_path in release.keys.items():
            if split in ("all", name):
                found = True
                _merge(labels, _read_key(key_path)[0], key_path)
    if not found:
        raise CorpusFormatError(f"no key file for split {split!r}", source=path)
    return labels


# -- layout ---------------------------------------------------------------------------


def _releases(path: Path) -> list[_Release]:
    if not path.is_dir():
        raise CorpusFormatError("no such folder" if not path.exists() else "expected a folder, got a file", source=path)
    releases = []
    training = path / TRAINING_FOLDER
    if training.is_dir():
        keys = {name: training / f"{name}-key.json" for name in ("train", "dev")}
        for key_path in keys.values():
            if not key_path.is_file():
                raise CorpusFormatError("missing key file of the training release", source=key_path)
        roots = _roots(training, twitter="twitter-english", reddit=("reddit-training-data", "reddit-dev-data"))
        releases.append(_Release(TRAINING_FOLDER, roots, keys))
    test = path / TEST_FOLDER
    if test.is_dir():
        keys = {"test": path / TEST_KEY} if (path / TEST_KEY).is_file() else {}
        if not keys:
            log.warning("%s is missing: the test threads are read without stance labels", path / TEST_KEY)
        roots = _roots(test, twitter="twitter-en-test-data", reddit=("reddit-test-data",))
        releases.append(_Release(TEST_FOLDER, roots, keys))
    if not releases:
        hint = "; this is a release folder itself: give the folder that holds it" if path.name in _FOLDERS else ""
        raise CorpusFormatError(
            f"expected {TRAINING_FOLDER}/ or {TEST_FOLDER}/ (with {TEST_KEY} beside it) in this folder{hint}",
            source=path,
        )
    return releases


def _roots(release: Path, *, twitter: str, reddit: tuple[str, ...]) -> tuple[_Root, ...]:
    names = {twitter: "twitter", **{name: "reddit" for name in reddit}}
    roots = tuple(_Root(release / name, platform) for name, platform in names.items() if (release / name).is_dir())
    if not roots:
        raise CorpusFormatError(f"none of {', '.join(names)} is here", source=release)
    for entry in sorted(release.iterdir()):
        if entry.is_dir() and entry.name not in names:
            log.warning("%s: unknown folder, not read (expected %s)", entry, ", ".join(names))
    return roots


def _thread_folders(root: _Root) -> Iterator[tuple[Path, str | None]]:
    """Each thread folder with its event (Twitter only), in sorted order."""
    if root.platform == "reddit":
        for folder in sorted(p for p in root.folder.iterdir() if p.is_dir()):
            yield folder, None
        return
    for event in sorted(p for p in root.folder.iterdir() if p.is_dir()):
        for folder in sorted(p for p in event.iterdir() if p.is_dir()):
            yield folder, event.name


# -- keys -----------------------------------------------------------------------------


def _read_key(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Subtask A labels and subtask B (veracity) labels of one key file."""
    data = _load_json(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("subtaskaenglish"), Mapping):
        raise CorpusFormatError('expected an object with "subtaskaenglish": {post id: label}', source=path)
    stances: dict[str, str] = {}
    for post_id, label in data["subtaskaenglish"].items():
        if label not in LABELS:
            raise CorpusFormatError(
                f"subtaskaenglish[{post_id!r}]: label {label!r} is not one of {', '.join(LABELS)}", source=path
            )
        stances[str(post_id)] = label
    veracity = data.get("subtaskbenglish") or {}
    if not isinstance(veracity, Mapping):
        raise CorpusFormatError('"subtaskbenglish" must be an object {source id: label}', source=path)
    return stances, {str(k): str(v) for k, v in veracity.items()}


def _merge(into: dict[str, str], labels: Mapping[str, str], source: Path) -> None:
    clash = next((i for i in labels if i in into), None)
    if clash is not None:
        raise CorpusFormatError(f"post {clash} is labelled by two keys", source=source)
    into.update(labels)


# -- reading ----------------------------------------------------------------------------


def _read(releases: list[_Release], split: str) -> Iterator[Thread]:
    seen: dict[str, Path] = {}
    counts: Counter[str] = Counter()
    truncated = 0
    expected: dict[str, str] = {}
    for release in releases:
        stances: dict[str, str] = {}
        veracity: dict[str, str] = {}
        key_of: dict[str, str] = {}
        for name, key_path in release.keys.items():
            a_labels, b_labels = _read_key(key_path)
            _merge(stances, a_labels, key_path)
            veracity.update(b_labels)
            key_of.update({post_id: name for post_id in a_labels})
        expected.update({i: label for i, label in stances.items() if split in ("all", key_of[i])})
        for root in release.roots:
            for folder, event in _thread_folders(root):
                thread = _read_thread(folder, root.platform, event, stances, veracity, key_of, release)
                if split not in ("all", thread.meta["split"]):
                    continue
                for message in thread.messages():
                    if message.id in seen:
                        raise CorpusFormatError(
                            f"post {message.id} is also in thread {seen[message.id]}", source=folder
                        )
                    seen[message.id] = folder
                    counts.update(f"{flag}={message.meta[flag]}" for flag in _FLAGS if flag in message.meta)
                truncated += thread.meta["truncated_branches"]
                yield thread
    missing = sorted(set(expected) - set(seen))
    if missing:
        log.warning(
            "%d keyed posts of split %r are in no thread read (first: %s); the official score still counts them",
            len(missing),
            split,
            ", ".join(missing[:5]),
        )
    if any(counts.values()):
        log.info(
            "RumourEval, posts kept with a flag: %s", ", ".join(f"{what} {n}" for what, n in sorted(counts.items()))
        )
    if truncated:
        log.info("RumourEval: %d truncated reply branches (placeholder %r) left out", truncated, PLACEHOLDER)


def _read_thread(
    folder: Path,
    platform: str,
    event: str | None,
    stances: Mapping[str, str],
    veracity: Mapping[str, str],
    key_of: Mapping[str, str],
    release: _Release,
) -> Thread:
    source_id = folder.name
    structure_path = folder / "structure.json"
    parents, truncated = _parse_structure(_load_json(structure_path), source_id, structure_path)

    def stance(post_id: str) -> Stance | None:
        return Stance(stances[post_id]) if post_id in stances else None

    source_path = folder / "source-tweet" / f"{source_id}.json"
    if source_path.is_file():
        fields, _ = _read_message(source_path, platform, source=True)
    else:
        log.warning("%s is missing: the source post is kept with empty text", source_path)
        fields = {"author": None, "text": "", "meta": {"text_missing": "no source file"}}
    post = Post(id=source_id, stance=stance(source_id), **fields)

    reply_dir = folder / "replies"
    # A placeholder is never a post, even if a crawl saved a file for it.
    files = {p.stem: p for p in reply_dir.glob("*.json") if p.stem != PLACEHOLDER} if reply_dir.is_dir() else {}
    comments: list[Comment] = []
    for reply_id, parent in parents.items():
        if reply_id in files:
            fields, _ = _read_message(files[reply_id], platform, source=False)
        else:
            fields = {"author": None, "text": "", "meta": {"text_missing": "no reply file"}}
        if parent is None:
            fields["meta"]["parent_unknown"] = True
        comments.append(Comment(id=reply_id, reply_to=parent or source_id, stance=stance(reply_id), **fields))

    extra = sorted(set(files) - set(parents) - {source_id})
    if extra:
        log.warning(
            "%s: %d reply files are not in structure.json; attached by their own parent field", folder, len(extra)
        )
    known = set(parents) | set(extra) | {source_id}
    for reply_id in extra:
        fields, parent = _read_message(files[reply_id], platform, source=False)
        fields["meta"]["not_in_structure"] = True
        if parent not in known:
            fields["meta"]["parent_unknown"] = True
            parent = source_id
        comments.append(Comment(id=reply_id, reply_to=parent, stance=stance(reply_id), **fields))

    sides = {key_of[m] for m in known if m in key_of}
    if len(sides) > 1:
        raise CorpusFormatError(
            f"the thread's posts are labelled by several keys: {', '.join(sorted(sides))}", source=folder
        )
    side = sides.pop() if sides else ("test" if release.name == TEST_FOLDER else None)
    if side is None:
        log.warning("%s: no post of this thread is in a key, so it belongs to no split (read only with 'all')", folder)
    meta = {
        "corpus": CORPUS,
        "platform": platform,
        "event": event,
        "split": side,
        "veracity": veracity.get(source_id),
        "truncated_branches": truncated,
    }
    try:
        return Thread(id=source_id, post=post, comments=comments, meta=meta)
    except InvalidThreadError as error:
        raise error.located(structure_path) from None


def _parse_structure(data: Any, source_id: str, path: Path) -> tuple[dict[str, str | None], int]:
    """``{reply id: parent id}`` in depth-first order (``None`` for extra top-level ids), and the placeholders."""
    if not isinstance(data, Mapping) or source_id not in data:
        raise CorpusFormatError(
            f"expected an object whose top-level keys include the source id {source_id}", source=path
        )
    parents: dict[str, str | None] = {}
    truncated = 0

    def walk(children: Any, parent: str, where: str) -> None:
        if isinstance(children, list):
            if children:
                raise CorpusFormatError(
                    f"{where}: expected an object or [] (a leaf), got a non-empty list", source=path
                )
            return
        if not isinstance(children, Mapping):
            raise CorpusFormatError(f"{where}: expected an object or [], got {type(children).__name__}", source=path)
        for child, grandchildren in children.items():
            if child == PLACEHOLDER:
                placeholder(grandchildren, f"{where}.{child}")
                continue
            add(child, parent, where)
            walk(grandchildren, child, f"{where}.{child}")

    def placeholder(children: Any, where: str) -> None:
        nonlocal truncated
        if children != []:
            raise CorpusFormatError(
                f"{where}: the placeholder {PLACEHOLDER!r} of a truncated branch must map to [], "
                f"got {json.dumps(children)[:40]}",
                source=path,
            )
        truncated += 1

    def add(child: str, parent: str | None, where: str) -> None:
        if child == source_id or child in parents:
            raise CorpusFormatError(f"{where}: id {child} appears twice in the tree", source=path)
        parents[child] = parent

    walk(data[source_id], source_id, f"$.{source_id}")
    for top, children in data.items():
        if top == PLACEHOLDER:
            placeholder(children, f"$.{top}")
        elif top != source_id:
            add(top, None, "$")
            walk(children, top, f"$.{top}")
    return parents, truncated


def _read_message(path: Path, platform: str, *, source: bool) -> tuple[dict[str, Any], str | None]:
    """``author``, ``text`` and ``meta`` of one post file, and the parent id the file itself names."""
    data = _load_json(path)
    reader = _reddit_fields if platform == "reddit" else _tweet_fields
    fields = reader(data, path, source=source)
    post_id = fields.pop("id")
    if post_id != path.stem:
        raise CorpusFormatError(f"the post's id {post_id!r} differs from its file name {path.stem!r}", source=path)
    return fields, fields["meta"].pop("parent", None)


def _tweet_fields(data: Any, path: Path, *, source: bool) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise CorpusFormatError("expected a tweet object", source=path)
    text = data.get("full_text", data.get("text"))
    if not isinstance(text, str):
        raise CorpusFormatError('field "text": expected a string', source=path)
    user = data.get("user")
    tweet_id = data.get("id_str") or data.get("id")
    meta: dict[str, Any] = {"created": data.get("created_at")}
    if not source:
        meta["parent"] = data.get("in_reply_to_status_id_str")
    return {
        "id": str(tweet_id),
        "author": user.get("screen_name") if isinstance(user, Mapping) else None,
        "text": text,
        "meta": meta,
    }


def _reddit_fields(data: Any, path: Path, *, source: bool) -> dict[str, Any]:
    if source:
        try:
            item = data["data"]["children"][0]
        except (KeyError, IndexError, TypeError):
            raise CorpusFormatError('expected a Listing with "data.children[0]"', source=path) from None
    else:
        item = data
    if not isinstance(item, Mapping) or not isinstance(item.get("data"), Mapping):
        raise CorpusFormatError('expected {"kind": ..., "data": {...}}', source=path)
    kind, body = item.get("kind"), item["data"]
    meta: dict[str, Any] = {"created": body.get("created_utc")}
    if not source:
        parent = body.get("parent_id")
        meta["parent"] = parent.split("_", 1)[-1] if isinstance(parent, str) else None
    if kind == "more" and not source:
        return {
            "id": str(body.get("id")),
            "author": None,
            "text": "",
            "meta": {**meta, "text_missing": "reddit 'more' stub"},
        }
    expected_kind = "t3" if source else "t1"
    if kind != expected_kind:
        raise CorpusFormatError(f'"kind": expected {expected_kind!r}, got {kind!r}', source=path)
    if source:
        title, selftext = body.get("title"), body.get("selftext") or ""
        if not isinstance(title, str) or not isinstance(selftext, str):
            raise CorpusFormatError('"data.title" and "data.selftext": expected strings', source=path)
        text = f"{title}\n\n{selftext}" if selftext else title
        meta["title"] = title
        deleted = selftext in _DELETED
    else:
        text = body.get("body")
        if not isinstance(text, str):
            raise CorpusFormatError('"data.body": expected a string', source=path)
        deleted = text in _DELETED
    if deleted:
        meta["deleted"] = True
    return {"id": str(body.get("id")), "author": body.get("author"), "text": text, "meta": meta}


def _load_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise CorpusFormatError(
            f"malformed JSON: {error.msg} (column {error.colno})", source=path, line=error.lineno
        ) from None
