"""Contrastive losses on embeddings, batched in torch (values and gradients).

Each function takes embeddings (not raw inputs), so a lab can call it on frozen
vectors, on a trained head's output, or inside a training loop. Rows are
L2-normalised inside where the formula uses cosine similarity.
"""
from __future__ import annotations

from playground.models.lazy import F, torch


METRICS = ("euclidean", "cosine")


def pairwise_distance(a: torch.Tensor, b: torch.Tensor, metric: str = "euclidean") -> torch.Tensor:
    """Row-wise distance between ``a[i]`` and ``b[i]``, shape (N,).

    ``metric``: ``"euclidean"`` (``‖a−b‖``) or ``"cosine"`` (``1 − cos(a, b)``,
    in [0, 2]). On L2-normalised rows the two agree in order:
    ``‖a−b‖ = sqrt(2 · (1 − cos(a, b)))``.
    """
    _check_pair(a, b, "a", "b", same_rows=True)
    if metric == "euclidean":
        # vector_norm's gradient at a == b is 0 (a subgradient), never NaN, in any
        # precision; an added epsilon inside a sqrt would underflow in float16.
        return torch.linalg.vector_norm(a - b, dim=-1)
    if metric == "cosine":
        return 1.0 - F.cosine_similarity(a, b, dim=-1, eps=1e-8)
    raise ValueError(f"metric must be 'euclidean' or 'cosine', got {metric!r}.")


