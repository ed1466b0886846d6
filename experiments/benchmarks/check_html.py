"""Render mined threads to HTML, screenshot the page in headless Chromium, and check a planted script never runs.

    python experiments/benchmarks/check_html.py                              # a demo thread (hand-placed labels)
    python experiments/benchmarks/check_html.py --jsonl mined.jsonl          # threads mined earlier
    python experiments/benchmarks/check_html.py --checkpoint models/argmine-threads-minilm \
        --input experiments/threads/market-comments.txt --post experiments/threads/market-post.txt

A copy of the first thread gets one more comment whose author and text carry
markup that would change the page title if it ran (``<script>``, ``<img
onerror>``, ``<svg onload>``). The script then checks, and prints, that:

1. the HTML has no ``<script>`` element and no ``on*`` attribute (html.parser);
2. Chromium's ``--dump-dom`` of the loaded page still has the original title
   and shows the planted markup as text;
3. the screenshot was written: it prints the PNG's path (look at it).

Exit status 0 when every check passes, 1 otherwise, 3 when Chromium is not
installed (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[2]
PAGE_TITLE = "argmine check_html"
PLANTED_TITLE = "XSS-RAN"
PLANTED_TEXT = (
    f'<script>document.title="{PLANTED_TITLE}"</script> We should not build it. '
    f"<img src=x onerror=\"document.title='{PLANTED_TITLE}'\"> "
    f"<svg onload=\"document.title='{PLANTED_TITLE}'\"></svg> It costs too much."
)
PLANTED_AUTHOR = "<b onmouseover=alert(1)>Mallory</b>"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


# -- the threads to render -------------------------------------------------------------------


def demo_threads() -> list:
    """The market page in experiments/threads with hand-placed components and stances (a stand-in, not predictions)."""
    from argmine.readers.text import read_text_page
    from argmine.thread import Stance, make_component

    post_text = (REPO / "experiments/threads/market-post.txt").read_text(encoding="utf-8").strip()
    thread = read_text_page(REPO / "experiments/threads/market-comments.txt", post=post_text, post_author="Town forum")
    marks = {  # comment index → (phrase, label, stance of a claim)
        0: [("I support this.", "Claim", "support"), ("it is never more than a third full", "Premise", None),
            ("the stallholders would pay rent to the council", "Premise", None)],
        1: [("This would hurt the shops it is meant to help.", "Claim", "attack"),
            ("many of them will simply shop online instead", "Premise", None)],
        2: [("The station car park is a four-minute walk", "Premise", None),
            ("A market on the doorstep brings more people past the chemist than a car park ever did.", "Claim",
             "support")],
        3: [("the covered market is the reason people come into the centre at all", "Claim", "support"),
            ("the butcher says the market doubled his trade", "Premise", None)],
        4: [("A covered market costs hundreds of thousands of pounds", "Premise", None),
            ("We cannot afford it.", "Claim", "attack")],
    }
    comment_stances = {0: ("support", 0.93), 1: ("attack", 0.88), 2: ("support", 0.71), 3: ("support", 0.84),
                       4: ("attack", 0.9), 5: ("none", 0.77)}
    post_components = [make_component(post_text, 0, post_text.index(".") + 1, "Claim", "post.c1", score=0.9)]
    comments = []
    for index, comment in enumerate(thread.comments):
        components = []
        for k, (phrase, label, stance) in enumerate(marks.get(index, []), start=1):
            start = comment.text.index(phrase)
            components.append(
                make_component(
                    comment.text, start, start + len(phrase), label, f"{comment.id}.c{k}", score=0.8,
                    stance=Stance(stance, 0.75) if stance else None,
                )
            )
        label, score = comment_stances.get(index, ("none", 0.5))
        comments.append(replace(comment, components=tuple(components), stance=Stance(label, score)))
    post = replace(thread.post, components=tuple(post_components))
    return [replace(thread, id="market-demo", post=post, comments=tuple(comments))]


def mined_threads(args: argparse.Namespace) -> list:
    from argmine.pipeline import ArgumentMiner
    from argmine.readers import read_threads
    from argmine.runtime import use_cpu_threads

    use_cpu_threads()
    miner = ArgumentMiner.from_pretrained(args.checkpoint)
    source = Path(args.input)
    fmt = args.format or ("jsonl" if source.suffix == ".jsonl" else "text")
    post = Path(args.post).read_text(encoding="utf-8").strip() if args.post else None
    return list(miner.mine_many(read_threads(fmt, source, post=post), progress=False))


def plant(thread):
    """A copy of ``thread`` with one more comment carrying markup that would retitle the page if it ran."""
    from argmine.thread import Comment, Stance, make_component

    start = PLANTED_TEXT.index("We should not")
    claim = make_component(PLANTED_TEXT, start, start + len("We should not build it."), "Claim", "planted.c1",
                           stance=Stance("attack", 0.66))
    comment = Comment(
        id="planted", author=PLANTED_AUTHOR, reply_to=thread.post.id, text=PLANTED_TEXT, components=(claim,),
        stance=Stance("attack", 0.66),
    )
    return replace(thread, comments=(*thread.comments, comment))


# -- checks ------------------------------------------------------------------------------------


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts = 0
        self.handlers: list[str] = []
        self.title = ""  # the document's <title> (in <head>; SVG <title> tooltips in the body are not it)
        self._in_title = False
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        self.handlers += [f"<{tag} {name}>" for name, _ in attrs if name.lower().startswith("on")]
        self._in_body = self._in_body or tag == "body"
        self._in_title = (tag == "title" and not self._in_body) or self._in_title

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def scan(page: str) -> _Scan:
    scanner = _Scan()
    scanner.feed(page)
    scanner.close()
    return scanner


def run_chromium(chromium: str, page: Path, out: Path, window: str) -> tuple[Path, str]:
    """Screenshot ``page`` into ``out``/page.png and return (png path, the DOM after load)."""
    png = out / "page.png"
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="argmine-chromium-") as profile:
        common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
        subprocess.run(
            [*common, f"--screenshot={png}", f"--window-size={window}", url],
            check=True, capture_output=True, timeout=120,
        )
    with tempfile.TemporaryDirectory(prefix="argmine-chromium-") as profile:
        dom = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            check=True, capture_output=True, timeout=120, text=True,
        ).stdout
    return png, dom


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jsonl", help="render these (mined) threads")
    parser.add_argument("--checkpoint", help="mine --input with this pipeline checkpoint first")
    parser.add_argument("--input", default=str(REPO / "experiments/threads/market-comments.txt"))
    parser.add_argument("--format", default=None, help="format of --input (default: by suffix)")
    parser.add_argument("--post", default=str(REPO / "experiments/threads/market-post.txt"))
    parser.add_argument("--out", default=None, help="folder for page.html and page.png (default: a new temp folder)")
    parser.add_argument("--window", default="1200,2000", help="browser window WIDTH,HEIGHT")
    args = parser.parse_args(argv)

    from argmine.readers import read_threads
    from argmine.rendering import to_html

    if args.jsonl:
        threads, origin = list(read_threads("jsonl", args.jsonl)), f"threads from {args.jsonl}"
    elif args.checkpoint:
        threads, origin = mined_threads(args), f"{args.input} mined with {args.checkpoint}"
    else:
        threads, origin = demo_threads(), "demo thread (hand-placed components and stances)"
    if not threads:
        print("no threads to render", file=sys.stderr)
        return 1
    threads[0] = plant(threads[0])
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="argmine-html-"))
    out.mkdir(parents=True, exist_ok=True)
    page_path = out / "page.html"
    page = to_html(threads, title=PAGE_TITLE)
    page_path.write_text(page, encoding="utf-8")
    print(f"rendered {origin}: {len(threads)} thread(s), {len(page):,} characters → {page_path}")

    failures = []
    static = scan(page)
    if static.scripts or static.handlers:
        failures.append(f"static: {static.scripts} <script> element(s), handlers {static.handlers[:3]}")
    if html.escape(PLANTED_TEXT[:30], quote=True) not in page:
        failures.append("static: the planted comment is not shown escaped")
    print(f"static check: {static.scripts} <script> elements, {len(static.handlers)} on* attributes")

    chromium = find_chromium()
    if chromium is None:
        print("chromium not found: install it (apt-get install -y chromium) for the browser checks", file=sys.stderr)
        return 3
    png, dom = run_chromium(chromium, page_path, out, args.window)
    loaded = scan(dom)
    if loaded.title != PAGE_TITLE:
        failures.append(f"browser: the title became {loaded.title!r}: a planted script ran")
    if loaded.scripts or loaded.handlers:
        failures.append(f"browser: the DOM has {loaded.scripts} <script> and handlers {loaded.handlers[:3]}")
    if "document.title" not in html.unescape(dom):
        failures.append("browser: the planted markup is not in the page as text")
    print(f"browser check: title after load {loaded.title!r} (expected {PAGE_TITLE!r})")
    if not png.is_file() or png.stat().st_size == 0:
        failures.append(f"browser: no screenshot at {png}")
    else:
        print(f"screenshot: {png} ({png.stat().st_size:,} bytes)")
    print(json.dumps({"html": str(page_path), "png": str(png), "ok": not failures}))
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
