"""What the pages show of a thread, whatever their format: stance polarity, reply order, counts, notes.

Every stance is shown with its score. A stance marked unsure (``argmine mine --min-stance-score X``
adds ``"below_min_score": X`` to a stance whose score is below X) shows as ``unsure (support 0.42)``,
drawn as neither support nor attack. A message flagged ``meta["not_english"]`` (``argmine.language``)
shows its language next to the stance, since the stance models read English only.
"""

from __future__ import annotations

from collections.abc import Iterator

from argmine.thread import Comment, Component, Post, Stance, Thread

# Stance labels read as support / attack (others: neutral). RumourEval's "deny" is an attack on the rumour.
SUPPORT_LABELS = frozenset({"support", "supports", "agree", "agreement", "for", "pro", "favor", "favour"})
ATTACK_LABELS = frozenset({"attack", "attacks", "deny", "disagree", "disagreement", "against", "con", "rebuttal"})

# The stance key ``argmine mine --min-stance-score X`` adds (value X) to a stance whose score is below X.
UNSURE_KEY = "below_min_score"


def is_unsure(stance: Stance | None) -> bool:
    """Whether a stance was marked as below the ``--min-stance-score`` threshold."""
    return stance is not None and stance.extra.get(UNSURE_KEY) is not None


def shown_polarity(stance: Stance | None) -> str | None:
    """``polarity`` as drawn: an unsure stance is drawn as neither support nor attack."""
    return "neutral" if is_unsure(stance) else polarity(stance)


def not_english(message: Post) -> str | None:
    """The detected language code of a message flagged ``not_english``; None when it is not flagged."""
    if message.meta.get("not_english") is not True:
        return None
    found = message.meta.get("language_detected", message.meta.get("language"))
    code = found.get("code") if isinstance(found, dict) else None
    return str(code)[:12] if code else "?"  # input JSON may hold anything here: short, and escaped where shown


def polarity(stance: Stance | None) -> str | None:
    """``support``, ``attack`` or ``neutral`` for a stance (its label read case-insensitively); None without one."""
    if stance is None:
        return None
    label = stance.label.lower()
    if label in SUPPORT_LABELS:
        return "support"
    if label in ATTACK_LABELS:
        return "attack"
    return "neutral"


def component_kind(component: Component) -> str:
    """``claim``, ``premise`` or ``other`` (MajorClaim, backing...): the highlight colour."""
    label = component.label.lower()
    if label == "claim":
        return "claim"
    if label == "premise":
        return "premise"
    return "other"


# Replies deeper than this are indented as this deep: a 50,000-deep chain would otherwise take quadratic space.
MAX_INDENT = 12


def reply_order(thread: Thread) -> Iterator[tuple[Comment, int]]:
    """Every comment once, with its depth (1 = a reply to the post): each comment followed by its replies."""
    children: dict[str, list[Comment]] = {}
    for comment in thread.comments:
        children.setdefault(comment.reply_to, []).append(comment)
    stack = [(c, 1) for c in reversed(children.get(thread.post.id, []))]
    while stack:
        comment, depth = stack.pop()
        yield comment, depth
        stack.extend((c, depth + 1) for c in reversed(children.get(comment.id, [])))


def stance_text(stance: Stance) -> str:
    shown = stance.label if stance.score is None else f"{stance.label} {stance.score:.2f}"
    return f"unsure ({shown})" if is_unsure(stance) else shown


def post_stance(post: Post) -> str:
    """`` (stance)`` after the post's author, for gold threads whose post has one (RumourEval's source tweet)."""
    return f" ({stance_text(post.stance)})" if post.stance is not None else ""


def language_text(message: Post) -> str:
    code = not_english(message)
    return f" [{code}?]" if code else ""


def one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return '"' + (flat if len(flat) <= width else flat[: width - 1].rstrip() + "…") + '"'


def counts(thread: Thread) -> str:
    labels: dict[str, int] = {}
    for _, component in thread.components():
        labels[component.label] = labels.get(component.label, 0) + 1
    stances: dict[str, int] = {}
    for comment in thread.comments:
        if comment.stance is not None:
            label = "unsure" if is_unsure(comment.stance) else comment.stance.label
            stances[label] = stances.get(label, 0) + 1
    parts = [f"{len(thread.comments)} comment{'s' if len(thread.comments) != 1 else ''}"]
    if labels:
        parts.append(", ".join(f"{n} {label}" for label, n in sorted(labels.items())))
    else:
        parts.append("no components")
    if stances:
        parts.append("comment stance: " + ", ".join(f"{n} {label}" for label, n in sorted(stances.items())))
    return " · ".join(parts)


def stance_note(thread: Thread) -> str | None:
    mined = thread.meta.get("mined")
    if isinstance(mined, dict) and mined.get("stance") not in (None, "predicted"):
        return f"stance {mined['stance']} (give the post, e.g. --post FILE)"
    return None


def clip(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def details(component: Component) -> str:
    """``score; stance`` of a component as the text and Markdown lists show it; ``""`` when it has neither."""
    shown = [f"{component.score:.2f}"] if component.score is not None else []
    if component.stance is not None:
        shown.append(stance_text(component.stance))
    return "; ".join(shown)


def by_start(message: Post) -> list[Component]:
    """A message's components in text order."""
    return sorted(message.components, key=lambda c: c.start)
