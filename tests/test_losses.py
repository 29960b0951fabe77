"""The shared loss library against direct loop implementations of each formula and
against the libraries that ship the same loss (sentence-transformers, open_clip):
values and gradients, and no NaN or inf at τ = 0.01 or with identical vectors."""
import math

import pytest
import torch
import torch.nn.functional as F

from playground.science import losses

# ----------------------------------------------------------------------------- loops
# Each reference below follows the written formula one term at a time, with
# scalar torch ops in float64, so autograd through it gives reference gradients.


def _cos(u, v):
    return (u * v).sum() / (torch.sqrt((u * u).sum()) * torch.sqrt((v * v).sum()))


def _dist(u, v, metric):
    if metric == "euclidean":
        return torch.sqrt(((u - v) ** 2).sum())
    return 1 - _cos(u, v)


def loop_triplet(a, p, n, margin, metric):
    total = 0.0
    for i in range(len(a)):
        total = total + torch.clamp(_dist(a[i], p[i], metric) - _dist(a[i], n[i], metric) + margin, min=0)
    return total / len(a)


def loop_info_nce(q, k, tau):
    total = 0.0
    for i in range(len(q)):
        denom = sum(torch.exp(_cos(q[i], k[j]) / tau) for j in range(len(k)))
        total = total - torch.log(torch.exp(_cos(q[i], k[i]) / tau) / denom)
    return total / len(q)


def loop_nt_xent(z1, z2, tau):
    z = torch.cat([z1, z2])
    n = len(z1)
    total = 0.0
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        denom = sum(torch.exp(_cos(z[i], z[k]) / tau) for k in range(2 * n) if k != i)
        total = total - torch.log(torch.exp(_cos(z[i], z[j]) / tau) / denom)
    return total / (2 * n)


def loop_clip(x, y, s):
    n = len(x)
    i2t = t2i = 0.0
    for i in range(n):
        row = [s * _cos(x[i], y[j]) for j in range(n)]
        i2t = i2t - torch.log(torch.exp(row[i]) / sum(torch.exp(r) for r in row))
        col = [s * _cos(x[j], y[i]) for j in range(n)]
        t2i = t2i - torch.log(torch.exp(col[i]) / sum(torch.exp(c) for c in col))
    return (i2t / n + t2i / n) / 2


def loop_siglip(x, y, t, b):
    n = len(x)
    total = 0.0
    for i in range(n):
        for j in range(n):
            z = 1.0 if i == j else -1.0
            total = total - torch.log(1 / (1 + torch.exp(-z * (t * _cos(x[i], y[j]) + b))))
    return total / n


def _inputs(*shapes, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True) for s in shapes]


def _value_and_grads(fn, tensors):
    for t in tensors:
        t.grad = None
    value = fn(*tensors)
    grads = torch.autograd.grad(value, tensors)
    return value.detach(), [g.detach() for g in grads]


def assert_same(fn_a, fn_b, tensors, atol=1e-9):
    va, ga = _value_and_grads(fn_a, tensors)
    vb, gb = _value_and_grads(fn_b, tensors)
    assert torch.allclose(va, vb, atol=atol, rtol=1e-7), (va, vb)
    for x, y in zip(ga, gb):
        assert torch.allclose(x, y, atol=atol, rtol=1e-6), (x - y).abs().max()


# ------------------------------------------------------------------ against loops


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("margin", [0.0, 0.3, 2.0])
def test_triplet_loss_matches_loop(metric, margin):
    a, p, n = _inputs((6, 5), (6, 5), (6, 5), seed=1)
    assert_same(
        lambda a, p, n: losses.triplet_loss(a, p, n, margin=margin, metric=metric),
        lambda a, p, n: loop_triplet(a, p, n, margin, metric),
        [a, p, n],
    )


def test_triplet_loss_reductions_and_active_set():
    a, p, n = _inputs((8, 4), (8, 4), (8, 4), seed=2)
    per = losses.triplet_loss(a, p, n, margin=0.5, reduction="none")
    d_ap, d_an = losses.triplet_distances(a, p, n)
    assert per.shape == (8,)
    # a triplet contributes exactly when it is active: d(a,p) + α > d(a,n)
    assert torch.equal(per > 0, d_ap + 0.5 > d_an)
    assert torch.allclose(losses.triplet_loss(a, p, n, margin=0.5, reduction="sum"), per.sum())
    with pytest.raises(ValueError, match="reduction"):
        losses.triplet_loss(a, p, n, reduction="avg")
    with pytest.raises(ValueError, match="metric"):
        losses.triplet_loss(a, p, n, metric="manhattan")
    with pytest.raises(ValueError, match="same shape"):
        losses.triplet_loss(a, p[:5], n)


