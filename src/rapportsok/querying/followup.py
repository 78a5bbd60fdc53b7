"""Follow-up links: for each numbered proposal, the passages of the other documents that take up the same measure.

The evidence was computed when the index was built (indexing/followup_evidence.py) and is kept
in the build; asking blends it into a ranking with one report's links spread among the others'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engines.base import ProposalEvidence
from ..errors import NotFound, QueryError
from ..records import Hit
from ..text.tokens import MIN_PART
from .index import Index
from .search import MAX_K

REPEAT_COST = 0.5  # standard scores a further link of a report already listed must stand above another report's
SHARED_WORDS = 8  # words a link shares with the proposal, at most


@dataclass(frozen=True)
class Link:
    """A passage that takes a proposal up: the hit, its document's year and the words it shares with the proposal."""

    hit: Hit
    year: int | None
    shared: list[str]

    def as_dict(self) -> dict[str, Any]:
        return self.hit.as_dict() | {"year": self.year, "shared": self.shared}


@dataclass(frozen=True)
class FollowUp:
    """One proposal and the passages of other documents that take it up, best first."""

    doc: str
    proposal: int
    headline: str
    links: list[Link]

    def as_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "proposal": self.proposal,
            "headline": self.headline,
            "links": [link.as_dict() for link in self.links],
        }


def _entries(index: Index) -> dict[tuple[str, int], ProposalEvidence]:
    """The build's evidence by (doc, proposal); IndexMissing when it has none of this version."""
    return {(e.doc, e.proposal): e for e in index.followups().proposals}


def followup(index: Index, doc: str, proposal: int, k: int = 5) -> FollowUp:
    """The k passages of other documents that best take up the proposal, best first."""
    if not 1 <= k <= MAX_K:
        raise QueryError(f"k must be between 1 and {MAX_K}, not {k}")
    index.document(doc)
    entry = _entries(index).get((doc, proposal))
    if entry is None:
        known = ", ".join(str(p.proposal) for p in index.proposals(doc)) or "none"
        raise NotFound(f"{doc} has no proposal {proposal} with follow-up links (its proposals: {known})")
    ids, dense, words, moments = _gather(entry)
    blended = (_standardised(dense, moments[:, :3]) + _standardised(words, moments[:, [0, 3, 4]])) / 2
    order, scores = _diverse(blended, [index.passage(i).doc for i in ids], k)
    text = " ".join(p.text for p in index.doc_passages(doc) if p.proposal == proposal and p.kind != "footnote")
    links = []
    for rank, (i, score) in enumerate(zip(order, scores, strict=True), start=1):
        passage = index.passage(ids[i])
        shared = _shared(index, entry.headline, text, passage.text)
        links.append(Link(Hit(rank, score, passage), index.document(passage.doc).year, shared))
    return FollowUp(doc, proposal, entry.headline, links)


def proposal_doc(index: Index, doc: str | None, proposal: int) -> str:
    """The document of proposal N: `doc` when given, else the one document that has such a proposal."""
    if doc is not None:
        return doc
    docs = sorted({p.doc for p in index.proposals() if p.proposal == proposal})
    if len(docs) == 1:
        return docs[0]
    if not docs:
        raise NotFound(f"no document has a proposal {proposal}")
    raise QueryError(f"several documents have a proposal {proposal} ({', '.join(docs)}); choose one with --doc")


def followups(index: Index, doc: str | None = None, k: int = 3) -> list[FollowUp]:
    """Every proposal (of one document, or all) with its k best links, in document order."""
    return [followup(index, p.doc, p.proposal, k) for p in index.proposals(doc)]


def _gather(entry: ProposalEvidence) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Candidate ids, dense and lexical evidence, and each target's signal moments (one row per target)."""
    rows = [c for target in entry.targets.values() for c in target.candidates]
    moments = np.array([target.moments for target in entry.targets.values()], float).reshape(-1, 5)
    return [r[0] for r in rows], np.array([r[1] for r in rows], float), np.array([r[2] for r in rows], float), moments


def _standardised(values: np.ndarray, moments: np.ndarray) -> np.ndarray:
    """Standard scores over every passage of the target documents, from their stored count, sum
    and sum of squares. Unlike min-max, one outlying passage does not squash the rest, so the
    dense and lexical evidence weigh alike where it matters: at the top (bench/followup)."""
    count, total, squares = moments.sum(axis=0)
    if count < 2:
        return np.zeros_like(values)
    mean = total / count
    spread = np.sqrt(max(squares / count - mean * mean, 0.0))
    return (values - mean) / spread if spread > 0 else np.zeros_like(values)


def _diverse(scores: np.ndarray, docs: list[str], k: int) -> tuple[list[int], list[float]]:
    """The k best and the scores they were chosen by: each link of a report counts REPEAT_COST
    lower per link of that report already chosen. A proposal is usually taken up in several
    reports (before and after it), and the one that discusses it at length should not hide the
    others unless it leads by far. The chosen scores never rise, as penalties only grow."""
    names, owner = np.unique(np.array(docs, dtype=object), return_inverse=True)
    listed = np.zeros(len(names))
    left = scores.astype(float).copy()
    order: list[int] = []
    chosen: list[float] = []
    for _ in range(min(k, len(scores))):
        adjusted = left - REPEAT_COST * listed[owner]
        best = int(np.argmax(adjusted))
        order.append(best)
        chosen.append(float(adjusted[best]))
        listed[owner[best]] += 1
        left[best] = -np.inf
    return order, chosen


def _shared(index: Index, headline: str, body: str, text: str) -> list[str]:
    """The words of the linked passage that match the proposal's: those of its headline first,
    then the body's rarest (a body shares common words with almost anything)."""
    analyzer = index.lexical.analyzer
    in_headline = analyzer.matching_words(headline, text)
    in_body = analyzer.matching_words(body, text) - in_headline
    rare = (w for w in in_body if len(w) >= MIN_PART and not w.isdigit())
    rarest = sorted(rare, key=lambda w: (analyzer.frequency(w), w))
    return (sorted(in_headline) + rarest)[:SHARED_WORDS]