def triplet_distances(
    anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, metric: str = "euclidean"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(d(a,p), d(a,n))`` for each triplet (row), each of shape (N,)."""
    _check_pair(anchor, positive, "anchor", "positive", same_rows=True)
    _check_pair(anchor, negative, "anchor", "negative", same_rows=True)
    return pairwise_distance(anchor, positive, metric), pairwise_distance(anchor, negative, metric)


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
    d_ap, d_an = triplet_distances(anchor, positive, negative, metric)
    return _reduce(F.relu(d_ap - d_an + margin), reduction)


def info_nce(
    queries: torch.Tensor, keys: torch.Tensor, temperature: float = 0.1, reduction: str = "mean"
) -> torch.Tensor:
    """InfoNCE with in-batch negatives: row i of ``keys`` is query i's positive,
    every other key a negative (sentence-transformers' MultipleNegativesRankingLoss
    with ``scale = 1/τ``):

    ``L_i = −log( exp(cos(q_i,k_i)/τ) / Σ_j exp(cos(q_i,k_j)/τ) )``, j over all N keys.

    Lower τ sharpens the softmax: the hardest negatives dominate the denominator.

    Args:
        queries, keys: (N, D); rows are L2-normalised inside.
        temperature: τ > 0.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-query losses).
    """
    _check_pair(queries, keys, "queries", "keys", same_rows=True)
    logits = _cosine_logits(queries, keys, 1.0 / _check_temperature(temperature))
    targets = torch.arange(len(queries), device=queries.device)
    return F.cross_entropy(logits, targets, reduction=_check_reduction(reduction))


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1, reduction: str = "mean") -> torch.Tensor:
    """NT-Xent (SimCLR): 2N views, view i's positive is its twin j, and the
    denominator runs over all other 2N−1 views (k ≠ i):

    ``L_i = −log( exp(sim(z_i,z_j)/τ) / Σ_{k≠i} exp(sim(z_i,z_k)/τ) )``, averaged over all 2N views.

    Args:
        z1, z2: (N, D) the two views; z1[i] and z2[i] are a positive pair.
        temperature: τ > 0.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (2N losses: z1's rows, then z2's).
    """
    _check_pair(z1, z2, "z1", "z2", same_rows=True)
    z = F.normalize(torch.cat([z1, z2]), dim=-1, eps=1e-8)
    n = len(z1)
    logits = z @ z.T / _check_temperature(temperature)
    # -inf, not a large negative number: exp(-inf) is exactly 0 in any precision
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, targets, reduction=_check_reduction(reduction))


def clip_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor | float = 100.0) -> torch.Tensor:
    """Symmetric CLIP loss: the mean of image→text and text→image cross-entropy over
    the logits ``s · I Tᵀ`` (rows normalised), pairs on the diagonal:

    ``L = ½ [ −(1/N) Σ_i log softmax_j(s·x_i·y_j)_i  −(1/N) Σ_j log softmax_i(s·x_i·y_j)_j ]``.

    Args:
        image_emb, text_emb: (N, D); row i of each is a matching pair.
        logit_scale: ``s`` (CLIP learns ``log s``; pass ``log_s.exp()``); ``s = 1/τ``.
    """
    _check_pair(image_emb, text_emb, "image_emb", "text_emb", same_rows=True)
    logits = _cosine_logits(image_emb, text_emb, logit_scale)
    targets = torch.arange(len(image_emb), device=image_emb.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def siglip_loss(
    image_emb: torch.Tensor, text_emb: torch.Tensor,
    logit_scale: torch.Tensor | float = 10.0, logit_bias: torch.Tensor | float = -10.0,
) -> torch.Tensor:
    """SigLIP sigmoid loss: ``L = −(1/N) Σ_i Σ_j log σ( z_ij · (t · x_i·y_j + b) )``,
    ``z_ij = +1`` on the diagonal and ``−1`` elsewhere; each pair is an independent
    binary decision, so no batch-wide softmax is needed. (The defaults t = 10,
    b = −10 are SigLIP's initial values.)

    Args:
        image_emb, text_emb: (N, D); row i of each is a matching pair; rows are
            L2-normalised inside.
        logit_scale: ``t`` (SigLIP learns ``log t``; pass ``log_t.exp()``).
        logit_bias: ``b``.
    """
    _check_pair(image_emb, text_emb, "image_emb", "text_emb", same_rows=True)
    logits = _cosine_logits(image_emb, text_emb, logit_scale) + logit_bias
    n = len(image_emb)
    signs = 2 * torch.eye(n, device=logits.device, dtype=logits.dtype) - 1
    # logsigmoid is computed stably (no log(0)) even for logits of ±1e4
    return -F.logsigmoid(signs * logits).sum() / n


# -- the batch split over k devices -----------------------------------------------
# ``on_step(device, step, held, received)`` lets a caller see what each simulated device
# holds: ``held`` names the tensors alive on ``device`` during ``step``, ``received`` the
# ones that crossed to it from another device in that step. The math does not depend on it.


def siglip_loss_chunked(
    image_emb: torch.Tensor, text_emb: torch.Tensor,
    logit_scale: torch.Tensor | float = 10.0, logit_bias: torch.Tensor | float = -10.0,
    devices: int = 2, on_step=None,
) -> torch.Tensor:
    """``siglip_loss`` computed chunk by chunk over ``devices`` simulated devices, as the
    SigLIP paper's efficient implementation does (Zhai et al. 2023, section 3.3).

    Device d holds image chunk d and text chunk d (B/k rows each). In step s it scores
    its images against the text chunk it holds, then passes that chunk to its neighbour
    around a ring; after k steps every image has met every text. Each step needs only a
    (B/k × B/k) block of logits, and no step needs a normaliser over the whole batch:
    the loss is a plain sum of per-pair terms, so the blocks add up to the full loss
    (the positives, on the diagonal, all fall in step 0).

    Args:
        image_emb, text_emb: (B, D); row i of each is a matching pair; B must be a
            multiple of ``devices``.
        logit_scale, logit_bias: ``t`` and ``b`` as in ``siglip_loss``.
        devices: k, the number of simulated devices.
        on_step: optional ``on_step(device, step, held, received)`` (see above).

    Returns the same value, with the same gradients, as ``siglip_loss``.
    """
    k, images, texts = _device_chunks(image_emb, text_emb, devices)
    rows = len(images[0])
    negatives = -torch.ones(rows, rows, device=image_emb.device, dtype=image_emb.dtype)
    positives = 2 * torch.eye(rows, device=image_emb.device, dtype=image_emb.dtype) - 1
    total = image_emb.new_zeros(())
    for step in range(k):
        for device in range(k):
            held_text = texts[(device + step) % k]  # after `step` passes round the ring
            logits = logit_scale * images[device] @ held_text.T + logit_bias
            signs = positives if step == 0 else negatives
            total = total - F.logsigmoid(signs * logits).sum()
            if on_step is not None:
                received = [held_text] if step > 0 else []
                on_step(device, step, {"images": images[device], "texts": held_text, "logits": logits}, received)
    return total / len(image_emb)


def clip_loss_all_gather(
    image_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor | float = 100.0,
    devices: int = 2, on_step=None,
) -> torch.Tensor:
    """``clip_loss`` over ``devices`` simulated devices, the way a softmax loss must be
    computed: each row's softmax needs a normaliser over every text (and every image
    for the text→image half), so each device first all-gathers every embedding (B × D
    of each) and builds its full rows of logits (B/k × B, both directions).

    Args:
        image_emb, text_emb: (B, D); B a multiple of ``devices``.
        logit_scale: ``s`` as in ``clip_loss``.
        devices: k.
        on_step: optional ``on_step(device, 0, held, received)`` (one step: the gather).

    Returns the same value, with the same gradients, as ``clip_loss``.
    """
    k, images, texts = _device_chunks(image_emb, text_emb, devices)
    rows = len(images[0])
    total = image_emb.new_zeros(())
    for device in range(k):
        all_images, all_texts = torch.cat(images), torch.cat(texts)  # the all-gather: a B × D copy of each
        targets = torch.arange(device * rows, (device + 1) * rows, device=image_emb.device)
        image_to_text = logit_scale * images[device] @ all_texts.T
        text_to_image = logit_scale * texts[device] @ all_images.T
        total = total + F.cross_entropy(image_to_text, targets, reduction="sum")
        total = total + F.cross_entropy(text_to_image, targets, reduction="sum")
        if on_step is not None:
            others = [chunk for j in range(k) if j != device for chunk in (images[j], texts[j])]
            on_step(device, 0, {"images": images[device], "texts": texts[device], "all_images": all_images,
                                "all_texts": all_texts, "image_to_text": image_to_text,
                                "text_to_image": text_to_image}, others)
    return total / (2 * len(image_emb))


def _device_chunks(image_emb: torch.Tensor, text_emb: torch.Tensor, devices: int):
    """``(k, image chunks, text chunks)``: the rows L2-normalised, then cut into the k
    devices' equal shares (device d holds chunk d of each)."""
    _check_pair(image_emb, text_emb, "image_emb", "text_emb", same_rows=True)
    k = _check_devices(len(image_emb), devices)
    images = F.normalize(image_emb, dim=-1, eps=1e-8).chunk(k)
    texts = F.normalize(text_emb, dim=-1, eps=1e-8).chunk(k)
    return k, images, texts