@pytest.mark.parametrize("tau", [0.05, 0.1, 1.0])
def test_info_nce_matches_loop(tau):
    q, k = _inputs((5, 4), (5, 4), seed=3)
    assert_same(lambda q, k: losses.info_nce(q, k, temperature=tau), lambda q, k: loop_info_nce(q, k, tau), [q, k])


@pytest.mark.parametrize("tau", [0.05, 0.5])
def test_nt_xent_matches_loop(tau):
    z1, z2 = _inputs((4, 6), (4, 6), seed=4)
    assert_same(lambda a, b: losses.nt_xent(a, b, temperature=tau), lambda a, b: loop_nt_xent(a, b, tau), [z1, z2])


def test_nt_xent_differs_from_info_nce_by_its_extra_negatives():
    # NT-Xent also counts the other view's rows of the same side as negatives, so
    # with the same pairs its loss is larger than one-directional InfoNCE.
    z1, z2 = _inputs((6, 8), (6, 8), seed=5)
    assert losses.nt_xent(z1, z2, 0.1) > losses.info_nce(z1, z2, 0.1)


@pytest.mark.parametrize("scale", [1.0, 14.3])
def test_clip_loss_matches_loop(scale):
    x, y = _inputs((5, 3), (5, 3), seed=6)
    assert_same(lambda x, y: losses.clip_loss(x, y, scale), lambda x, y: loop_clip(x, y, scale), [x, y])


def test_clip_loss_gradient_reaches_a_learned_scale():
    x, y = _inputs((5, 3), (5, 3), seed=7)
    log_s = torch.tensor(math.log(10.0), dtype=torch.float64, requires_grad=True)
    (g_ours,) = torch.autograd.grad(losses.clip_loss(x, y, log_s.exp()), [log_s])
    (g_loop,) = torch.autograd.grad(loop_clip(x, y, log_s.exp()), [log_s])
    assert torch.allclose(g_ours, g_loop, atol=1e-9)


@pytest.mark.parametrize("t,b", [(10.0, -10.0), (3.0, 0.5)])
def test_siglip_loss_matches_loop(t, b):
    x, y = _inputs((4, 5), (4, 5), seed=8)
    assert_same(lambda x, y: losses.siglip_loss(x, y, t, b), lambda x, y: loop_siglip(x, y, t, b), [x, y])


def test_siglip_gradients_reach_scale_and_bias():
    x, y = _inputs((4, 5), (4, 5), seed=9)
    t = torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    ours = torch.autograd.grad(losses.siglip_loss(x, y, t, b), [t, b])
    loop = torch.autograd.grad(loop_siglip(x, y, t, b), [t, b])
    for g1, g2 in zip(ours, loop):
        assert torch.allclose(g1, g2, atol=1e-9)


# -------------------------------------------------------------- against libraries


def _normalised(*tensors):
    return [F.normalize(t, dim=-1) for t in tensors]


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_triplet_loss_matches_sentence_transformers(metric):
    from sentence_transformers.sentence_transformer.losses import TripletDistanceMetric, TripletLoss

    theirs = TripletLoss(
        model=None,
        distance_metric=TripletDistanceMetric.EUCLIDEAN if metric == "euclidean" else TripletDistanceMetric.COSINE,
        triplet_margin=0.4,
    )
    a, p, n = _inputs((7, 6), (7, 6), (7, 6), seed=10)
    assert_same(
        lambda a, p, n: losses.triplet_loss(a, p, n, margin=0.4, metric=metric),
        lambda a, p, n: theirs.compute_loss_from_embeddings([a, p, n], None),
        [a, p, n],
    )


@pytest.mark.parametrize("tau", [0.05, 0.2])
def test_info_nce_matches_multiple_negatives_ranking_loss(tau):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    theirs = MultipleNegativesRankingLoss(model=None, scale=1.0 / tau)
    q, k = _inputs((6, 5), (6, 5), seed=11)
    assert_same(
        lambda q, k: losses.info_nce(q, k, temperature=tau),
        lambda q, k: theirs.compute_loss_from_embeddings([q, k], None),
        [q, k],
    )


