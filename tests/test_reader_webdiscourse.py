"""The web-discourse XMI reader on small invented documents written to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from argmine.cli import main
from argmine.errors import CorpusFormatError
from argmine.readers import read_threads
from argmine.readers.webdiscourse import java_properties, read_webdiscourse

TEXT = "Kids learn best at home.\nSchools are crowded, so teachers cannot help everyone. Some say kids need friends."
PROPS = "#java.util.Properties\n#Thu Aug 07 15:59:02 CEST 2014\noriginalView=logos\n"


def span(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


def xmi(
    text: str = TEXT,
    *,
    topic: str = "homeschooling",
    prefix: str = "types",
    extra: str = "",
    components: list[tuple[str, str, int, int, str]] | None = None,
    relations: list[tuple[str, str, str]] | None = None,
) -> str:
    """An XMI document shaped like the release's; ``prefix`` binds the argumentation namespace."""
    if components is None:
        claim, premise = span(text, "Kids learn best at home."), span(text, "teachers cannot help everyone")
        rebuttal = span(text, "kids need friends")
        components = [
            ("Claim", "101", *claim, PROPS + "rephrasedContent=home is best\n"),
            ("Premise", "102", *premise, PROPS),
            ("Rebuttal", "103", *rebuttal, PROPS),
            ("Claim", "104", 0, 0, PROPS + "implicit=true\nrephrasedContent=schools fail\n"),
            ("ArgumentComponent", "105", *span(text, "Schools are crowded"),
             "originalView=pathos\nappealToEmotion=true\n"),
        ]
    if relations is None:
        relations = [("201", "102", "101"), ("202", "103", "101"), ("203", "102", "104")]
    p = prefix
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<xmi:XMI xmlns:cas="http:///uima/cas.ecore" xmlns:xmi="http://www.omg.org/XMI" '
        f'xmlns:{p}="http:///de/tudarmstadt/ukp/dkpro/argumentation/types.ecore" '
        f'xmlns:seg="http:///de/tudarmstadt/ukp/dkpro/core/api/segmentation/type.ecore" xmi:version="2.0">',
        '<cas:NULL xmi:id="0"/>',
        f'<cas:Sofa xmi:id="6" sofaNum="1" sofaID="_InitialView" mimeType="text" sofaString={quoteattr(text)}/>',
        f'<{p}:WebArgumentMetadata xmi:id="24" sofa="6" begin="0" end="0" author="ann" docType="forumpost" '
        f'origUrl="http://example.org/t/1" topic="{topic}" thumbsUp="3" thumbsDown="0" notes="" title="Home?"/>',
        f'<seg:Paragraph xmi:id="30" sofa="6" begin="0" end="{text.index(chr(10))}"/>',
        '<seg:Token xmi:id="31" sofa="6" begin="0" end="4"/>',
    ]
    for label, identifier, begin, end, props in components:
        parts.append(f'<{p}:{label} xmi:id="{identifier}" sofa="6" begin="{begin}" end="{end}" '
                     f'properties={quoteattr(props)}/>')
    for identifier, source, target in relations:
        parts.append(f'<{p}:ArgumentRelation xmi:id="{identifier}" sofa="6" begin="0" end="0" '
                     f'properties={quoteattr(PROPS)} source="{source}" target="{target}"/>')
    parts += [extra, '<cas:View sofa="6" members="24 30"/>', "</xmi:XMI>"]
    return "".join(parts)


def make_corpus(root: Path, n: int = 1, **kwargs) -> Path:
    folder = root / "data" / "gold.data.toulmin"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        text = f"Post number {i} is here.\n" + " ".join(f"word{i}x{j}" for j in range(12))
        body = xmi(**kwargs) if i == 0 else xmi(text, components=[("Claim", "101", *span(text, "Post"), PROPS)],
                                                 relations=[], topic=f"topic{i % 2}")
        (folder / f"{1000 + i}.xmi").write_text(body, encoding="utf-8")
    return root


