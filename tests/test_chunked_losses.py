"""The batch split over k simulated devices (``siglip_loss_chunked``, ``clip_loss_all_gather``):
the same loss values and gradients as the unchunked losses, and what each device holds."""
import pytest
import torch

from playground.science import losses


def _pair(batch, dim, seed):
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, dim, generator=g, dtype=torch.float64).requires_grad_()
    texts = torch.randn(batch, dim, generator=g, dtype=torch.float64).requires_grad_()
    return images, texts


def _value_and_grads(loss_fn, images, texts, *params):
    loss = loss_fn(images, texts, *params)
    grads = torch.autograd.grad(loss, (images, texts, *params))
    return loss.detach(), [g.detach() for g in grads]


@pytest.mark.parametrize("batch,devices,seed", [(8, 1, 0), (8, 2, 1), (12, 3, 2), (16, 4, 3), (32, 8, 4), (30, 5, 5)])
def test_chunked_sigmoid_loss_and_gradients_equal_the_unchunked_loss(batch, devices, seed):
    images, texts = _pair(batch, 6, seed)
    scale = torch.tensor(7.5, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)
    whole, whole_grads = _value_and_grads(losses.siglip_loss, images, texts, scale, bias)
    chunked, chunked_grads = _value_and_grads(
        lambda i, t, s, b: losses.siglip_loss_chunked(i, t, s, b, devices=devices), images, texts, scale, bias
    )
    assert abs(float(whole - chunked)) < 1e-5
    for a, b in zip(whole_grads, chunked_grads):  # images, texts, scale, bias
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chunked_sigmoid_agrees_in_float32_too(seed):
    images, texts = (x.detach().float() for x in _pair(64, 32, seed))
    whole = losses.siglip_loss(images, texts, 10.0, -10.0)
    assert abs(float(whole - losses.siglip_loss_chunked(images, texts, 10.0, -10.0, devices=8))) < 1e-5


@pytest.mark.parametrize("batch,devices,seed", [(8, 2, 0), (12, 3, 1), (32, 8, 2)])
def test_all_gather_softmax_loss_and_gradients_equal_clip_loss(batch, devices, seed):
    images, texts = _pair(batch, 6, seed)
    scale = torch.tensor(20.0, dtype=torch.float64, requires_grad=True)
    whole, whole_grads = _value_and_grads(losses.clip_loss, images, texts, scale)
    gathered, gathered_grads = _value_and_grads(
        lambda i, t, s: losses.clip_loss_all_gather(i, t, s, devices=devices), images, texts, scale
    )
    assert abs(float(whole - gathered)) < 1e-5
    for a, b in zip(whole_grads, gathered_grads):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_softmax_rows_without_the_global_normaliser_give_another_loss():
    """Per-device softmax over only the local chunk (no all-gather) is a different loss."""
    images, texts = (x.detach() for x in _pair(16, 6, 0))
    whole = losses.clip_loss(images, texts, 20.0)
    local_only = sum(losses.clip_loss(i, t, 20.0) for i, t in zip(images.chunk(4), texts.chunk(4))) / 4
    assert abs(float(whole - local_only)) > 1e-2


def _held(loss_fn, batch, dim, devices):
    """Per device: (largest bytes held in one step, bytes received over all steps)."""
    peak, received = [0] * devices, [0] * devices

    def on_step(device, step, held, got):
        storages = {t.untyped_storage().data_ptr(): t.nbytes for t in held.values()}
        peak[device] = max(peak[device], sum(storages.values()))
        received[device] += sum(t.nbytes for t in got)

    with torch.no_grad():
        loss_fn(torch.randn(batch, dim), torch.randn(batch, dim), devices=devices, on_step=on_step)
    return peak, received


def test_what_each_device_holds_and_receives():
    batch, dim, k, f32 = 64, 16, 4, 4
    rows = batch // k
    sig_peak, sig_received = _held(losses.siglip_loss_chunked, batch, dim, k)
    soft_peak, soft_received = _held(losses.clip_loss_all_gather, batch, dim, k)
    # sigmoid: its own images, one text chunk and a (B/k)² block of logits at a time
    assert sig_peak == [f32 * (2 * rows * dim + rows * rows)] * k
    # softmax: its chunks, both gathered (B × D) copies and two (B/k × B) rows of logits
    assert soft_peak == [f32 * (2 * rows * dim + 2 * batch * dim + 2 * rows * batch)] * k
    # the ring passes text chunks only (k−1 of them); the all-gather brings both modalities
    assert sig_received == [f32 * (k - 1) * rows * dim] * k
    assert soft_received == [f32 * 2 * (k - 1) * rows * dim] * k


@pytest.mark.parametrize("fn", [losses.siglip_loss_chunked, losses.clip_loss_all_gather])
def test_a_batch_that_does_not_split_evenly_is_refused(fn):
    with pytest.raises(ValueError, match="split evenly over 3 devices"):
        fn(torch.randn(10, 4), torch.randn(10, 4), devices=3)
    with pytest.raises(ValueError, match="devices must be"):
        fn(torch.randn(10, 4), torch.randn(10, 4), devices=0)
