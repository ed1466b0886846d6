"""The argument map of a thread: comments and their claims in rows, an edge from each with a stance up to the post.

``argument_map(thread, anchor)`` lays the nodes and edges out (all geometry is here) and fills the
``argmap.svg`` template (all markup is there), giving one line of inline SVG in a ``<figure>``.
Edges run left into the column's channel and straight up to the post; lower nodes take lanes
further left, so no edge crosses another's horizontal leg.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from argmine.rendering.neutralise import render
from argmine.rendering.views import clip, component_kind, shown_polarity, stance_text
from argmine.thread import Comment, Component, Stance, Thread

# The argument map draws at most this many comments (a page stays readable; the list below shows them all).
MAP_MAX_COMMENTS = 60
MAP_MAX_CLAIMS = 4  # claim nodes under one comment node
EDGE_COLOURS = {"support": "#15803d", "attack": "#b91c1c", "neutral": "#94a3b8"}
NODE_W = 158  # a comment node; claim nodes sit under it, indented
CLAIM_INDENT = 14
CHANNEL = 34  # the free lane left of each column where edges run up to the post
MARGIN = 14
POST_H = 58
COMMENT_H = 46
CLAIM_H = 38
GAP = 6
ROW_GAP = 26
CHAR_W = 6.2  # about one character at 11.5px in a sans-serif font


@dataclass
class Node:
    x: float
    y: float
    w: float
    h: float
    stance: Stance | None


def _wrap(text: str, chars: int, lines: int) -> list[str]:
    """Up to ``lines`` lines of at most ``chars`` characters; the last ends in … when text is left over."""
    out: list[str] = []
    current = ""
    for word in text.split():
        if len(word) > chars:
            word = word[: chars - 1] + "…"
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= chars:
            current = candidate
            continue
        out.append(current)
        current = word
        if len(out) == lines:
            last = out[-1]
            out[-1] = (last if len(last) < chars else last[: chars - 1].rstrip()) + "…"
            return out
    if current:
        out.append(current)
    return out




@dataclass
class Layout:
    """Where everything of one map goes."""

    width: int
    height: float
    post: Node
    nodes: list[tuple[Comment, Component | None, Node]] = field(default_factory=list)  # (comment, claim, node)
    more: list[tuple[float, float, int]] = field(default_factory=list)  # (x, y, claims not drawn)
    margin: int = MARGIN
    post_height: int = POST_H


def layout(thread: Thread) -> Layout:
    """Comments row by row (up to five a row), their first claims stacked under them."""
    comments = list(thread.comments[:MAP_MAX_COMMENTS])
    columns = max(1, min(5, len(comments)))
    width = MARGIN * 2 + columns * (NODE_W + CHANNEL)
    placed = Layout(width, 0.0, Node(MARGIN, MARGIN, width - 2 * MARGIN, POST_H, None))
    y: float = MARGIN + POST_H + 40
    for row_start in range(0, len(comments), columns):
        row = comments[row_start : row_start + columns]
        tallest = 0.0
        for col, comment in enumerate(row):
            x = MARGIN + col * (NODE_W + CHANNEL) + CHANNEL
            placed.nodes.append((comment, None, Node(x, y, NODE_W, COMMENT_H, comment.stance)))
            claims = sorted((c for c in comment.components if component_kind(c) == "claim"), key=lambda c: c.start)
            cy = y + COMMENT_H + GAP
            for claim in claims[:MAP_MAX_CLAIMS]:
                placed.nodes.append((comment, claim, Node(x + CLAIM_INDENT, cy, NODE_W - CLAIM_INDENT, CLAIM_H,
                                                          claim.stance)))
                cy += CLAIM_H + GAP
            if len(claims) > MAP_MAX_CLAIMS:
                placed.more.append((x + CLAIM_INDENT, cy + 10, len(claims) - MAP_MAX_CLAIMS))
                cy += 16
            tallest = max(tallest, cy - y)
        y += tallest + ROW_GAP
    placed.height = y - ROW_GAP + MARGIN + 6 if comments else MARGIN * 2 + POST_H + 30
    return placed


def _edges(placed: Layout) -> list[dict[str, Any]]:
    """One edge per node with a stance: its path through the column's channel, kind, width and label."""
    lanes: dict[float, int] = {}
    column_of = {}
    for _, claim, node in placed.nodes:
        column_x = node.x - (CLAIM_INDENT if claim is not None else 0)
        column_of[id(node)] = column_x
        if shown_polarity(node.stance) is not None:
            lanes[column_x] = lanes.get(column_x, 0) + 1
    used: dict[float, int] = {}
    edges = []
    for comment, claim, node in placed.nodes:
        kind = shown_polarity(node.stance)
        if kind is None:
            continue
        column_x = column_of[id(node)]
        step = min(6.0, (CHANNEL - 12) / max(1, lanes[column_x] - 1))
        lane = column_x - 6 - used.get(column_x, 0) * step
        used[column_x] = used.get(column_x, 0) + 1
        start_y = node.y + node.h / 2
        end_y = placed.post.y + placed.post.h + 1  # the arrowhead's tip touches the post
        r = 6
        path = (
            f"M{node.x:.1f},{start_y:.1f} H{lane + r:.1f} Q{lane:.1f},{start_y:.1f} {lane:.1f},{start_y - r:.1f} "
            f"V{end_y:.1f}"
        )
        what = "claim" if claim is not None else "comment"
        edges.append({
            "path": path, "kind": kind, "width": 1.4 if kind == "neutral" else 2,
            "label": f"{what} by {comment.author or 'anonymous'}: {stance_text(node.stance)}",  # type: ignore[arg-type]
        })
    return edges