def _check_devices(batch: int, devices: int) -> int:
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ValueError(f"devices must be a whole number ≥ 1, got {devices!r}.")
    if batch % devices:
        raise ValueError(f"the batch ({batch} rows) must split evenly over {devices} devices; "
                         f"pick a batch that is a multiple of {devices}.")
    return devices


def _cosine_logits(a: torch.Tensor, b: torch.Tensor, scale) -> torch.Tensor:
    return scale * F.normalize(a, dim=-1, eps=1e-8) @ F.normalize(b, dim=-1, eps=1e-8).T


def _check_pair(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str, same_rows: bool) -> None:
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(
            f"{name_a} and {name_b} must be 2-D (rows of embeddings), got shapes "
            f"{tuple(a.shape)} and {tuple(b.shape)}."
        )
    if a.shape[1] != b.shape[1] or (same_rows and a.shape[0] != b.shape[0]):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape (N, D), got {tuple(a.shape)} and {tuple(b.shape)}."
        )
    if a.shape[0] == 0:
        raise ValueError(f"{name_a} and {name_b} are empty: a loss needs at least one row.")


def _check_temperature(temperature: float) -> float:
    if isinstance(temperature, torch.Tensor):
        if bool((temperature <= 0).any()):
            raise ValueError(f"temperature must be > 0, got {temperature}.")
        return temperature
    if not temperature > 0:  # also catches NaN
        raise ValueError(f"temperature must be > 0 (for example 0.05), got {temperature!r}.")
    return float(temperature)


def _check_reduction(reduction: str) -> str:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}.")
    return reduction


def _reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    if _check_reduction(reduction) == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses
