"""playground.science.geometry against values worked out by hand on tiny arrays."""
from __future__ import annotations

import math

import numpy as np
import pytest

from playground.science import geometry as g

R2 = math.sqrt(2.0)


# -- cosines and the intra/inter split -------------------------------------------------

def test_cosine_matrix_hand_values_and_scale_invariance():
    x = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    expected = np.array([[1, 0, 1 / R2], [0, 1, 1 / R2], [1 / R2, 1 / R2, 1]])
    np.testing.assert_allclose(g.cosine_matrix(x), expected, atol=1e-12)
    np.testing.assert_allclose(g.cosine_matrix(5 * x), expected, atol=1e-12)


def test_intra_inter_split_row_major_pairs():
    sims = np.array([
        [1.0, 0.9, 0.1, 0.2],
        [0.9, 1.0, 0.3, 0.4],
        [0.1, 0.3, 1.0, 0.8],
        [0.2, 0.4, 0.8, 1.0],
    ])
    intra, inter = g.intra_inter_similarities(sims, ["a", "a", "b", "b"])
    np.testing.assert_allclose(intra, [0.9, 0.8])  # pairs (0,1), (2,3)
    np.testing.assert_allclose(inter, [0.1, 0.2, 0.3, 0.4])  # (0,2), (0,3), (1,2), (1,3)
    # interleaved labels pick other cells; the diagonal never counts
    intra, inter = g.intra_inter_similarities(sims, ["a", "b", "a", "b"])
    np.testing.assert_allclose(intra, [0.1, 0.4])
    np.testing.assert_allclose(inter, [0.9, 0.2, 0.3, 0.8])


def test_intra_inter_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="square"):
        g.intra_inter_similarities(np.eye(3), ["a", "b"])


# -- separation AUC ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "intra, inter, expected",
    [
        ([0.9, 0.8], [0.1, 0.2, 0.3, 0.4], 1.0),  # a clean gap
        ([0.1, 0.2], [0.8, 0.9], 0.0),  # inverted
        ([0.5, 0.2], [0.3, 0.1], 0.75),  # 3 of the 4 (intra, inter) pairs ordered right
        ([0.5], [0.5], 0.5),  # a tie counts half
        ([0.5, 0.3], [0.3], 0.75),  # (1 + 0.5) / 2
    ],
)
def test_separation_auc_hand_values(intra, inter, expected):
    assert g.separation_auc(np.array(intra), np.array(inter)) == pytest.approx(expected)


def test_separation_auc_matches_sklearn_on_random_scores():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    intra, inter = rng.normal(0.3, 1, 200).round(1), rng.normal(0, 1, 300).round(1)  # rounding makes ties
    expected = roc_auc_score(np.r_[np.ones(200), np.zeros(300)], np.r_[intra, inter])
    assert g.separation_auc(intra, inter) == pytest.approx(expected)


def test_separation_auc_needs_both_kinds():
    with pytest.raises(ValueError):
        g.separation_auc(np.array([0.5]), np.array([]))


# -- anisotropy, alignment, uniformity -------------------------------------------------

def test_mean_cosine_hand_values():
    # pairs: (e1, e2) = 0, (e1, d) = (e2, d) = 1/√2  ->  mean √2/3
    assert g.mean_cosine(np.array([[1.0, 0], [0, 1.0], [1.0, 1.0]])) == pytest.approx(R2 / 3)
    assert g.mean_cosine(np.array([[2.0, 0], [0, 3.0], [5.0, 5.0]])) == pytest.approx(R2 / 3)
    assert g.mean_cosine(np.array([[1.0, 2.0]] * 4)) == pytest.approx(1.0)
    assert g.mean_cosine(np.array([[1.0, 0], [-1.0, 0]])) == pytest.approx(-1.0)


def test_mean_cosine_equals_mean_of_off_diagonal_cosines():
    x = np.random.default_rng(0).normal(size=(30, 7))
    sims = g.cosine_matrix(x)
    i, j = np.triu_indices(30, k=1)
    assert g.mean_cosine(x) == pytest.approx(sims[i, j].mean())


def test_mean_cosine_counts_a_zero_row_as_cosine_zero():
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    assert g.mean_cosine(x) == pytest.approx((1 + 0 + 0) / 3)


def test_alignment_hand_values():
    assert g.alignment(np.array([[1.0, 0]]), np.array([[0, 1.0]])) == pytest.approx(2.0)  # ‖(1,−1)‖²
    assert g.alignment(np.array([[3.0, 0]]), np.array([[0, 5.0]])) == pytest.approx(2.0)  # normalised first
    x, y = np.array([[1.0, 0], [1.0, 0]]), np.array([[1.0, 0], [-1.0, 0]])
    assert g.alignment(x, y) == pytest.approx((0 + 4) / 2)
    assert g.alignment(x, y, alpha=1) == pytest.approx((0 + 2) / 2)


def test_alignment_rejects_mismatched_rows():
    with pytest.raises(ValueError):
        g.alignment(np.ones((2, 3)), np.ones((3, 3)))


def test_uniformity_hand_values():
    assert g.uniformity(np.array([[1.0, 0], [0, 1.0]])) == pytest.approx(-4.0)  # log exp(−2·2)
    # squared distances 2, 4, 2  ->  log((2e^−4 + e^−8) / 3)
    x = np.array([[1.0, 0], [0, 1.0], [-1.0, 0]])
    assert g.uniformity(x) == pytest.approx(math.log((2 * math.exp(-4) + math.exp(-8)) / 3))
    assert g.uniformity(np.array([[1.0, 1.0]] * 3)) == pytest.approx(0.0)
    assert g.uniformity(x, t=1.0) == pytest.approx(math.log((2 * math.exp(-2) + math.exp(-4)) / 3))


def test_uniformity_is_stable_for_large_t():
    x = np.array([[1.0, 0], [-1.0, 0]])  # squared distance 4
    assert g.uniformity(x, t=500.0) == pytest.approx(-2000.0)  # exp(−2000) underflows; the shift keeps it exact


def test_positive_pairs_and_sampling():
    i, j = g.positive_pairs(["a", "b", "a", "a"])
    assert list(zip(i, j)) == [(0, 2), (0, 3), (2, 3)]
    i, j = g.positive_pairs(["a"] * 10, max_pairs=5, seed=3)
    assert len(i) == 5 and np.all(i < j)
    assert list(zip(i, j)) == list(zip(*g.positive_pairs(["a"] * 10, max_pairs=5, seed=3)))


# -- noise and the linear probe -----------------------------------------------------------

def test_add_noise_after_and_before_normalisation():
    x = np.array([[3.0, 4.0], [0.0, 2.0]])
    z = np.array([[0.6, 0.8], [0.0, 1.0]])
    noise = np.random.default_rng(7).normal(0, 0.5, size=(2, 2))
    np.testing.assert_allclose(g.add_noise(x, 0.5, after_normalise=True, seed=7), z + noise)
    before = g.add_noise(x, 0.5, after_normalise=False, seed=7)
    np.testing.assert_allclose(before, (z + noise) / np.linalg.norm(z + noise, axis=1, keepdims=True))
    np.testing.assert_allclose(np.linalg.norm(before, axis=1), 1.0)
    np.testing.assert_allclose(g.add_noise(x, 0.0), z)
    with pytest.raises(ValueError):
        g.add_noise(x, -0.1)


def _clusters(n_per: int = 25, dim: int = 8, spread: float = 0.05, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:4] * 3
    x = np.concatenate([c + rng.normal(0, spread, size=(n_per, dim)) for c in centres])
    labels = np.repeat(["a", "b", "c", "d"], n_per)
    return x, labels


def test_probe_split_sizes_are_stratified_20_80():
    x, labels = _clusters()
    result = g.linear_probe(x, labels)
    assert (result.n_train, result.n_test) == (20, 80)


