"""Answers with citations: the sentences of the best passages that answer a question, each quoted verbatim."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from ..records import Hit
from ..settings import LLMSettings
from ..text.bm25 import idf
from ..text.tokens import words
from .citations import NOT_FOUND, Answer, Citation
from .index import Index
from .relevance import DENSE_ADDRESSES, vocabulary
from .search import asked_proposals, search, validate

CANDIDATE_PASSAGES = 8  # passages whose sentences compete for the answer (k of them are returned as hits)
MAX_SENTENCES = 5  # in an answer
DUPLICATE_OVERLAP = 0.6  # share of a sentence's words already said by a chosen one
KEEP_RELATIVE = 0.8  # a sentence joins the answer when its score is this close to the best one's
# weights of the sentence score (tuned on the dev set with bench/answer)
W_DENSE, W_LEXICAL, W_PASSAGE = 0.5, 0.35, 0.15
HEADLINE_BONUS = 0.5  # the headline of a proposal the question names
# not-found rule, on the best few sentences (cosines on the e5 scale, tuned with bench/answer):
# one resembles the question as much as relevance.DENSE_ADDRESSES on its own ...
FOUND_DENSE_WITH_WORDS = 0.80  # ... or this much while sharing the question's rare words
FOUND_COVERAGE = 0.3  # share of the question's word weight (IDF) found in the sentence
FOUND_DENSE_FOREIGN = 0.82  # a question mostly in words the corpus lacks (English) has only the dense signal
FOREIGN_KNOWN, FOREIGN_MIN_WORDS = 0.5, 3  # fewer of the question's words in the corpus: a foreign question
PER_PASSAGE = 4  # sentences quoted from one passage at most (of MAX_SENTENCES)


@dataclass
class _Sentence:
    hit: int  # position in the candidate hits
    start: int
    end: int
    text: str
    tokens: set[str]
    lexical: float = 0.0
    dense: float = 0.0
    headline: bool = False
    score: float = 0.0


# ---------------------------------------------------------------- corpus statistics


class _Stats:
    """Per index: document frequency of every token over the passages' text, the words the corpus
    uses, and the tokens that name documents or ask questions.

    Sentences are weighed against the passages' text alone: the lexical index's postings also
    count the headings it indexes (`Passage.context`), which would change answers."""

    def __init__(self, index: Index) -> None:
        analyzer = index.lexical.analyzer
        df: dict[str, int] = {}
        for p in index.passages:
            for token in set(analyzer.tokens(p.text)):
                df[token] = df.get(token, 0) + 1
        self.df = df
        self.vocabulary = {w for p in index.passages for w in words(p.text)}
        self.n = max(1, len(index.passages))
        self.generic = vocabulary(index).generic
        self.meta = vocabulary(index).meta

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """Each token's IDF over the passages' text."""
        return {t: idf(self.n, self.df.get(t, 0)) for t in tokens}


_STATS: weakref.WeakKeyDictionary[Index, _Stats] = weakref.WeakKeyDictionary()


def _stats(index: Index) -> _Stats:
    stats = _STATS.get(index)
    if stats is None:
        stats = _STATS[index] = _Stats(index)
    return stats


# ---------------------------------------------------------------- answering


def answer(
    index: Index, question: str, k: int = 5, llm: LLMSettings | None = None, docs: list[str] | None = None
) -> Answer:
    """An answer of at most a few sentences quoted from the corpus, with numbered citations.

    With an LLM endpoint (llm=LLMSettings(...); the CLI and the server pass `Settings.llm`) the
    answer is written by that model from the same passages and its citations are checked; the
    extractive answer stands in whenever they fail. llm=None never sends anything.
    docs: answer only from these documents.
    """
    started = time.perf_counter()
    question = validate(index, question, k, docs, "hybrid")
    extractive, candidates = _extractive(index, question, k, docs)
    if llm is not None and extractive.found:
        from .generate import generated_answer  # urllib and the prompt: only when an endpoint is set

        result = generated_answer(llm, question, candidates[:k], extractive)
    else:
        result = extractive
    return _with_time(result, started)


def _with_time(result: Answer, started: float) -> Answer:
    took = round((time.perf_counter() - started) * 1000, 2)
    return Answer(result.question, result.text, result.citations, result.hits, result.found, result.method, took,
                  result.notes)


def _extractive(index: Index, question: str, k: int, docs: list[str] | None) -> tuple[Answer, list[Hit]]:
    """The extractive answer, and the candidate hits it was drawn from (best first; every candidate,
    not only those above the search's relevance floor: the not-found rule below judges them)."""
    result = search(index, question, k=max(k, CANDIDATE_PASSAGES), docs=docs, all_hits=True)
    candidates = result.hits
    hits = candidates[:k]
    stats = _stats(index)
    analyzer = index.lexical.analyzer
    wanted = [t for t in dict.fromkeys(analyzer.tokens(question)) if t not in stats.meta]
    if not wanted:  # a question made only of document names and question words: keep them
        wanted = [t for t in dict.fromkeys(analyzer.tokens(question)) if t not in stats.generic]
    weights = stats.idf(wanted)
    total = sum(weights.values()) or 1.0
    proposals = asked_proposals(question)
    if proposals and not proposals & set(index.proposal_numbers.tolist()):
        return _not_found(question, hits), candidates  # "forslag 99": no such proposal, nothing to quote

    similarity = index.sentence_scores(index.query_vector(question))
    prior = _passage_prior(candidates)
    sentences: list[_Sentence] = []
    for position, hit in enumerate(candidates):
        passage = hit.passage
        headline = (passage.headline or "").strip().rstrip(".")
        for row, start, end in index.sentences(passage.passage_id):
            text = passage.text[start:end]
            tokens = set(analyzer.tokens(text))
            s = _Sentence(position, start, end, text, tokens, dense=float(similarity[row]))
            s.lexical = sum(w for t, w in weights.items() if t in tokens) / total
            s.headline = bool(headline and passage.proposal in proposals and headline.lower() in text.lower())
            s.score = (
                W_DENSE * _dense_scale(s.dense)
                + W_LEXICAL * s.lexical
                + W_PASSAGE * prior[position]
                + (HEADLINE_BONUS if s.headline else 0.0)
            )
            sentences.append(s)
    if not sentences:
        return _not_found(question, hits), candidates
    ranked = sorted(sentences, key=lambda s: -s.score)

    best = ranked[0]
    asked = [w for w in words(question) if len(w) > 2 and not w.isdigit()]
    known = [w for w in asked if w in stats.vocabulary]
    foreign = len(asked) >= FOREIGN_MIN_WORDS and len(known) < FOREIGN_KNOWN * len(asked)
    if not _is_answer(ranked, foreign):
        return _not_found(question, hits), candidates
    chosen = _choose(ranked, best.score)
    return _compose(question, chosen, candidates, hits), candidates


def _passage_prior(hits: list[Hit]) -> list[float]:
    """The search ranking as a prior in [0, 1]: the best passage 1, falling with rank and score."""
    if not hits:
        return []
    top, low = hits[0].score, hits[-1].score
    span = top - low if top > low else 1.0
    return [0.5 * (h.score - low) / span + 0.5 / (1 + i) for i, h in enumerate(hits)]


def _dense_scale(similarity: float) -> float:
    """e5 cosines live in a narrow band (about 0.75 unrelated .. 0.92 on the point): stretch it to [0, 1]."""
    return min(1.0, max(0.0, (similarity - 0.75) / 0.17))


def _is_answer(ranked: list[_Sentence], foreign: bool) -> bool:
    """Whether the best sentences resemble the question enough to be an answer rather than noise."""
    for s in ranked[:3]:
        dense = s.dense
        if (
            s.headline
            or dense >= DENSE_ADDRESSES
            or (dense >= FOUND_DENSE_WITH_WORDS and s.lexical >= FOUND_COVERAGE)
            or (foreign and dense >= FOUND_DENSE_FOREIGN)
        ):
            return True
    return False


def _choose(ranked: list[_Sentence], best: float) -> list[_Sentence]:
    """The best sentences, near-duplicates dropped, at most MAX_SENTENCES."""
    chosen: list[_Sentence] = []
    for s in ranked:
        if len(chosen) >= MAX_SENTENCES or s.score < KEEP_RELATIVE * best:
            break
        if any(_overlap(s, c) >= DUPLICATE_OVERLAP for c in chosen):
            continue
        if sum(c.hit == s.hit for c in chosen) >= PER_PASSAGE:
            continue
        chosen.append(s)
    return chosen


def _overlap(a: _Sentence, b: _Sentence) -> float:
    if a.hit == b.hit and a.start < b.end and b.start < a.end:
        return 1.0
    small = min(len(a.tokens), len(b.tokens)) or 1
    return len(a.tokens & b.tokens) / small


def _compose(question: str, chosen: list[_Sentence], candidates: list[Hit], hits: list[Hit]) -> Answer:
    """Orders the sentences (passage by passage, best passage first, each in reading order), merges
    neighbours into one quote and numbers the quotes."""
    order: list[int] = []
    for s in chosen:
        if s.hit not in order:
            order.append(s.hit)
    groups: list[list[_Sentence]] = [sorted((s for s in chosen if s.hit == h), key=lambda s: s.start) for h in order]
    citations: list[Citation] = []
    parts: list[str] = []
    for group in groups:
        passage = candidates[group[0].hit].passage
        runs: list[tuple[int, int]] = []
        for s in group:
            between = passage.text[runs[-1][1] : s.start] if runs else None
            if runs and between is not None and between.strip() == "":
                runs[-1] = (runs[-1][0], s.end)
            else:
                runs.append((s.start, s.end))
        for start, end in runs:
            quote = passage.text[start:end]
            n = len(citations) + 1
            citations.append(Citation(n, passage, quote))
            parts.append(f"{_as_claim(quote)} [{n}]")
    used = {c.passage.passage_id for c in citations}
    shown = hits + [h for h in candidates[len(hits) :] if h.passage.passage_id in used]
    return Answer(question, " ".join(parts), citations, shown)


def _as_claim(quote: str) -> str:
    """The quote as one line of the answer, ending in punctuation."""
    line = " ".join(quote.split())
    return line if line[-1:] in ".!?»”\"" else line + "."


def _not_found(question: str, hits: list[Hit]) -> Answer:
    return Answer(question, NOT_FOUND, [], hits, found=False)
