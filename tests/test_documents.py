"""Reading files: text and PDF lines with page numbers, metadata, and every kind of bad input."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import pytest
from pypdf import PdfWriter

from rapportsok.documents.files import (
    DEFAULT_MAX_BYTES,
    doc_id,
    list_documents,
    load_metadata,
    metadata_for,
    read_lines,
    year_from_name,
)
from rapportsok.errors import CorpusError
from rapportsok.indexing.build import corpus_state
from rapportsok.passages import read_document
from rapportsok.records import Document, Passage
from rapportsok.settings import Settings

GOOD_TEXT = "Bakgrunn\n\nDette er en kort tekst om rusreformen og behandling av rusmiddelmisbrukere.\n"


class Folder(NamedTuple):
    documents: list[Document]
    passages: list[Passage]
    warnings: list[str]


def read_folder(folder: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Folder:
    """Every document of a corpus folder through read_document, as a build reads them, and one
    warning for each file that is not read."""
    metadata, warnings = load_metadata(folder)
    paths, notes = list_documents(folder, max_bytes)
    read = Folder([], [], warnings + notes)
    for path in paths:
        try:
            document, passages = read_document(path, metadata_for(metadata, path), max_bytes=max_bytes)
        except CorpusError as exc:
            read.warnings.append(str(exc))
            continue
        read.documents.append(document)
        read.passages.extend(passages)
    return read


def test_text_lines_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "notat.txt"
    path.write_text("første linje\nandre linje\n", encoding="utf-8")
    lines = read_lines(path)
    assert [(line.text, line.lineno, line.page) for line in lines] == [
        ("første linje", 1, None),
        ("andre linje", 2, None),
    ]


def test_pdf_lines_carry_page_index(tmp_path: Path, make_pdf) -> None:
    path = make_pdf(tmp_path / "a.pdf", ["Side en.", "Side to."])
    lines = [line for line in read_lines(path) if line.text]
    assert [(line.text, line.page, line.lineno) for line in lines] == [("Side en.", 1, None), ("Side to.", 2, None)]


def test_pdf_page_labels_give_printed_numbers(tmp_path: Path, make_pdf) -> None:
    path = make_pdf(tmp_path / "a.pdf", ["Side en.", "Side to."], labels={0: 17})
    assert [line.page for line in read_lines(path) if line.text] == [17, 18]


def test_metadata_and_fallbacks(tmp_path: Path) -> None:
    (tmp_path / "rapport-2019.txt").write_text(GOOD_TEXT, encoding="utf-8")
    document, _ = read_document(tmp_path / "rapport-2019.txt", None)
    assert (document.title, document.year, document.kind) == ("Bakgrunn", 2019, None)
    document, _ = read_document(tmp_path / "rapport-2019.txt", {"title": "T", "year": 2004, "kind": "k"})
    assert (document.title, document.year, document.kind) == ("T", 2004, "k")
    assert len(document.sha256) == 64
    assert year_from_name("meld-st-5-2024-2025") == 2024


def test_broken_metadata_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "metadata.json").write_text("{not json", encoding="utf-8")
    metadata, warnings = load_metadata(tmp_path)
    assert metadata == {} and "metadata.json" in warnings[0]


def test_missing_corpus_folder_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        corpus_state(Settings.resolve(tmp_path / "nope", tmp_path / "index"))
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match="is not a folder"):
        corpus_state(Settings.resolve(tmp_path / "file.txt", tmp_path / "index"))


def _bad_inputs(folder: Path, make_pdf) -> dict[str, str]:
    """Writes one file per kind of bad input; returns file name -> expected reason."""
    (folder / "tom.txt").write_bytes(b"")
    (folder / "binaer.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "latin1.txt").write_bytes("Rusreformen gjelder behandling på sykehus.".encode("latin-1"))
    (folder / "korrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    encrypted = make_pdf(folder / "hemmelig.pdf", ["Hemmelig tekst om overdoser."])
    writer = PdfWriter(clone_from=encrypted)
    writer.encrypt(user_password="secret", owner_password="owner")
    writer.write(encrypted)
    make_pdf(folder / "skannet.pdf", [""])
    (folder / "notater.docx").write_bytes(b"PK\x03\x04")
    (folder / "notater.rtf").write_bytes(b"{\\rtf1 Notater}")
    return {
        "tom.txt": "empty file",
        "binaer.txt": "binary file",
        "latin1.txt": "not UTF-8",
        "korrupt.pdf": "corrupt PDF",
        "hemmelig.pdf": "encrypted PDF",
        "skannet.pdf": "no text layer",
        "notater.docx": "corrupt file (not a zip archive)",
        "notater.rtf": "ignored",
    }


def test_bad_files_give_one_warning_each_and_lose_nothing_else(tmp_path: Path, make_pdf) -> None:
    expected = _bad_inputs(tmp_path, make_pdf)
    (tmp_path / "god.txt").write_text(GOOD_TEXT, encoding="utf-8")
    make_pdf(tmp_path / "godt.pdf", ["Forslag 1:\nEtabler lavterskel tilbud.\nBrødtekst om tilbudet."])
    (tmp_path / "README.md").write_text("not a document", encoding="utf-8")

    corpus = read_folder(tmp_path)

    assert sorted(d.doc for d in corpus.documents) == ["god", "godt"]
    assert len(corpus.warnings) == len(expected)
    for name, reason in expected.items():
        assert [w for w in corpus.warnings if name in w and reason in w], (name, corpus.warnings)
    assert {p.doc for p in corpus.passages} == {"god", "godt"}


@pytest.mark.parametrize("name", ["tom.txt", "binaer.txt", "latin1.txt", "korrupt.pdf", "hemmelig.pdf", "skannet.pdf"])
def test_read_document_raises_with_the_reason(tmp_path: Path, make_pdf, name: str) -> None:
    reason = _bad_inputs(tmp_path, make_pdf)[name]
    with pytest.raises(CorpusError, match=reason):
        read_document(tmp_path / name, None)


def test_pdf_with_empty_user_password_is_read(tmp_path: Path, make_pdf) -> None:
    path = make_pdf(tmp_path / "aapen.pdf", ["Tekst som alle kan lese om behandling."])
    writer = PdfWriter(clone_from=path)
    writer.encrypt(user_password="", owner_password="owner")
    writer.write(path)
    _, passages = read_document(path, None)
    assert "alle kan lese" in passages[0].text


# ---------------------------------------------------------------- the corpus boundary, names, metadata, size


def test_nothing_outside_the_corpus_folder_is_read(tmp_path: Path) -> None:
    outside = tmp_path / "utenfor"
    outside.mkdir()
    (outside / "hemmelig.txt").write_text("Hemmelig tekst om root og bash.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "god.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (corpus / "lenke-inne.txt").symlink_to(corpus / "god.txt")  # a link inside the corpus is fine
    (corpus / "passwd.txt").symlink_to(outside / "hemmelig.txt")
    (corpus / "mappe.txt").symlink_to(outside)
    (corpus / "brutt.txt").symlink_to(tmp_path / "finnes-ikke.txt")
    os.mkfifo(corpus / "fifo.txt")  # reading it would block forever
    (corpus / "metadata.json").symlink_to(outside / "hemmelig.txt")

    result = read_folder(corpus)

    assert sorted(d.doc for d in result.documents) == ["god", "lenke-inne"]
    assert all("Hemmelig" not in p.text for p in result.passages)
    expected = {
        "passwd.txt": "outside the corpus",
        "mappe.txt": "outside the corpus",
        "brutt.txt": "broken link",
        "fifo.txt": "not a regular file",
        "metadata.json": "outside the corpus",
    }
    assert len(result.warnings) == len(expected), result.warnings
    for name, reason in expected.items():
        assert [w for w in result.warnings if name in w and reason in w], (name, result.warnings)
    for name in ("passwd.txt", "fifo.txt"):  # read directly, too: refused
        with pytest.raises(CorpusError, match="outside the corpus|not a regular file"):
            read_document(corpus / name, None)


def test_a_name_that_is_not_utf8_gets_a_safe_stable_id(tmp_path: Path) -> None:
    name = os.fsdecode(b"navn-\xe6\xf8\xe5 (kopi)#2.txt")  # Windows-1252 bytes, as copied from an old share
    (tmp_path / name).write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / os.fsdecode(b"\xff\xfe.txt")).write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / "..txt").write_text(GOOD_TEXT, encoding="utf-8")

    documents = {d.doc: d for d in read_folder(tmp_path).documents}

    assert set(documents) == {"navn-æøå-kopi-2", "ÿþ", doc_id(tmp_path / "..txt")}
    assert doc_id(tmp_path / "..txt").startswith("dokument-")  # nothing usable in the name: a hash of it
    assert documents["navn-æøå-kopi-2"].path == "navn-\\xe6\\xf8\\xe5 (kopi)#2.txt"  # bytes shown escaped
    assert read_folder(tmp_path).documents == list(documents.values())  # stable
    for doc in documents:
        assert re.fullmatch(r"[\w][\w.-]*", doc) and quote(doc, safe="-_.") == quote(doc)  # only letters to escape
        doc.encode("utf-8")  # no surrogates left


@pytest.mark.parametrize(
    ("entry", "kept", "warned"),
    [
        ('{"year": Infinity, "title": "T"}', {"title": "T"}, "year"),
        ('{"year": 1e400, "kind": "k"}', {"kind": "k"}, "year"),
        ('{"year": "2004", "kind": 5}', {"year": 2004}, "kind"),
        ('{"title": ' + "[" * 500 + "]" * 500 + ', "year": 2001}', {"year": 2001}, "title"),
        ('{"title": {"a": 1}, "kind": null}', {"kind": None}, "title"),
        ('"ikke et objekt"', None, "not an object"),
    ],
)
def test_metadata_of_the_wrong_type_is_one_warning_naming_the_entry(tmp_path: Path, entry, kept, warned) -> None:
    (tmp_path / "metadata.json").write_text('{"rapport": ' + entry + ', "annen": {"title": "A"}}', encoding="utf-8")
    metadata, warnings = load_metadata(tmp_path)
    assert len(warnings) == 1 and "'rapport'" in warnings[0] and warned in warnings[0], warnings
    assert metadata.get("rapport") == kept and metadata["annen"] == {"title": "A"}


def test_metadata_nested_too_deeply_is_one_warning(tmp_path: Path) -> None:
    (tmp_path / "metadata.json").write_text('{"rapport": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    (tmp_path / "rapport-2019.txt").write_text(GOOD_TEXT, encoding="utf-8")
    corpus = read_folder(tmp_path)
    assert [d.year for d in corpus.documents] == [2019]
    assert len(corpus.warnings) == 1 and "nested too deeply" in corpus.warnings[0]


def test_files_over_the_size_limit_are_skipped_with_a_warning(tmp_path: Path, make_pdf) -> None:
    (tmp_path / "stor.txt").write_text("Ord om rusreformen. " * 1000, encoding="utf-8")  # 20 KB
    make_pdf(tmp_path / "stor.pdf", [f"Ord om rusreformen, side {n}. " * 100 for n in range(8)])  # ~23 KB of text
    (tmp_path / "liten.txt").write_text(GOOD_TEXT, encoding="utf-8")
    limit = Settings.resolve(environ={"RAPPORTSOK_MAX_FILE_MB": "0.01"}).max_file_bytes
    corpus = read_folder(tmp_path, limit)
    assert [d.doc for d in corpus.documents] == ["liten"]
    assert len(corpus.warnings) == 2 and all("over the limit of 0.01 MB" in w for w in corpus.warnings)
    assert [d.doc for d in read_folder(tmp_path).documents] == ["liten", "stor"]  # the default limit, 10 MB
