"""Passage statistics and dev-key coverage: how many gold snippets lie whole inside one passage.

    python bench/passages_check.py GOLD.jsonl [--corpus corpus] [--max-words 120 200 260 330]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from rapportsok.documents.files import list_documents, load_metadata, metadata_for
from rapportsok.errors import CorpusError
from rapportsok.indexing.build import PASSAGE_WORDS
from rapportsok.passages import read_document
from rapportsok.records import Passage

ROOT = Path(__file__).resolve().parent.parent

# Leftovers that should never reach a passage.
LEFTOVERS = {
    "page header": re.compile(r"\d{4}–\d{4} Meld\. St\. 5 \d+|\d+ Meld\. St\. 5 \d{4}–\d{4}"),
    "running title": re.compile(r"Trygghet, fellesskap og verdighet"),
    "section footer": re.compile(r"Rapport om narkotika \|"),
    "glued hyphen": re.compile(r"\b[a-zæøå]{2,}- (?!og\b|eller\b|samt\b|enn\b)[a-zæøå]{2,}"),
    "footnote start": re.compile(r"(?:^|\n)\d{1,3}\s{2,}[A-ZÆØÅ]"),
}


def norm(text: str) -> str:
    """The evaluation's normalisation: lowercase, keep only letters and digits."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def load_keys(gold: Path) -> list[tuple[str, str, str]]:
    keys = []
    for line in gold.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            keys += [(item["id"], r["doc"], r["key"]) for r in item["relevant"]]
    return keys


def read_corpus(corpus_dir: Path, max_words: int) -> tuple[list[Passage], list[str]]:
    """The passages of every document in corpus_dir, cut at max_words as a build cuts them, and
    one warning per file that is not read."""
    metadata, warnings = load_metadata(corpus_dir)
    paths, notes = list_documents(corpus_dir)
    warnings += notes
    passages: list[Passage] = []
    for path in paths:
        try:
            passages += read_document(path, metadata_for(metadata, path), max_words)[1]
        except CorpusError as exc:
            warnings.append(str(exc))
    return passages, warnings


def coverage(passages: list[Passage], keys) -> tuple[int, list[tuple[str, str, str]]]:
    texts: dict[str, list[str]] = {}
    for p in passages:
        texts.setdefault(p.doc, []).append(norm(p.text))
    missed = [k for k in keys if not any(norm(k[2]) in t for t in texts.get(k[1], []))]
    return len(keys) - len(missed), missed


def report(corpus_dir: Path, gold: Path, max_words: int, verbose: bool) -> None:
    start = time.perf_counter()
    passages, warnings = read_corpus(corpus_dir, max_words)
    elapsed = time.perf_counter() - start
    print(f"== max_words={max_words}: {len(passages)} passages in {elapsed:.2f}s")
    if verbose:
        for doc, n in Counter(p.doc for p in passages).items():
            kinds = Counter(p.kind for p in passages if p.doc == doc)
            print(f"  {doc}: {n} passages {dict(kinds)}")
        words = sorted(len(p.text.split()) for p in passages)
        q = statistics.quantiles(words, n=10)
        print(f"  words: min {words[0]}, p10 {q[0]:.0f}, median {statistics.median(words):.0f}, "
              f"p90 {q[-1]:.0f}, max {words[-1]}")
        for name, pattern in LEFTOVERS.items():
            hits = [p for p in passages if pattern.search(p.text)]
            print(f"  leftover {name}: {len(hits)}")
            for p in hits[:5]:
                m = pattern.search(p.text)
                print(f"    {p.passage_id}: …{p.text[max(0, m.start() - 30): m.end() + 30]!r}")
        for w in warnings:
            print(f"  warning: {w}")
    keys = load_keys(gold)
    found, missed = coverage(passages, keys)
    print(f"  coverage: {found}/{len(keys)} = {found / len(keys):.1%}")
    for qid, doc, key in missed:
        print(f"    missed {qid} {doc}: {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("gold", type=Path, help="a gold set (JSON lines), e.g. the evaluation data's dev.jsonl")
    parser.add_argument("--max-words", type=int, nargs="*", default=sorted({120, 200, PASSAGE_WORDS, 330}))
    args = parser.parse_args()
    for i, max_words in enumerate(args.max_words):
        report(args.corpus, args.gold, max_words, verbose=i == 0 or len(args.max_words) == 1)


if __name__ == "__main__":
    main()