def test_probe_separable_data_is_perfect_with_and_without_small_noise():
    x, labels = _clusters()
    assert g.linear_probe(x, labels).accuracy == 1.0
    assert g.linear_probe(x, labels, noise_sigma=0.02).accuracy == 1.0
    assert g.linear_probe(x, labels, noise_sigma=0.02, noise_after_normalise=False).accuracy == 1.0


def test_probe_heavy_noise_drives_separable_data_towards_chance():
    x, labels = _clusters(n_per=50)
    assert g.linear_probe(x, labels, noise_sigma=5.0).accuracy < 0.5  # chance is 0.25


def test_probe_random_data_is_near_chance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 16))
    labels = rng.choice(["a", "b", "c", "d"], size=400)
    accuracy = g.linear_probe(x, labels).accuracy
    assert 0.1 < accuracy < 0.4  # chance is 0.25
    noisy = g.linear_probe(x, labels, noise_sigma=0.1).accuracy
    assert 0.1 < noisy < 0.4


def test_probe_is_deterministic_per_seed_and_sweep_matches_single_probes():
    x, labels = _clusters(spread=1.2)
    a = g.linear_probe(x, labels, noise_sigma=0.3, seed=5).accuracy
    assert a == g.linear_probe(x, labels, noise_sigma=0.3, seed=5).accuracy
    sweep = g.probe_noise_sweep(x, labels, [0.0, 0.3], seed=5)
    assert sweep == [g.linear_probe(x, labels, seed=5).accuracy, a]


def test_probe_with_too_few_texts_per_label_says_so():
    x = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match="label"):
        g.linear_probe(x, ["a", "a", "a", "b", "b", "c"])


# -- projections ----------------------------------------------------------------------

def test_pca_keeps_distances_of_points_in_a_plane():
    t = np.linspace(0, 1.5 * np.pi, 12)
    x = np.zeros((12, 5))
    x[:, 0], x[:, 1] = np.cos(t), np.sin(t)  # unit vectors in a 2-D subspace of R^5
    p = g.project_2d(x, "pca")
    assert p.shape == (12, 2)
    d_in = np.linalg.norm(x[:, None] - x[None], axis=-1)
    d_out = np.linalg.norm(p[:, None] - p[None], axis=-1)
    np.testing.assert_allclose(d_out, d_in, atol=1e-9)
    np.testing.assert_allclose(p.mean(axis=0), 0, atol=1e-12)
    assert p[:, 0].var() >= p[:, 1].var()  # the first axis carries the most variance
    np.testing.assert_array_equal(p, g.project_2d(x, "pca"))  # no sign flips between calls


def test_tsne_separates_two_far_clusters():
    x, labels = _clusters(n_per=15)
    p = g.project_2d(x[:30], "t-SNE", seed=0)
    a, b = p[:15], p[15:30]
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    assert gap > 3 * max(a.std(0).max(), b.std(0).max())


def test_unknown_projection_and_too_few_points():
    with pytest.raises(ValueError, match="pca, tsne, umap"):
        g.project_2d(np.eye(4), "mds")
    with pytest.raises(ValueError, match="at least 3"):
        g.project_2d(np.eye(2), "pca")


def test_umap_warm_up_respects_the_off_switch(monkeypatch):
    monkeypatch.setenv(g.UMAP_WARMUP_ENV, "0")
    assert g.warm_up_umap() is None


@pytest.mark.slow
def test_umap_projection_with_disk_cached_numba(tmp_path, monkeypatch):
    x, _ = _clusters(n_per=10)
    p = g.project_2d(x, "umap", seed=0)
    assert p.shape == (40, 2) and np.isfinite(p).all()
    import sys

    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    dispatchers = [o for name, m in list(sys.modules.items()) if name.startswith("umap") and m is not None
                   for o in vars(m).values() if isinstance(o, CPUDispatcher)]
    cached = [d for d in dispatchers if not isinstance(d._cache, NullCache)]
    assert len(cached) > 0.8 * len(dispatchers)  # umap's functions now compile once per machine
