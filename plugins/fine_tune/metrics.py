"""Retrieval metrics from a query × corpus score matrix (pure numpy).

The definitions are those of sentence-transformers' ``InformationRetrievalEvaluator``
(checked against it in the tests), with binary relevance:

- ``recall@k``: the share of a query's relevant passages found in its top k,
  averaged over queries (with one relevant passage: 1 if it is in the top k, else 0);
- ``mrr@10``: 1 / rank of the first relevant passage if it is in the top 10, else 0;
- ``ndcg@10``: DCG of the top 10 (a relevant passage at rank r adds 1 / log2(r + 1)),
  divided by the best DCG possible for that query.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

METRIC_NAMES = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
DISCOUNTS = 1.0 / np.log2(np.arange(2, 12))  # rank r (1-based) counts 1 / log2(r + 1), r = 1..10


def rankings(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the top ``k`` corpus entries per query, best first (ties: lower index first)."""
    scores = np.asarray(scores, dtype=np.float64)
    k = min(k, scores.shape[1])
    # a stable sort of the negated scores keeps the lower index first among equal scores
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def retrieval_metrics(scores: np.ndarray, relevant: Sequence[set[int]] | None = None) -> dict[str, float]:
    """recall@1/5/10, mrr@10 and ndcg@10, averaged over queries.

    Args:
        scores: (n_queries, n_corpus) similarities; higher is better.
        relevant: for each query, the set of relevant corpus indices; by default
            query i's only relevant passage is corpus entry i (a paired set).
    """
    scores = np.asarray(scores, dtype=np.float64)
    n_queries, n_corpus = scores.shape
    if relevant is None:
        if n_queries > n_corpus:
            raise ValueError(f"paired scores need at least as many passages as queries ({n_queries} > {n_corpus}).")
        relevant = [{i} for i in range(n_queries)]
    if len(relevant) != n_queries:
        raise ValueError(f"{len(relevant)} relevance sets for {n_queries} queries.")
    if n_queries == 0:
        raise ValueError("no queries to evaluate.")
    top = rankings(scores, 10)
    sums = dict.fromkeys(METRIC_NAMES, 0.0)
    for q in range(n_queries):
        rel = relevant[q]
        if not rel:
            raise ValueError(f"query {q} has no relevant passage.")
        hits = np.array([idx in rel for idx in top[q]], dtype=bool)
        for k in (1, 5, 10):
            sums[f"recall@{k}"] += hits[:k].sum() / len(rel)
        first = np.flatnonzero(hits)
        sums["mrr@10"] += 1.0 / (first[0] + 1) if len(first) else 0.0
        dcg = float((hits * DISCOUNTS[: len(hits)]).sum())
        ideal = float(DISCOUNTS[: min(len(rel), 10)].sum())
        sums["ndcg@10"] += dcg / ideal
    return {name: float(total / n_queries) for name, total in sums.items()}


def positive_ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of passage i in query i's ranking (paired scores), ties counted against it."""
    scores = np.asarray(scores, dtype=np.float64)
    own = np.diag(scores)[:, None]
    return (scores > own).sum(axis=1) + 1


def positive_and_random_similarities(
    query_emb: np.ndarray, passage_emb: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Cosines of each query with its own passage, and with one random other passage
    (a fixed derangement: never its own)."""
    q = np.asarray(query_emb, dtype=np.float64)
    p = np.asarray(passage_emb, dtype=np.float64)
    n = len(q)
    positive = np.einsum("ij,ij->i", q, p)
    if n < 2:
        return positive.astype(np.float32), np.zeros(0, dtype=np.float32)
    shift = np.random.default_rng(seed).integers(1, n, size=n)  # 1..n-1: never the own passage
    other = (np.arange(n) + shift) % n
    random_pairs = np.einsum("ij,ij->i", q, p[other])
    return positive.astype(np.float32), random_pairs.astype(np.float32)
