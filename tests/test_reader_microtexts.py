"""The microtexts reader on small invented argument graphs written to ``tmp_path``."""

from __future__ import annotations

from pathlib import Path

import pytest

from argmine.cli import main
from argmine.errors import CorpusFormatError, InputError
from argmine.readers import read_threads
from argmine.readers.microtexts import read_microtexts

EDUS = [
    ("e1", "Bikes are slow in the rain."),
    ("e2", "But cities should build more bike lanes,"),
    ("e3", "because lanes make cycling safe."),
    ("e4", "Safety is what keeps people off bikes."),
]
ADUS = [("a1", "opp"), ("a2", "pro"), ("a3", "pro"), ("a4", "pro")]
EDGES = [
    ("c1", "e1", "a1", "seg"),
    ("c2", "e2", "a2", "seg"),
    ("c3", "e3", "a3", "seg"),
    ("c4", "e4", "a4", "seg"),
    ("c5", "a1", "a2", "reb"),
    ("c6", "a3", "a2", "sup"),
    ("c7", "a4", "c6", "add"),
]


def graph_xml(graph_id: str, edus=EDUS, adus=ADUS, edges=EDGES, *, topic: str | None = "bike_lanes") -> str:
    head = f'<arggraph id="{graph_id}"' + (f' topic_id="{topic}" stance="pro"' if topic else "") + ">"
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", head]
    lines += [f'  <edu id="{i}"><![CDATA[{t}]]></edu>' for i, t in edus]
    lines += [f'  <adu id="{i}" type="{r}"/>' for i, r in adus]
    lines += [f'  <edge id="{i}" src="{s}" trg="{t}" type="{k}"/>' for i, s, t, k in edges]
    return "\n".join(lines + ["</arggraph>"]) + "\n"


def make_corpus(root: Path, n: int = 12, *, language: str = "en", txt: bool = True) -> Path:
    """A release-shaped folder: ``corpus/<language>/micro_tNN.xml`` (+ .txt), three topics and some loners."""
    folder = root / "corpus" / language
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        topic = f"topic{i % 3}" if i < n - 4 else None
        write(folder, f"micro_t{i:02d}", graph_xml(f"micro_t{i:02d}", topic=topic), txt=txt)
    return root


def write(folder: Path, stem: str, xml: str, *, txt: bool = True, edus=EDUS) -> Path:
    (folder / f"{stem}.xml").write_text(xml, encoding="utf-8")
    if txt:
        (folder / f"{stem}.txt").write_text(" ".join(t for _, t in edus), encoding="utf-8")
    return folder / f"{stem}.xml"


def test_text_view_offsets_labels_stances_relations(tmp_path):
    root = make_corpus(tmp_path, n=1)
    (thread,) = read_microtexts(root)
    text = " ".join(t for _, t in EDUS)
    assert thread.post.text == text and thread.comments == ()
    components = thread.post.components
    assert [c.text for c in components] == [t for _, t in EDUS]
    assert all(text[c.start : c.end] == c.text for c in components)
    assert components[2].start == len(EDUS[0][1]) + 1 + len(EDUS[1][1]) + 1
    assert [c.label for c in components] == ["Premise", "Claim", "Premise", "Premise"]
    assert [c.stance.label if c.stance else None for c in components] == ["opp", None, "pro", "pro"]
    assert components[0].attributes == {"adu": "a1", "edus": ["e1"], "role": "opp"}
    assert thread.meta["central_claim"] == "micro_t00/a2"
    assert thread.meta["topic_id"] is None and thread.meta["split_group"] == "text:micro_t00"
    # The add edge aims at edge c6: it targets c6's source, a3 (its co-premise); the graph is kept whole.
    assert [(r.source[-2:], r.target[-2:], r.label) for r in thread.relations] == [
        ("a1", "a2", "reb"),
        ("a3", "a2", "sup"),
        ("a4", "a3", "add"),
    ]
    assert {"id": "c7", "source": "a4", "target": "c6", "type": "add"} in thread.meta["edges"]


def test_stance_view_central_claim_is_the_post(tmp_path):
    root = make_corpus(tmp_path, n=1)
    (thread,) = read_threads("microtexts_stance", root)
    assert thread.post.text == "But cities should build more bike lanes,"
    assert [c.label for c in thread.post.components] == ["Claim"]
    assert [(c.text, c.stance.label, c.reply_to) for c in thread.comments] == [
        ("Bikes are slow in the rain.", "opp", "micro_t00"),
        ("because lanes make cycling safe.", "pro", "micro_t00"),
        ("Safety is what keeps people off bikes.", "pro", "micro_t00"),
    ]
    whole = thread.meta["text"]
    for comment in thread.comments:
        assert whole[comment.meta["start"] : comment.meta["end"]] == comment.text
        assert [c.text for c in comment.components] == [comment.text]
    # Same component ids, so the relations are those of the text view.
    (text_view,) = read_threads("microtexts", root)
    assert thread.relations == text_view.relations