def test_components_relations_and_what_is_kept_in_meta(tmp_path):
    (thread,) = read_webdiscourse(make_corpus(tmp_path, prefix="type7"))
    post = thread.post
    assert post.text == TEXT and post.author == "ann"
    assert [(c.label, c.text) for c in post.components] == [
        ("Claim", "Kids learn best at home."),
        ("Premise", "teachers cannot help everyone"),
        ("Rebuttal", "kids need friends"),
    ]
    assert all(TEXT[c.start : c.end] == c.text for c in post.components)
    assert post.components[0].attributes == {"xmi_id": "101", "view": "logos", "rephrased": "home is best"}
    assert [(r.source, r.target, r.label) for r in thread.relations] == [
        ("1000/102", "1000/101", "premise"),
        ("1000/103", "1000/101", "rebuttal"),
    ]
    assert thread.meta["implicit_claims"] == [{"id": "1000/104", "rephrased": "schools fail"}]
    assert thread.meta["implicit_relations"] == [{"source": "1000/102", "target": "1000/104", "label": "premise"}]
    assert thread.meta["appeals_to_emotion"] == [{"start": 25, "end": 44, "text": "Schools are crowded"}]
    assert thread.meta["skipped"] == {"implicit claims": 1, "relations to implicit claims": 1, "appeals to emotion": 1}
    assert thread.meta["genre"] == "forumpost" and post.meta["topic"] == "homeschooling"
    assert thread.meta["thumbs_up"] == 3 and thread.meta["paragraph_spans"] == [[0, 24]]


def test_stats_show_what_was_skipped(tmp_path, capsys):
    assert main(["stats", "--format", "webdiscourse", str(make_corpus(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "skipped            3  (appeals to emotion 1, implicit claims 1, relations to implicit claims 1)" in out


def test_java_properties():
    props = java_properties("#c\n! c\nkey=a\\=b\\u00e9\\n\nspaced : value here\ncont=one \\\n    two\nbare\n")
    assert props == {"key": "a=bé\n", "spaced": "value here", "cont": "one two", "bare": ""}


def test_split_by_document_within_topic_with_shared_text_together(tmp_path):
    root = make_corpus(tmp_path, n=24)
    folder = root / "data" / "gold.data.toulmin"
    # 1005 quotes ten words of 1003: they must land on one side.
    quoted = "Reply.\n" + " ".join(f"word3x{j}" for j in range(10))
    (folder / "1005.xmi").write_text(xmi(quoted, components=[("Claim", "9", 0, 6, PROPS)], relations=[],
                                         topic="topic1"), encoding="utf-8")
    sides = {s: [t.id for t in read_threads("webdiscourse", root, split=s, seed=13)] for s in ("train", "dev", "test")}
    every = [i for ids in sides.values() for i in ids]
    assert sorted(every) == sorted(t.id for t in read_webdiscourse(root)) and len(set(every)) == 24
    assert all(sides.values())
    side_of = {i: s for s, ids in sides.items() for i in ids}
    assert side_of["1003"] == side_of["1005"]
    threads = {t.id: t for t in read_webdiscourse(root)}
    assert threads["1003"].meta["split_group"] == "1003+1005"
    # Each topic is on every side it is large enough for.
    for topic in ("topic0", "topic1"):
        assert {s for i, s in side_of.items() if threads[i].meta["topic"] == topic} == {"train", "dev", "test"}


BAD = {
    "malformed XMI": (lambda: xmi()[:-12], "not well-formed XML"),
    "offsets leave the text": (
        lambda: xmi(components=[("Premise", "102", 10, len(TEXT) + 5, PROPS)], relations=[]),
        f"Premise xmi:id=102: end: span [10, {len(TEXT) + 5}) leaves the text",
    ),
    "unknown label": (
        lambda: xmi(components=[("Warrant", "102", 0, 4, PROPS)], relations=[]),
        "unknown annotation type 'Warrant' (label)",
    ),
    "relation to nowhere": (
        lambda: xmi(relations=[("201", "102", "999")]),
        "ArgumentRelation xmi:id=201: target '999' is no argument component",
    ),
    "empty span not implicit": (
        lambda: xmi(components=[("Claim", "101", 3, 3, PROPS)], relations=[]),
        "empty span [3, 3) that is not marked implicit",
    ),
    "two texts": (lambda: xmi(extra='<cas:Sofa xmi:id="7" sofaString="x"/>'), "expected one cas:Sofa"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_document_is_one_located_error(case, tmp_path):
    body, message = BAD[case]
    folder = tmp_path / "gold.data.toulmin"
    folder.mkdir()
    (folder / "7.xmi").write_text(body(), encoding="utf-8")
    with pytest.raises(CorpusFormatError) as caught:
        list(read_webdiscourse(tmp_path))
    assert message in str(caught.value)
    assert caught.value.source == str(folder / "7.xmi") and caught.value.line == 1


def test_cli_bad_input_exit_2(tmp_path, capsys):
    folder = tmp_path / "gold.data.toulmin"
    folder.mkdir()
    (folder / "7.xmi").write_text(BAD["unknown label"][0](), encoding="utf-8")
    assert main(["stats", "--format", "webdiscourse", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "7.xmi:1: unknown annotation type 'Warrant'" in err


def test_not_the_release(tmp_path):
    with pytest.raises(CorpusFormatError, match="expected one gold.data.toulmin/ folder"):
        read_webdiscourse(tmp_path)
