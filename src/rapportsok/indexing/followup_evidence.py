"""Follow-up evidence, computed at index time from the stored vectors and the lexical index and kept
in the build (followups.json), per proposal and target document, so a rebuild recomputes only the
pairs whose source or target document changed (querying/followup.py ranks it when asked)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..engines.base import FOLLOWUP_VERSION, FollowupEvidence, ProposalEvidence, Target
from ..records import Passage, proposals_of
from ..text.bm25 import Lexical

TARGET_CANDIDATES = 25  # per target document, the best this many by the dense and by the lexical evidence


def compute(
    passages: list[Passage],
    passage_vectors: Callable[[], np.ndarray],
    lexical: Callable[[], Lexical],
    shas: dict[str, str],
    previous: FollowupEvidence | None,
) -> FollowupEvidence:
    """The evidence for every (proposal, other document) pair, reused from the previous build's
    where neither document changed (`shas`: doc -> content hash of this build); the passages' vectors
    and BM25 (`lexical`) are asked for only when some pair is computed anew."""
    reusable = {(e.doc, e.proposal): e for e in previous.proposals} if previous else {}
    ranked = np.array([p.kind != "footnote" for p in passages])
    docs = np.array([p.doc for p in passages], dtype=object)
    entries = []
    for proposal in proposals_of(passages):
        rows = [
            i for i, p in enumerate(passages) if p.doc == proposal.doc and p.proposal == proposal.proposal and ranked[i]
        ]
        if not rows:  # a proposal with nothing but footnotes has no text to compare
            continue
        old = reusable.get((proposal.doc, proposal.proposal))
        old_targets = old.targets if old and old.sha == shas[proposal.doc] else {}
        targets: dict[str, Target] = {}
        evidence = None
        for target in sorted(set(docs[ranked]) - {proposal.doc}):
            if target in old_targets and old_targets[target].sha == shas[target]:
                targets[target] = old_targets[target]
                continue
            if evidence is None:  # computed once per proposal, only when some pair needs it
                evidence = _evidence(rows, passages, passage_vectors(), lexical())
            in_target = np.flatnonzero(ranked & (docs == target))
            targets[target] = _target(shas[target], in_target, evidence, passages)
        entries.append(ProposalEvidence(
            doc=proposal.doc, proposal=proposal.proposal, headline=proposal.headline, sha=shas[proposal.doc],
            targets=targets,
        ))
    return FollowupEvidence(version=FOLLOWUP_VERSION, proposals=entries)


def _evidence(
    rows: list[int], passages: list[Passage], passage_vectors: np.ndarray, lexical: Lexical
) -> tuple[np.ndarray, np.ndarray]:
    """Per passage: its cosine to the whole proposal (headline and body: the mean of its
    passages' vectors), and the proposal text's BM25 score. The mean covers every aspect of
    the measure, not only the headline; it is a passage's match, not one sentence's, that
    shows the same measure taken up (search's best-sentence share lowers recall here)."""
    centre = passage_vectors[rows].mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    return passage_vectors @ centre, lexical.scores(" ".join(passages[i].text for i in rows))


def _target(
    sha: str, in_target: np.ndarray, evidence: tuple[np.ndarray, np.ndarray], passages: list[Passage]
) -> Target:
    """A target document's evidence: [passage_id, dense, lexical] of its passages that lead on
    either signal, and each signal's count, sum and sum of squares over all its passages (so that
    asking can standardise over every passage of the other documents, kept or not)."""
    dense, words = evidence
    chosen = set(in_target[np.argsort(-dense[in_target], kind="stable")[:TARGET_CANDIDATES]].tolist())
    chosen |= set(in_target[np.argsort(-words[in_target], kind="stable")[:TARGET_CANDIDATES]].tolist())
    d, w = dense[in_target].astype(float), words[in_target].astype(float)
    return Target(
        sha=sha,
        moments=[float(len(in_target)), d.sum(), (d * d).sum(), w.sum(), (w * w).sum()],
        candidates=[(passages[i].passage_id, float(dense[i]), float(words[i])) for i in sorted(chosen)],
    )