def _boxes(thread: Thread, placed: Layout) -> list[dict[str, Any]]:
    """What each comment and claim node shows: tip, heading, stance line or wrapped claim text, colours."""
    numbers = {c.id: i for i, c in enumerate(thread.comments, start=1)}
    boxes = []
    for comment, claim, node in placed.nodes:
        kind = shown_polarity(node.stance)
        stroke = EDGE_COLOURS[kind] if kind else "#cbd5e1"
        if claim is None:
            number = numbers[comment.id]
            stance = stance_text(comment.stance) if comment.stance else "no stance"
            boxes.append({
                "node": node, "claim": None, "number": number, "stroke": stroke, "stance": stance,
                "tip": f"#{number} {comment.author or 'anonymous'} ({stance}): {clip(comment.text, 400)}",
                "heading": f"#{number} {clip(comment.author or 'anonymous', 20)}",
                "fill": EDGE_COLOURS[kind] if kind and kind != "neutral" else "#475569",
            })
        else:
            shown = f" · {stance_text(claim.stance)}" if claim.stance else ""
            boxes.append({
                "node": node, "claim": claim, "stroke": stroke, "tip": f"claim{shown}: {clip(claim.text, 400)}",
                "lines": _wrap(claim.text, int((node.w - 18) / CHAR_W), 2),
            })
    return boxes


def argument_map(thread: Thread, anchor: str) -> Markup:
    """The ``<figure class="map">`` of one thread; ``anchor`` prefixes its element ids (unique on the page)."""
    placed = layout(thread)
    post = thread.post
    post_lines = _wrap(post.text, int((placed.post.w - 24) / CHAR_W), 2) if post.text.strip() else [
        "(no original post text)"
    ]
    caption = "Each comment (and each of its claims, in yellow, under it) is linked to the original post by its stance."
    shown = min(len(thread.comments), MAP_MAX_COMMENTS)
    if len(thread.comments) > shown:
        caption += f" The first {shown} of {len(thread.comments)} comments are drawn; all are listed below."
    page = render(
        "argmap.svg", thread=thread, anchor=anchor, layout=placed, colours=EDGE_COLOURS, edges=_edges(placed),
        boxes=_boxes(thread, placed), post_tip=clip(post.text, 600) or "no original post text",
        post_heading=f"Original post · {post.author or 'unknown author'}", post_lines=post_lines[:2], caption=caption,
    )
    return Markup(page.removesuffix("\n"))
