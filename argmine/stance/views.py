"""Stance views: a corpus whose stances sit on components, re-read as a post and comments toward it.

    AAE essay:  MajorClaim "TV harms families"  ─►  post
                Claim (For)  "it kills our time" ─►  comment, stance For
                Claim (Against) "it can inform"  ─►  comment, stance Against

A stance classifier learns from (post, comment) pairs; an essay annotates the
same relation as a Claim's For / Against toward the essay's major claim. The
view makes the first MajorClaim the post and each Claim with a stance a
comment replying to it, so the essay's claims train and test the same model.
The claim's text is the comment's whole text (a component has no offsets to
keep in the view: its offsets into the essay stay in the comment's ``meta``).
"""

from __future__ import annotations

from argmine.errors import InputError
from argmine.thread import Comment, Post, Thread

VIEWS = ("claims_toward_major_claim",)


def claims_toward_major_claim(thread: Thread, *, target: str = "MajorClaim") -> Thread | None:
    """The view of one essay (or paragraph); ``None`` when it has no ``target`` component or no claim stance."""
    components = [c for message in thread.messages() for c in message.components]
    targets = [c for c in components if c.label == target]
    claims = [c for c in components if c.stance is not None and c.label != target]
    if not targets or not claims:
        return None
    post = Post(id=f"{thread.id}:{targets[0].id}", author=None, text=targets[0].text)
    comments = tuple(
        Comment(
            id=f"{thread.id}:{c.id}",
            author=None,
            reply_to=post.id,
            text=c.text,
            stance=c.stance,
            meta={"component": c.id, "label": c.label, "start": c.start, "end": c.end},
        )
        for c in claims
    )
    return Thread(id=f"{thread.id}/claims", post=post, comments=comments, meta={**thread.meta, "view": VIEWS[0]})


def apply_view(thread: Thread, view: str | None) -> Thread | None:
    """``thread`` in the named view (``None`` when the view finds nothing in it); no view: as is."""
    if view is None:
        return thread
    if view == "claims_toward_major_claim":
        return claims_toward_major_claim(thread)
    raise InputError(f"unknown stance view {view!r}; expected one of {', '.join(VIEWS)}")
