"""Contrastive losses on embeddings, batched in torch (values and gradients).

Each function takes embeddings (not raw inputs), so a lab can call it on frozen
vectors, on a trained head's output, or inside a training loop. Rows are
L2-normalised inside where the formula uses cosine similarity.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def pairwise_distance(a: torch.Tensor, b: torch.Tensor, metric: str = "euclidean") -> torch.Tensor:
    """Row-wise distance between ``a[i]`` and ``b[i]``.

    ``metric``: ``"euclidean"`` (‖a−b‖) or ``"cosine"`` (1 − cos(a, b)).
    """
    if metric == "euclidean":
        # the epsilon keeps the gradient finite when a == b
        return torch.sqrt(((a - b) ** 2).sum(-1) + 1e-12)
    if metric == "cosine":
        return 1.0 - F.cosine_similarity(a, b, dim=-1, eps=1e-8)
    raise ValueError(f"metric must be 'euclidean' or 'cosine', got {metric!r}")


def triplet_loss(
    anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor,
    margin: float = 0.2, metric: str = "euclidean", reduction: str = "mean",
) -> torch.Tensor:
    """Triplet loss ``L = max(0, d(a,p) − d(a,n) + α)`` with margin α.

    Args:
        anchor, positive, negative: (N, D) embeddings; row i is one triplet.
        margin: α. A triplet is *active* (contributes) when ``d(a,p) + α > d(a,n)``.
        metric: distance, ``"euclidean"`` or ``"cosine"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-triplet losses).

    Example:
        >>> a = torch.tensor([[1.0, 0.0]]); p = torch.tensor([[0.9, 0.1]]); n = torch.tensor([[0.0, 1.0]])
        >>> float(triplet_loss(a, p, n, margin=0.1))
        0.0
    """
    losses = F.relu(pairwise_distance(anchor, positive, metric) - pairwise_distance(anchor, negative, metric) + margin)
    return _reduce(losses, reduction)


def info_nce(
    queries: torch.Tensor, keys: torch.Tensor, temperature: float = 0.1, reduction: str = "mean"
) -> torch.Tensor:
    """InfoNCE with in-batch negatives: row i of ``keys`` is query i's positive,
    every other key a negative (MultipleNegativesRankingLoss with scale 1/τ).

    ``L_i = −log( exp(cos(q_i,k_i)/τ) / Σ_j exp(cos(q_i,k_j)/τ) )``. Lower τ sharpens.
    """
    logits = _cosine_logits(queries, keys, 1.0 / temperature)
    targets = torch.arange(len(queries), device=queries.device)
    return F.cross_entropy(logits, targets, reduction=reduction)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1, reduction: str = "mean") -> torch.Tensor:
    """NT-Xent (SimCLR): 2N views, view i's positive is its twin, and the
    denominator runs over all other 2N−1 views (k ≠ i):

    ``L_i = −log( exp(sim(z_i,z_j)/τ) / Σ_{k≠i} exp(sim(z_i,z_k)/τ) )``.

    Args:
        z1, z2: (N, D) the two views; z1[i] and z2[i] are a positive pair.
    """
    z = F.normalize(torch.cat([z1, z2]), dim=-1, eps=1e-8)
    n = len(z1)
    logits = z @ z.T / temperature
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, targets, reduction=reduction)


def clip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor | float = 100.0) -> torch.Tensor:
    """Symmetric CLIP loss: the mean of image→text and text→image cross-entropy over
    the logits ``s · I Tᵀ`` (rows normalised), pairs on the diagonal.

    Args:
        image_emb, text_emb: (N, D); row i of each is a matching pair.
        logit_scale: ``s`` (CLIP learns ``log s``; pass ``log_s.exp()``).
    """
    logits = _cosine_logits(image_emb, text_emb, logit_scale)
    targets = torch.arange(len(image_emb), device=image_emb.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def siglip_loss(
    image_emb: torch.Tensor, text_emb: torch.Tensor,
    logit_scale: torch.Tensor | float = 10.0, logit_bias: torch.Tensor | float = -10.0,
) -> torch.Tensor:
    """SigLIP sigmoid loss: ``L = −(1/N) Σ_i Σ_j log σ( z_ij · (t · x_i·y_j + b) )``,
    ``z_ij = +1`` on the diagonal and ``−1`` elsewhere; each pair is an independent
    binary decision, so no batch-wide softmax is needed.

    Args:
        image_emb, text_emb: (N, D); row i of each is a matching pair.
        logit_scale: ``t`` (SigLIP learns ``log t``; pass ``log_t.exp()``).
        logit_bias: ``b``.
    """
    logits = _cosine_logits(image_emb, text_emb, logit_scale) + logit_bias
    n = len(image_emb)
    signs = 2 * torch.eye(n, device=logits.device, dtype=logits.dtype) - 1
    return -F.logsigmoid(signs * logits).sum() / n


def _cosine_logits(a: torch.Tensor, b: torch.Tensor, scale) -> torch.Tensor:
    return scale * F.normalize(a, dim=-1, eps=1e-8) @ F.normalize(b, dim=-1, eps=1e-8).T


def _reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