def test_clip_loss_matches_open_clip():
    from open_clip.loss import ClipLoss

    theirs = ClipLoss()
    x, y = _inputs((6, 4), (6, 4), seed=12)
    # open_clip expects normalised features; ours normalises inside, so compose
    assert_same(
        lambda x, y: losses.clip_loss(x, y, 20.0),
        lambda x, y: theirs(*_normalised(x, y), logit_scale=20.0),
        [x, y],
    )


def test_siglip_loss_matches_open_clip():
    from open_clip.loss import SigLipLoss

    theirs = SigLipLoss()
    x, y = _inputs((6, 4), (6, 4), seed=13)
    assert_same(
        lambda x, y: losses.siglip_loss(x, y, 10.0, -10.0),
        lambda x, y: theirs(*_normalised(x, y), logit_scale=10.0, logit_bias=-10.0),
        [x, y],
    )


# ------------------------------------------------------------ numerical extremes


def _all_finite(value, tensors):
    grads = torch.autograd.grad(value, tensors, allow_unused=True)
    return bool(torch.isfinite(value).all()) and all(g is None or bool(torch.isfinite(g).all()) for g in grads)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_no_nan_or_inf_at_tau_0_01(dtype):
    g = torch.Generator().manual_seed(14)
    q = torch.randn(16, 8, generator=g, dtype=dtype, requires_grad=True)
    k = torch.randn(16, 8, generator=g, dtype=dtype, requires_grad=True)
    assert _all_finite(losses.info_nce(q, k, temperature=0.01), [q, k])
    assert _all_finite(losses.nt_xent(q, k, temperature=0.01), [q, k])
    assert _all_finite(losses.clip_loss(q, k, logit_scale=100.0), [q, k])  # s = 1/0.01
    assert _all_finite(losses.siglip_loss(q, k, logit_scale=100.0, logit_bias=-10.0), [q, k])


def test_no_nan_or_inf_with_identical_vectors():
    base = torch.randn(1, 6, generator=torch.Generator().manual_seed(15))
    x = base.repeat(5, 1).requires_grad_(True)
    y = base.repeat(5, 1).requires_grad_(True)
    z = base.repeat(5, 1).requires_grad_(True)
    for metric in ("euclidean", "cosine"):
        value = losses.triplet_loss(x, y, z, margin=0.2, metric=metric)
        assert abs(float(value.detach()) - 0.2) < 1e-6  # every distance is 0: the loss is the margin
        assert _all_finite(losses.triplet_loss(x, y, z, margin=0.2, metric=metric), [x, y, z])
    for tau in (0.01, 0.1):
        # all logits equal: InfoNCE is log N, NT-Xent log(2N−1)
        assert abs(float(losses.info_nce(x, y, tau).detach()) - math.log(5)) < 1e-4
        assert abs(float(losses.nt_xent(x, y, tau).detach()) - math.log(9)) < 1e-4
        assert _all_finite(losses.info_nce(x, y, tau), [x, y])
        assert _all_finite(losses.nt_xent(x, y, tau), [x, y])
    assert _all_finite(losses.clip_loss(x, y, 100.0), [x, y])
    assert _all_finite(losses.siglip_loss(x, y, 100.0, -10.0), [x, y])


def test_euclidean_distance_gradient_is_zero_not_nan_at_a_equals_b():
    a = torch.ones(3, 4, requires_grad=True)
    d = losses.pairwise_distance(a, torch.ones(3, 4), "euclidean")
    (grad,) = torch.autograd.grad(d.sum(), [a])
    assert torch.equal(d.detach(), torch.zeros(3))
    assert torch.equal(grad, torch.zeros(3, 4))


@pytest.mark.parametrize("tau", [0.0, -0.1, float("nan")])
def test_non_positive_temperature_is_refused(tau):
    q, k = torch.randn(3, 4), torch.randn(3, 4)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        losses.info_nce(q, k, temperature=tau)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        losses.nt_xent(q, k, temperature=tau)


def test_lower_temperature_lowers_info_nce_for_well_separated_pairs():
    # positives much closer than negatives: sharpening puts all mass on the positive
    q = torch.eye(4)
    k = torch.eye(4) + 0.1 * torch.randn(4, 4, generator=torch.Generator().manual_seed(16))
    values = [float(losses.info_nce(q, k, t)) for t in (1.0, 0.5, 0.1, 0.05)]
    assert values == sorted(values, reverse=True)
