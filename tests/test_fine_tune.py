"""The fine_tune lab's pure parts: metrics against hand-computed rankings and against
sentence-transformers' evaluator, the data (bundled split, CSV validation), the
duplicate-free sampler and the settings' limits. No training here (see
test_fine_tune_training.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from plugins.fine_tune.compute import MAX_PAIRS_SEEN, check_budget
from plugins.fine_tune.data import (
    MAX_CSV_ROWS, Pair, UploadError, bundled_pairs, drop_ambiguous, is_heldout_group, read_pairs_csv,
    split_docstring, split_uploaded, stdlib_pairs,
)
from plugins.fine_tune.metrics import (
    METRIC_NAMES, positive_and_random_similarities, positive_ranks, rankings, retrieval_metrics,
)
from plugins.fine_tune.train import TrainSettings, duplicate_free_batches


# -- metrics ---------------------------------------------------------------------
def scores_with_ranks(ranks: list[int], n_corpus: int) -> np.ndarray:
    """Scores where query i's own passage (index i) lands at 1-based rank ranks[i]."""
    scores = np.zeros((len(ranks), n_corpus))
    for q, rank in enumerate(ranks):
        others = [c for c in range(n_corpus) if c != q]
        order = others[: rank - 1] + [q] + others[rank - 1:]
        for position, c in enumerate(order):
            scores[q, c] = 1.0 - position / n_corpus
    return scores


def test_scores_helper_places_positive_at_rank():
    scores = scores_with_ranks([1, 3, 11], 12)
    top = rankings(scores, 12)
    assert [int(np.flatnonzero(top[q] == q)[0]) + 1 for q in range(3)] == [1, 3, 11]
    assert positive_ranks(scores).tolist() == [1, 3, 11]


def test_metrics_match_hand_computed_ranks():
    # positives at ranks 1, 3 and 11 (beyond the top 10)
    m = retrieval_metrics(scores_with_ranks([1, 3, 11], 12))
    assert m["recall@1"] == pytest.approx(1 / 3)
    assert m["recall@5"] == pytest.approx(2 / 3)
    assert m["recall@10"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4) + 0) / 3)


def test_metrics_rank_ten_counts_rank_eleven_does_not():
    at10 = retrieval_metrics(scores_with_ranks([10], 12))
    assert at10["recall@10"] == 1 and at10["recall@5"] == 0
    assert at10["mrr@10"] == pytest.approx(0.1)
    assert at10["ndcg@10"] == pytest.approx(1 / math.log2(11))
    at11 = retrieval_metrics(scores_with_ranks([11], 12))
    assert at11["recall@10"] == 0 and at11["mrr@10"] == 0 and at11["ndcg@10"] == 0


def test_metrics_with_two_relevant_passages():
    # ranking 0, 1, 2, 3, 4: relevant passages 0 and 2 sit at ranks 1 and 3
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5]])
    m = retrieval_metrics(scores, relevant=[{0, 2}])
    assert m["recall@1"] == pytest.approx(0.5)
    assert m["recall@5"] == pytest.approx(1.0)
    assert m["mrr@10"] == pytest.approx(1.0)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))


def test_metrics_perfect_and_reversed():
    n = 15
    assert retrieval_metrics(np.eye(n)) == {name: 1.0 for name in METRIC_NAMES}
    worst = retrieval_metrics(-np.eye(n))  # own passage last of 15
    assert worst["recall@10"] == 0 and worst["mrr@10"] == 0


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="relevance sets"):
        retrieval_metrics(np.eye(3), relevant=[{0}])
    with pytest.raises(ValueError, match="no relevant"):
        retrieval_metrics(np.eye(2), relevant=[{0}, set()])


def test_metrics_agree_with_sentence_transformers_evaluator():
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    rng = np.random.default_rng(3)
    n_queries, n_corpus = 40, 60
    scores = rng.normal(size=(n_queries, n_corpus))
    relevant = [set(rng.choice(n_corpus, size=rng.integers(1, 4), replace=False).tolist()) for _ in range(n_queries)]
    ours = retrieval_metrics(scores, relevant)

    qid = [f"q{i:03d}" for i in range(n_queries)]
    cid = [f"c{i:03d}" for i in range(n_corpus)]
    evaluator = InformationRetrievalEvaluator(
        queries=dict(zip(qid, qid)), corpus=dict(zip(cid, cid)),
        relevant_docs={qid[q]: {cid[c] for c in rel} for q, rel in enumerate(relevant)},
        accuracy_at_k=[1, 5, 10], precision_recall_at_k=[1, 5, 10], mrr_at_k=[10], ndcg_at_k=[10], map_at_k=[10],
        write_csv=False,
    )
    results = [[{"corpus_id": cid[c], "score": float(scores[q, c])} for c in range(n_corpus)] for q in range(n_queries)]
    theirs = evaluator.compute_metrics(results)
    for k in (1, 5, 10):
        assert ours[f"recall@{k}"] == pytest.approx(theirs["recall@k"][k])
    assert ours["mrr@10"] == pytest.approx(theirs["mrr@k"][10])
    assert ours["ndcg@10"] == pytest.approx(theirs["ndcg@k"][10])


def test_random_pairs_are_never_the_own_passage():
    q = np.eye(6, dtype=np.float32)
    pos, rand = positive_and_random_similarities(q, q, seed=4)
    assert np.allclose(pos, 1.0) and np.allclose(rand, 0.0)


# -- data ------------------------------------------------------------------------
def test_split_docstring_keeps_summary_out_of_passage():
    doc = """Return the frobnicated value of x.

    The value is computed by applying the frobnication rule twice and then
    rounding towards zero, as described in the manual.
    """
    summary, body = split_docstring(doc)
    assert summary == "Return the frobnicated value of x."
    assert body.startswith("The value is computed") and "frobnicated value" not in body
    assert split_docstring("Only a summary line here.") is None
    assert split_docstring("Short.\n\n" + "word " * 30) is None  # too short to be a query


