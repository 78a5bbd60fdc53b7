"""Follow-up links: for each numbered proposal, the passages of the other documents that take up the same measure.

The evidence was computed when the index was built (indexing/followup_evidence.py) and is kept
in the build; asking blends it into a ranking with one report's links spread among the others'.
"""

from __future__ import annotations

import re
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
SHORT_SENTENCE = 8  # words: a shorter sentence is shown with the one before it


# A sentence that says what became of a proposal: the proposal (or measure, or plan) and what was
# done with it («Forslaget ble ikke fulgt opp», «gikk ikke videre med dette forslaget», «ble innført»).
OUTCOME = re.compile(
    r"\b(?:forslag\w*|foreslo|foreslått\w*|anbefaling\w*|tiltak\w*|ordning\w*)\b[^.!?]{0,200}?"
    r"\b(?:ble|blir|er|har|har blitt|er blitt)\s+(?:ikke\s+|likevel\s+|delvis\s+|senere\s+)*"
    r"(?:fulgt opp|gjennomført|innført|vedtatt|avvist|etablert|iverksatt|videreført|evaluert|realisert)\b"
    r"|\bgikk\s+(?:ikke\s+)?videre\s+med\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Link:
    """A passage that takes a proposal up: the hit, its document's year, the words it shares with
    the proposal, whether it was written after the proposal, the sentence that matches the proposal
    best and whether the passage says what became of a proposal."""

    hit: Hit
    year: int | None
    shared: list[str]
    after: bool = True
    sentence: tuple[int, int] | None = None  # (start, end) in the passage's text
    outcome: bool = False

    def sentence_text(self) -> str:
        """The best-matching sentence on one line (the passage's start when it has none)."""
        return self.hit.passage.span(*(self.sentence or (0, len(self.hit.passage.text))))

    def as_dict(self) -> dict[str, Any]:
        return self.hit.as_dict() | {
            "year": self.year,
            "shared": self.shared,
            "when": "after" if self.after else "before",
            "sentence": self.sentence_text(),
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class FollowUp:
    """One proposal and the passages of other documents that take it up, best first."""

    doc: str
    proposal: int
    headline: str
    links: list[Link]
    year: int | None = None  # of the proposal's document

    def after(self) -> list[Link]:
        """«Fulgt opp i»: the links from reports of the proposal's year or later, those that say
        what became of a proposal first, then by rank."""
        return sorted((link for link in self.links if link.after), key=lambda link: (not link.outcome, link.hit.rank))

    def before(self) -> list[Link]:
        """«Omtalt før forslaget»: the links from earlier reports, by rank."""
        return [link for link in self.links if not link.after]

    def as_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "proposal": self.proposal,
            "headline": self.headline,
            "year": self.year,
            "links": [link.as_dict() for link in self.links],
        }


def _entries(index: Index) -> dict[tuple[str, int], ProposalEvidence]:
    """The build's evidence by (doc, proposal); IndexMissing when it has none of this version."""
    return {(e.doc, e.proposal): e for e in index.followups().proposals}


def followup(index: Index, doc: str, proposal: int, k: int = 5) -> FollowUp:
    """The k passages of other documents that best take up the proposal, best first."""
    if not 1 <= k <= MAX_K:
        raise QueryError(f"k must be between 1 and {MAX_K}, not {k}", f"-k må være mellom 1 og {MAX_K}, ikke {k}.")
    index.document(doc)
    entry = _entries(index).get((doc, proposal))
    if entry is None:
        known = ", ".join(str(p.proposal) for p in index.proposals(doc))
        raise NotFound(
            f"{doc} has no proposal {proposal} with follow-up links (its proposals: {known or 'none'})",
            f"{index.names[doc]} har ikke noe forslag {proposal} (forslagene: {known or 'ingen'}).",
        )
    ids, dense, words, moments = _gather(entry)
    blended = (_standardised(dense, moments[:, :3]) + _standardised(words, moments[:, [0, 3, 4]])) / 2
    order, scores = _diverse(blended, [index.passage(i).doc for i in ids], k)
    text = " ".join(p.text for p in index.doc_passages(doc) if p.proposal == proposal and p.kind != "footnote")
    year = index.document(doc).year
    closeness = index.sentence_scores(index.query_vector(entry.headline)) if order else np.zeros(0)
    links = []
    for rank, (i, score) in enumerate(zip(order, scores, strict=True), start=1):
        passage = index.passage(ids[i])
        shared = _shared(index, entry.headline, text, passage.text)
        linked_year = index.document(passage.doc).year
        after = year is None or linked_year is None or linked_year >= year
        sentences = index.sentences(passage.passage_id)
        sentence, outcome = _best_sentence(index, entry.headline, passage.text, sentences, closeness)
        links.append(Link(Hit(rank, score, passage), linked_year, shared, after, sentence, outcome))
    return FollowUp(doc, proposal, entry.headline, links, year)


def _best_sentence(
    index: Index, headline: str, text: str, sentences: list[tuple[int, int, int]], closeness: np.ndarray
) -> tuple[tuple[int, int] | None, bool]:
    """The sentences to show of a linked passage, and whether they say what became of the proposal.

    A sentence that says what became of a proposal («Forslaget ble ikke fulgt opp.») is shown with
    the one before it, which says what the proposal was; it counts for this proposal when that
    pair or the sentence after it shares a word with the headline (the closest such pair to the
    headline is shown) (a passage may tell the fate of several proposals). Else the
    sentence closest to the headline, a short one with the sentence before it."""
    if not sentences:
        return None, False
    told = [i for i, s in enumerate(sentences) if OUTCOME.search(" ".join(text[s[1] : s[2]].split()))]
    for at in sorted(told, key=lambda i: -max(closeness[sentences[j][0]] for j in (max(i - 1, 0), i))):
        window = text[sentences[max(at - 1, 0)][1] : sentences[min(at + 1, len(sentences) - 1)][2]]
        if index.lexical.matching_words(headline, window):
            return (sentences[max(at - 1, 0)][1], sentences[at][2]), True
    at = max(range(len(sentences)), key=lambda i: closeness[sentences[i][0]])
    start, end = sentences[at][1:]
    if at > 0 and len(text[start:end].split()) < SHORT_SENTENCE:
        start = sentences[at - 1][1]
    return (start, end), False


def proposal_doc(index: Index, doc: str | None, proposal: int) -> str:
    """The document of proposal N: `doc` when given, else the one document that has such a proposal."""
    if doc is not None:
        return doc
    docs = sorted({p.doc for p in index.proposals() if p.proposal == proposal})
    if len(docs) == 1:
        return docs[0]
    if not docs:
        raise NotFound(f"no document has a proposal {proposal}", f"Ingen rapport har et forslag {proposal}.")
    raise QueryError(
        f"several documents have a proposal {proposal} ({', '.join(docs)}); choose one with --doc",
        f"Flere rapporter har et forslag {proposal} ({', '.join(docs)}); velg én med --doc.",
    )


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