def test_joint_of_adjacent_edus_makes_one_component(tmp_path):
    folder = make_corpus(tmp_path, n=0) / "corpus" / "en"
    edges = [("j", "e2", "J1", "seg"), ("j2", "e3", "J1", "seg"), ("c9", "J1", "a2", "seg")]
    edges += [e for e in EDGES if e[0] in ("c1", "c4", "c5")] + [("c8", "a4", "a2", "sup")]
    xml = graph_xml("m", adus=[("a1", "opp"), ("a2", "pro"), ("a4", "pro")], edges=edges)
    write(folder, "m", xml.replace('  <adu id="a1"', '  <joint id="J1"/>\n  <adu id="a1"'))
    (thread,) = read_microtexts(tmp_path)
    claim = thread.post.components[1]
    assert claim.text == "But cities should build more bike lanes, because lanes make cycling safe."
    assert claim.attributes["edus"] == ["e2", "e3"]


def test_german_by_folder_or_language(tmp_path):
    make_corpus(tmp_path, n=2)
    make_corpus(tmp_path, n=2, language="de")
    assert {t.meta["language"] for t in read_microtexts(tmp_path / "corpus" / "de")} == {"de"}
    assert {t.meta["language"] for t in read_microtexts(tmp_path, language="de")} == {"de"}
    assert {t.meta["language"] for t in read_threads("microtexts", tmp_path)} == {"en"}
    with pytest.raises(InputError, match="holds the 'de' texts"):
        read_microtexts(tmp_path / "corpus" / "de", language="en")


def test_split_by_topic_is_seeded_and_complete(tmp_path):
    root = make_corpus(tmp_path, n=20)
    sides = {s: list(read_microtexts(root, split=s)) for s in ("train", "dev", "test")}
    ids = [t.id for threads in sides.values() for t in threads]
    assert sorted(ids) == sorted(t.id for t in read_microtexts(root)) and len(set(ids)) == 20
    assert all(sides.values())
    groups = {s: {t.meta["split_group"] for t in threads} for s, threads in sides.items()}
    assert not groups["train"] & groups["dev"] and not groups["train"] & groups["test"]
    assert not groups["dev"] & groups["test"]
    # Every text of a topic is on one side.
    for threads in sides.values():
        for thread in threads:
            assert thread.meta["split"] in sides and thread.meta["split_group"].startswith(("topic:", "text:"))
    again = [t.id for t in read_threads("microtexts", root, split="dev", seed=13)]
    assert again == [t.id for t in sides["dev"]]
    other = {t.id for t in read_threads("microtexts", root, split="dev", seed=14)}
    assert other != set(again) or len(again) == 0


BAD = {
    "malformed XML": ("<arggraph id='x'><edu id='e1'>text</arggraph>", "not well-formed XML", 1),
    "unknown ADU type": (graph_xml("x", adus=[("a1", "maybe")] + ADUS[1:]), "type 'maybe' is not one of pro, opp", 7),
    "unknown edge type": (
        graph_xml("x", edges=EDGES[:-1] + [("c7", "a4", "c6", "join")]),
        "type 'join' is not one of",
        17,
    ),
    "edge to nowhere": (
        graph_xml("x", edges=EDGES[:-1] + [("c7", "a4", "c99", "add")]),
        "target 'c99' is neither an adu nor an argumentative edge",
        17,
    ),
    "unknown element": (
        graph_xml("x").replace("</arggraph>", "<note id='n'/></arggraph>"), "unknown element <note>", 18
    ),
    "two central claims": (graph_xml("x", edges=EDGES[:-1]), "expected one central claim", 2),
    "ungrounded ADU": (graph_xml("x", edges=EDGES[1:]), "<adu id='a1'>: no seg edge grounds it", None),
    "empty EDU": (graph_xml("x", edus=[("e1", " ")] + EDUS[1:]), "<edu id='e1'>: the text is empty", 3),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_graph_is_one_located_error(case, tmp_path):
    xml, message, line = BAD[case]
    folder = tmp_path / "corpus" / "en"
    folder.mkdir(parents=True)
    path = write(folder, "micro_x", xml, txt=False)
    with pytest.raises(CorpusFormatError) as caught:
        list(read_microtexts(tmp_path))
    assert message in str(caught.value)
    assert caught.value.source == str(path) and caught.value.line == line


def test_txt_that_differs_from_the_edus_is_an_error(tmp_path):
    folder = tmp_path / "corpus" / "en"
    folder.mkdir(parents=True)
    write(folder, "micro_x", graph_xml("micro_x"))
    (folder / "micro_x.txt").write_text("Something else.", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="differs from the EDUs of micro_x.xml"):
        list(read_microtexts(tmp_path))


def test_not_a_microtexts_folder(tmp_path):
    with pytest.raises(CorpusFormatError, match="not the microtexts release"):
        read_microtexts(tmp_path)
    with pytest.raises(InputError, match="takes no post option"):
        read_threads("microtexts", tmp_path, post="x")


def test_cli_stats_and_bad_input_exit_2(tmp_path, capsys):
    root = make_corpus(tmp_path, n=3)
    assert main(["stats", "--format", "microtexts", str(root)]) == 0
    out = capsys.readouterr().out
    assert "components" in out and "Claim 3" in out and "opp 3" in out
    (root / "corpus" / "en" / "micro_t01.xml").write_text("<arggraph", encoding="utf-8")
    assert main(["stats", "--format", "microtexts_stance", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "micro_t01.xml:1: not well-formed XML" in err