@pytest.fixture(scope="module")
def bundled():
    return bundled_pairs()


def test_bundled_set_is_split_by_module(bundled):
    assert len(bundled.train) >= 300 and len(bundled.heldout) >= 150
    train_modules = {p.group for p in bundled.train}
    heldout_modules = {p.group for p in bundled.heldout}
    assert not train_modules & heldout_modules
    assert not {p.group.split(".")[0] for p in bundled.train} & {p.group.split(".")[0] for p in bundled.heldout}
    assert all(is_heldout_group(p.group) for p in bundled.heldout)
    names = [p.name for p in bundled.train + bundled.heldout]
    assert len(names) == len(set(names))


def test_bundled_pairs_are_unique_and_not_trivial(bundled):
    pairs = bundled.train + bundled.heldout
    assert len({p.query for p in pairs}) == len(pairs)
    assert len({p.positive for p in pairs}) == len(pairs)
    assert all(p.query not in p.positive for p in pairs)
    assert all("(" in p.positive.split(":")[0] or p.positive.startswith("class ") for p in pairs)


def test_bundled_subsample_and_hash_are_fixed(bundled):
    a, b = bundled_pairs(max_train=50, max_heldout=20), bundled_pairs(max_train=50, max_heldout=20)
    assert (len(a.train), len(a.heldout)) == (50, 20)
    assert a.data_hash() == b.data_hash() != bundled.data_hash()
    assert set(a.train) <= set(bundled.train)


def test_drop_ambiguous_removes_every_copy():
    pairs = [Pair("q1", "p1"), Pair("q1", "p2"), Pair("q3", "p3"), Pair("q4", "p3"), Pair("q5", "p5")]
    assert drop_ambiguous(pairs) == [Pair("q5", "p5")]
    assert stdlib_pairs(("json",)) and all(p.group.startswith("json") for p in stdlib_pairs(("json",)))


def write_csv(tmp_path, text: str, name: str = "pairs.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def good_rows(n: int) -> str:
    return "query,positive\n" + "".join(f"how do I do task {i},do task {i} by calling tool_{i}()\n" for i in range(n))


def test_csv_valid_file_splits_without_overlap(tmp_path):
    pairs = read_pairs_csv(write_csv(tmp_path, good_rows(40)))
    assert len(pairs) == 40
    split = split_uploaded(pairs, seed=0)
    assert len(split.heldout) == 8 and len(split.train) == 32
    assert not {p.query for p in split.train} & {p.query for p in split.heldout}
    assert split.data_hash() == split_uploaded(pairs, seed=0).data_hash()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("question,answer\na,b\n", "Missing column"),
        (good_rows(5), "at least 20"),
        (good_rows(MAX_CSV_ROWS + 1), f"limit is {MAX_CSV_ROWS}"),
        (good_rows(25) + "how do I do task 3,something else entirely\n", "query text.*more than once"),
        (good_rows(25) + "a brand new question,do task 3 by calling tool_3()\n", "positive text.*more than once"),
        (good_rows(25) + "same text,same text\n", "identical to its positive"),
    ],
)
def test_csv_validation_messages(tmp_path, text, message):
    with pytest.raises(UploadError, match=message):
        read_pairs_csv(write_csv(tmp_path, text))


def test_csv_duplicate_message_names_rows(tmp_path):
    with pytest.raises(UploadError) as info:
        read_pairs_csv(write_csv(tmp_path, good_rows(25) + "how do I do task 3,another passage\n"))
    assert "rows 5, 27" in str(info.value)  # header is row 1, so task 3 is row 5


# -- sampler and settings ----------------------------------------------------------
def test_batches_never_repeat_a_text():
    # "shared" is a query of one pair and the positive of another; "dup" queries repeat
    pairs = [Pair(f"q{i}", f"p{i}") for i in range(30)]
    pairs += [Pair("dup", "pa"), Pair("dup", "pb"), Pair("dup", "pc"), Pair("shared", "px"), Pair("qy", "shared")]
    batches = duplicate_free_batches(pairs, 8, np.random.default_rng(0))
    for batch in batches:
        texts = [t for i in batch for t in (pairs[i].query, pairs[i].positive)]
        assert len(texts) == len(set(texts))
        assert len(batch) <= 8
    used = sorted(i for batch in batches for i in batch)
    assert len(used) == len(set(used)) and len(used) >= len(pairs) - 1  # a last lone pair may be dropped
    again = duplicate_free_batches(pairs, 8, np.random.default_rng(0))
    other = duplicate_free_batches(pairs, 8, np.random.default_rng(1))
    assert batches == again and batches != other


def test_settings_limits_have_clear_messages():
    assert TrainSettings().validate() is not None
    with pytest.raises(ValueError, match="epochs = 9 is out of range; choose a value from 1 to 5"):
        TrainSettings(epochs=9).validate()
    with pytest.raises(ValueError, match="scale"):
        TrainSettings(scale=0.0).validate()
    with pytest.raises(ValueError, match="learning_rate"):
        TrainSettings(learning_rate=float("nan")).validate()
    with pytest.raises(ValueError, match="whole number"):
        TrainSettings(batch_size=8.5).validate()


def test_budget_caps_pairs_seen():
    check_budget(TrainSettings(), 512)
    with pytest.raises(ValueError, match=f"limit is {MAX_PAIRS_SEEN}"):
        check_budget(TrainSettings(epochs=5, batch_size=64, max_steps=200), 2000)
