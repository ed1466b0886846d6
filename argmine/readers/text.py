"""A comment page as a reader copies it out of the browser (Substack, Disqus, Reddit, YouTube).

What a copied page looks like, and what this reader keeps of it::

    11 Comments                      count line          → meta["declared_comment_count"]
    User's avatar                    the reader's own    → skipped
    Ada Example's avatar             starts a comment    → Comment.author = "Ada Example"
    Ada Example                      optional name line  → skipped
    2dEdited                         optional age line   → meta["age"] = "2d", meta["edited"] = True
                                     blank lines
    First paragraph.                 the body            → Comment.text, exact characters,
                                                           paragraph breaks kept, trailing
    Second paragraph.                                      whitespace trimmed
    Expand full comment              ends the body
    Like (3) / Reply / Share / 12 replies / a bare number  → skipped (footer chrome)

Other platforms differ in the header: Reddit's ``u/NAME avatar`` (then the name, ``•``,
``3h ago``, ``Edited 1h ago``), Disqus's ``Avatar`` line with the name under it (then
``• 3 years ago``), YouTube's ``@handle`` over ``3 years ago (edited)``; their buttons
(``Reply``, ``Share ›``, ``Award``, ``•``...) and page chrome (sort buttons, comment box, log-in
prompts) are skipped like Substack's. Every non-blank line ends up in a comment body, in
``meta["unparsed"]``, or counted in ``meta["skipped_chrome_lines"]`` (shown by ``argmine stats``).

Line endings are normalised to ``\\n`` first (Windows and old-Mac pages read the
same), and a byte-order mark is dropped; comment offsets refer to that text
(``meta["offset"]`` is where the body starts in it, ``meta["line"]`` its 1-based line).

Rules, chosen to never guess silently:

* A body ends at ``Expand full comment``. When that line is missing (the last
  comment of a page often lacks it) the body ends at the next avatar line that
  stands after a blank line or under buttons, or at the end of the page; then a trailing run of
  footer chrome (``Reply``, ``Share``, ``Like``, ``3 replies``... with bare numbers
  only next to such a word) is cut off the body.
* Lines between ``Expand full comment`` and the next avatar line, and lines
  before the first comment, that are not known chrome are not put in any body:
  they are listed in ``meta["unparsed"]`` (line and text) and logged as a
  warning. An avatar line with neither a body nor ``Expand full comment`` (the
  reader's own ``User's avatar``) is not a comment, nor is one followed by page chrome
  only (``User's avatar`` over ``Write a comment…``, ``Top``, ``Latest``): both are listed in
  ``meta["skipped_avatars"]``.
* A header line under a comment's text and before that comment's own ``Expand full
  comment`` is text the comment quotes (someone pasted a comment, header and all): it stays
  in the body and its line is listed in the comment's ``meta["quoted_header_lines"]``. Only
  headers under buttons or page chrome, or after the page's last ``Expand`` line, start a
  new comment.
* A page where no comment is found is an error (``CorpusFormatError``), never
  an empty thread: plain text without any comment chrome has no reliable
  comment boundaries (a blank line separates paragraphs as often as comments),
  so splitting it would be a guess. An empty page is an error too.

Reply links. A copied page shows no reply links; Substack places a reply right
under the comment it answers. So every comment replies to the post, except that
comment *i* replies to the comment just above it (*i - 1*) when there is a clear
signal; such a link is a guess, marked ``meta["reply_inferred"] = True`` with the signal in
``meta["reply_signal"]``:

* ``"quote"``: *i* quotes (between double quotation marks, straight or curly)
  a passage of 3 words or more that occurs in *i - 1* and not in the post;
* ``"mention"``: *i* addresses the author of *i - 1* as ``@Name`` anywhere, or
  starts with ``Name,`` / ``Name:``;
* ``"exchange"``: the authors run A, B, A: the second A answers B, and B
  answered the first A (back-and-forth under one comment).

Pass ``infer_replies=False`` (``--replies flat`` on the command line) to attach every comment
to the post; ``thread.meta["reply_rule"]`` says which rule was used.

Without an original post the thread has an empty post text and
``meta["post_provided"] = False``, and a warning is logged: stance toward an
unknown post cannot be judged from the comments alone.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argmine.errors import CorpusFormatError, InputError
from argmine.io_utils import read_text
from argmine.thread import Comment, Post, Thread

logger = logging.getLogger(__name__)

POST_ID = "post"

# Comment headers. Substack: "NAME's avatar"; Reddit: "u/NAME avatar"; Disqus: "Avatar", then the name;
# YouTube: "@handle" with an age line under it. A name never starts with a quote mark or ">" (a quoted line).
_AVATAR = re.compile(r"^(?!u/)(?P<name>[^\s\"“”‘>].{0,119}?)(?:'s|’s|'|’) avatar$")
_REDDIT_AVATAR = re.compile(r"^u/(?P<name>[\w-]{1,40}) avatar$")
_DISQUS_AVATAR = "avatar"
_HANDLE = re.compile(r"^@[\w.\-]{1,100}$")
_EXPAND = re.compile(r"^expand full comment$", re.IGNORECASE)
_COUNT = re.compile(r"^(?P<n>\d[\d,.]*\s*[KkMm]?)\s+comments?$", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_AGE = re.compile(
    r"^(?:[·•∙]\s*)?(?P<age>\d+\s*(?:s|m|h|d|w|mo|y|sec|secs|min|mins|hr|hrs|hours?|days?|weeks?|months?|years?)"
    r"(?:\s+ago)?|just now|yesterday|" + _MONTH + r"\s+\d{1,2}(?:,\s*\d{4})?)?"
    r"\s*[·•∙]?\s*\(?(?P<edited>edited)?\)?$",
    re.IGNORECASE,
)
_EDITED = re.compile(r"^edited(?:\s+\S.{0,30}\bago)?$", re.IGNORECASE)
_NUMBER = re.compile(r"^\d[\d,.]*\s*[KkMm]?$")
# Footer chrome: the buttons and counters around a comment.
_FOOTER = re.compile(
    r"^(?:reply|share|share ›|like|liked|unlike|collapse|hide|report|delete|edit|restack|restacks|[·•∙]|"
    r"award|give award|upvote|downvote|vote|save|follow|permalink|embed|more replies|continue this thread|"
    r"translate to english|read more|show less|hide replies|pinned by @\S+|"
    r"likes?\s*\(\d[\d,.]*\s*[KkMm]?\)|"
    r"\d[\d,.]*\s*[KkMm]?\s+(?:likes?|replies|reply|restacks?)|"
    r"(?:view|show|load|see)\s+(?:\d+\s+)?(?:more\s+)?(?:replies|reply|comments?)|"
    r"liked by .+)$",
    re.IGNORECASE,
)
# Page chrome that may sit above the first comment or below the last one.
_PAGE = re.compile(
    r"^(?:comments?|discussion about this post|top|latest|newest|oldest|chronological|"
    r"write a comment(?:\.\.\.|…)?|leave a comment|load more comments|subscribe|share this post|"
    # Disqus
    r"join the discussion(?:\.\.\.|…)?|log in with|or sign up with disqus\s*\??|powered by disqus|"
    r"sort by (?:best|newest|oldest)|favorite(?:\s+\d+)?|favorite this discussion|tweet|recommend|login|name|email|"
    r"password|disqus' privacy policy|do not sell my data|add disqus to your site|"
    # Reddit
    r"comments section|sort by:?|best|new|old|controversial|q&a|search comments|expand comment search|"
    r"join the conversation|add a comment|"
    # YouTube
    r"top comments|newest first|add a comment(?:\.\.\.|…))$",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"“”]([^\"“”\n]{4,400})[\"“”]")
_WORD = re.compile(r"\w+")


def read_text_page(
    path: str | Path,
    *,
    post: str | None = None,
    post_author: str | None = None,
    thread_id: str | None = None,
    infer_replies: bool = True,
) -> Thread:
    """Read a copied comment page; ``thread_id`` defaults to the file's stem.

    Raises ``CorpusFormatError`` for a missing, binary, non-UTF-8 or empty file,
    or a page where no comment is found.
    """
    path = Path(path)
    return parse_text_page(
        read_text(path),
        source=str(path),
        post=post,
        post_author=post_author,
        thread_id=thread_id if thread_id is not None else path.stem,
        infer_replies=infer_replies,
    )


def parse_text_page(
    text: str,
    *,
    source: str = "<string>",
    post: str | None = None,
    post_author: str | None = None,
    thread_id: str | None = None,
    infer_replies: bool = True,
) -> Thread:
    """The pure core of ``read_text_page``: page text in, ``Thread`` out.

    ``post`` is the original post's text (line endings normalised, outer
    whitespace stripped); ``None`` means it is unknown. ``source`` only names
    the page in errors and warnings.
    """
    if post is not None:
        post = _normalise(post).strip()
        if not post:
            raise InputError("post text is empty; pass post=None to read the page without an original post")
    page = _normalise(text)
    if not page.strip():
        raise CorpusFormatError("empty comment page: nothing to read", source=source)

    parsed = _Parser(page, source).run()
    if not parsed.comments:
        raise CorpusFormatError(_no_comment_message(parsed), source=source)

    thread_meta: dict[str, Any] = {"source": source, "format": "text-page", "post_provided": post is not None}
    if post is None:
        logger.warning("%s: no original post given; the thread's post text is empty", source)
    if parsed.declared is not None:
        thread_meta["declared_comment_count"] = parsed.declared
        if parsed.declared != len(parsed.comments):
            logger.warning(
                "%s: the page announces %d comments but %d were found (a partly loaded page?)",
                source, parsed.declared, len(parsed.comments),
            )
    thread_meta["skipped_chrome_lines"] = parsed.chrome_lines
    if parsed.skipped_avatars:
        thread_meta["skipped_avatars"] = parsed.skipped_avatars
    if parsed.unparsed:
        thread_meta["unparsed"] = parsed.unparsed
        logger.warning(
            "%s: %d line(s) outside any comment were not recognised and not read (first at line %d); "
            "they are listed in thread.meta['unparsed']",
            source, len(parsed.unparsed), parsed.unparsed[0]["line"],
        )
    thread_meta["reply_rule"] = "adjacent-signals" if infer_replies else "all-to-post"

    replies = _infer_replies(parsed.comments, post or "") if infer_replies else {}
    comments = []
    for index, raw in enumerate(parsed.comments):
        meta = dict(raw.meta)
        reply_to = POST_ID
        if index in replies:
            reply_to = f"c{index}"  # the comment just above, numbered from 1
            meta["reply_inferred"] = True  # a guess from the page, not a link the page showed
            meta["reply_signal"] = replies[index]
        comments.append(Comment(id=f"c{index + 1}", author=raw.author, text=raw.text, reply_to=reply_to, meta=meta))
    return Thread(
        id=thread_id or "page",
        post=Post(id=POST_ID, author=post_author, text=post or ""),
        comments=comments,
        meta=thread_meta,
    )


# -- page parsing ---------------------------------------------------------------


@dataclass
class _RawComment:
    author: str
    text: str
    meta: dict[str, Any]


@dataclass
class _Parsed:
    comments: list[_RawComment] = field(default_factory=list)
    unparsed: list[dict[str, Any]] = field(default_factory=list)
    skipped_avatars: list[dict[str, Any]] = field(default_factory=list)
    declared: int | None = None
    expand_lines: int = 0
    chrome_lines: int = 0  # non-blank lines recognised as page chrome and not read


class _Parser:
    """One pass over the lines: preamble, then comment blocks (header, body, footer)."""

    def __init__(self, page: str, source: str) -> None:
        self.page = page
        self.source = source
        self.lines = page.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)
        self.out = _Parsed()
        self.body_lines = 0  # non-blank lines put into comment bodies
        self.last_expand = -1

    def stripped(self, i: int) -> str:
        return self.lines[i].strip()

    def blank(self, i: int) -> bool:
        return not self.stripped(i)

    def avatar(self, i: int) -> str | None:
        """The author named by a comment header at line ``i`` (any platform's), else None."""
        line = self.stripped(i)
        match = _AVATAR.match(line) or _REDDIT_AVATAR.match(line)
        if match:
            return match.group("name").strip()
        following = self.next_text(i)
        if line.lower() == _DISQUS_AVATAR and following is not None and not _AGE.match(following):
            return following  # Disqus: the avatar's alternative text is "Avatar"; the name is the next line
        if _HANDLE.match(line) and following is not None and _is_age(following):
            return line  # YouTube: "@handle" over "3 years ago"
        return None

    def next_text(self, i: int) -> str | None:
        """The next non-blank line after ``i`` (stripped), if it is within two lines."""
        for j in range(i + 1, min(i + 3, len(self.lines))):
            if not self.blank(j):
                return self.stripped(j)
        return None

    def run(self) -> _Parsed:
        expands = [j for j in range(len(self.lines)) if _EXPAND.match(self.stripped(j))]
        self.out.expand_lines = len(expands)
        self.last_expand = expands[-1] if expands else -1
        i = self.chrome_zone(0)
        while i < len(self.lines):
            i = self.comment(i)
        # Every non-blank line is in a body, listed as unparsed, or known chrome: count the chrome.
        written = self.body_lines + len(self.out.unparsed)
        self.out.chrome_lines = sum(1 for j in range(len(self.lines)) if not self.blank(j)) - written
        return self.out

    def chrome_zone(self, i: int) -> int:
        """Skip known chrome up to the next avatar line; unknown lines go to ``unparsed``."""
        while i < len(self.lines) and self.avatar(i) is None:
            line = self.stripped(i)
            count = _COUNT.match(line)
            if count and self.out.declared is None and not self.out.comments:
                self.out.declared = _parse_count(count.group("n"))
            elif line and not (_FOOTER.match(line) or _NUMBER.match(line) or _PAGE.match(line) or _EXPAND.match(line)
                               or count):
                self.out.unparsed.append({"line": i + 1, "text": self.lines[i]})
            i += 1
        return i

    def comment(self, i: int) -> int:
        """Read the comment whose avatar line is ``i``; return the next line to look at."""
        name = self.avatar(i)
        assert name is not None
        avatar_line = i
        meta: dict[str, Any] = {"avatar_line": i + 1}
        i += 1
        seen_name = seen_age = False
        while i < len(self.lines):  # header: blank, name and age lines
            line = self.stripped(i)
            age = _AGE.match(line) if line else None
            if not line or line in ("•", "·", "∙"):
                pass
            elif _EDITED.match(line):  # Reddit: "Edited 1h ago" under the age
                meta["edited"] = True
            elif line == name and not seen_name:
                seen_name = True
            elif age and not seen_age and (age.group("age") or age.group("edited")):
                seen_age = True
                if age.group("age"):
                    meta["age"] = age.group("age")
                meta["edited"] = bool(age.group("edited"))
            else:
                break
            i += 1

        body_start = i
        expanded = False
        quoted: list[int] = []
        while i < len(self.lines):  # body
            if _EXPAND.match(self.stripped(i)):
                expanded = True
                break
            if i == body_start and self.avatar(i) is not None:
                break  # the previous avatar had no body
            if i > body_start and self.starts_comment(i):
                if self.after_chrome(i):
                    break  # a header under buttons (Reply, Share ›) or page chrome: the next comment
                if self.blank(i - 1):
                    if i >= self.last_expand:
                        break
                    # Substack ends every comment but the page's last with "Expand full comment": a header
                    # under text, before this comment's own Expand line, is text it quotes, not a new comment.
                    quoted.append(i + 1)
            i += 1
        body_end = i
        if not expanded:
            body_end = self.trim_trailing_chrome(body_start, body_end)
        if body_end > body_start and self.only_chrome(body_start, body_end):
            # e.g. the reader's own "User's avatar" over the comment box ("Write a comment…", "Top", "Latest")
            self.out.skipped_avatars.append({"line": avatar_line + 1, "name": name, "reason": "only page chrome"})
            log = logger.debug if name == "User" else logger.warning
            log("%s:%d: avatar of %r followed by page chrome only; not read as a comment",
                self.source, avatar_line + 1, name)
            return self.chrome_zone(body_start)

        body = self.page[self.starts[body_start]: self.starts[body_end - 1] + len(self.lines[body_end - 1])] \
            if body_end > body_start else ""
        body = body.rstrip()
        if not body and not expanded:
            self.out.skipped_avatars.append({"line": avatar_line + 1, "name": name})
            log = logger.debug if name == "User" else logger.warning
            log("%s:%d: avatar of %r without a comment; not read as a comment", self.source, avatar_line + 1, name)
            return self.chrome_zone(i)
        if not body:
            logger.warning("%s:%d: comment by %r has an empty body", self.source, avatar_line + 1, name)
        meta["line"] = body_start + 1
        meta["offset"] = self.starts[body_start] if body_start < len(self.lines) else len(self.page)
        if quoted:
            meta["quoted_header_lines"] = quoted
            logger.info("%s:%d: comment by %r quotes comment header line(s) %s; kept in its text",
                        self.source, avatar_line + 1, name, ", ".join(map(str, quoted)))
        self.body_lines += sum(1 for j in range(body_start, body_end) if not self.blank(j))
        self.out.comments.append(_RawComment(author=name, text=body, meta=meta))
        return self.chrome_zone(i + 1 if expanded else i)

    def starts_comment(self, i: int) -> bool:
        """An avatar line inside a body starts a new comment only if a header-like line or nothing follows."""
        if self.avatar(i) is None:
            return False
        if i + 1 >= len(self.lines):
            return True
        nxt = self.stripped(i + 1)
        return not nxt or nxt == self.avatar(i) or bool(_AGE.match(nxt)) or self.avatar(i + 1) is not None

    def after_chrome(self, i: int) -> bool:
        """Whether the last non-blank line above ``i`` is footer buttons (Reply, Share ›...) or page chrome."""
        j = i - 1
        while j >= 0 and self.blank(j):
            j -= 1
        return j >= 0 and bool(_FOOTER.match(self.stripped(j)) or _PAGE.match(self.stripped(j)))

    def only_chrome(self, start: int, end: int) -> bool:
        """Whether the lines ``start:end`` hold nothing but known page and footer chrome."""
        return all(
            not line or _PAGE.match(line) or _FOOTER.match(line) or _NUMBER.match(line) or _COUNT.match(line)
            for line in (self.stripped(j) for j in range(start, end))
        )

    def trim_trailing_chrome(self, start: int, end: int) -> int:
        """Cut a trailing run of chrome (and blank lines) off a body that had no ``Expand`` line.

        The run must hold a footer button (Reply, Share...): page words alone ("Top", "Name") may be text.
        """
        j, words = end, 0
        while j > start:
            line = self.stripped(j - 1)
            if not line or _NUMBER.match(line) or _FOOTER.match(line) or _PAGE.match(line):
                words += bool(line and _FOOTER.match(line))
                j -= 1
            else:
                break
        if words == 0:  # blank lines and bare numbers alone may be the comment's own text
            return end
        return j


def _no_comment_message(parsed: _Parsed) -> str:
    if parsed.expand_lines:
        return (
            f"no comment found: the page has {parsed.expand_lines} 'Expand full comment' line(s) but no "
            "\"NAME's avatar\" lines, so comment authors cannot be told from comment text; copy the page again "
            "with images' alternative text included"
        )
    if parsed.chrome_lines or parsed.skipped_avatars:
        return (
            f"no comment found: the page holds only its own chrome ({parsed.chrome_lines} line(s) such as the "
            "comment box, sort buttons and counts, skipped); copy it again once its comments have loaded"
        )
    return (
        "no comment found: a copied comment page has a \"NAME's avatar\" line before each comment; "
        "plain text has no reliable comment boundaries, so write it as argmine JSONL instead"
    )


def _is_age(line: str) -> bool:
    match = _AGE.match(line)
    return bool(match and (match.group("age") or match.group("edited")))


def _parse_count(raw: str) -> int:
    raw = raw.replace(",", "").strip()
    scale = {"k": 1000, "m": 1_000_000}.get(raw[-1:].lower(), 1)
    number = float(raw.rstrip("KkMm").strip()) if scale > 1 else float(raw)
    return int(number * scale)


def _normalise(text: str) -> str:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


# -- reply inference ------------------------------------------------------------------


def _infer_replies(comments: list[_RawComment], post: str) -> dict[int, str]:
    """``{index: signal}`` for the comments that answer the comment just above them."""
    links: dict[int, str] = {}
    post_key = _key(post)
    for i in range(1, len(comments)):
        current, previous = comments[i], comments[i - 1]
        if i >= 2 and current.author == comments[i - 2].author != previous.author:
            links[i] = "exchange"
            links.setdefault(i - 1, "exchange")
        elif _quotes(current.text, previous.text, post_key):
            links[i] = "quote"
        elif _mentions(current.text, previous.author) and previous.author != current.author:
            links[i] = "mention"
    return links


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.replace("’", "'").lower()))


def _quotes(text: str, previous: str, post_key: str) -> bool:
    previous_key = _key(previous)
    for match in _QUOTED.finditer(text):
        quoted = _key(match.group(1))
        if len(quoted.split()) >= 3 and f" {quoted} " in f" {previous_key} " and f" {quoted} " not in f" {post_key} ":
            return True
    return False


def _mentions(text: str, author: str) -> bool:
    name = re.escape(author)
    if re.search(rf"@{name}(?!\w)", text, re.IGNORECASE):
        return True
    return re.match(rf"\s*{name}\s*[,:]", text, re.IGNORECASE) is not None
