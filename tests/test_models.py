"""Each model family through its real loader: the bundled MiniLM and GloVe, and tiny
BERT, CLIP and SigLIP models built from configs."""
import numpy as np
import pytest
from PIL import Image

from conftest import registry_of
from playground.models.catalog import DEFAULT_MODELS
from playground.models.glove import tokenize


@pytest.fixture(scope="module")
def registry(tiny_specs):
    return registry_of(*DEFAULT_MODELS, *tiny_specs)


def assert_unit_rows(x, n, dim):
    assert x.shape == (n, dim) and x.dtype == np.float32
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-4)


def test_minilm_puts_paraphrases_closer_than_unrelated(registry):
    m = registry.get("minilm")
    v = m.encode_texts(["A man is playing a guitar.", "Someone plays an acoustic guitar.", "The invoice is due on Friday."])
    assert_unit_rows(v, 3, 384)
    assert v[0] @ v[1] > 0.6 and v[0] @ v[2] < 0.2


def test_glove_pools_known_words_and_rejects_texts_without_any(registry):
    g = registry.get("glove")
    v = g.encode_texts(["the cat sat", "cat sat the"])
    assert_unit_rows(v, 2, 50)
    assert np.allclose(v[0], v[1], atol=1e-6)  # a mean ignores word order
    expected = g.vectors[[g.index["the"], g.index["cat"], g.index["sat"]]].mean(0)
    assert np.allclose(v[0], expected / np.linalg.norm(expected), atol=1e-6)
    with pytest.raises(ValueError, match="knows none of the words"):
        g.encode_texts(["qwzxv plmkq"])


def test_glove_tokenisation():
    assert tokenize("Don't STOP, well-known 3.5!") == ["don't", "stop", "well-known", "3", "5"]


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_tiny_bert_through_the_hf_encoder_loader(tiny_specs, pooling):
    from dataclasses import replace

    from playground.models.registry import ModelRegistry

    spec = next(s for s in tiny_specs if s.id == "tiny-bert")
    reg = ModelRegistry(device="cpu")
    reg.register(replace(spec, id=f"tiny-bert-{pooling}", options={"pooling": pooling}))
    m = reg.get(f"tiny-bert-{pooling}")
    assert m.pooling == pooling
    assert_unit_rows(m.encode_texts(["a photo of a cat", "a dog", "red car"]), 3, 32)


def test_tiny_clip_scores_with_softmax(registry):
    m = registry.get("tiny-clip")
    assert m.scoring == "softmax" and m.logit_bias is None
    images = [Image.new("RGB", (64, 48), "red"), Image.new("RGB", (20, 30), "blue")]
    ie, te = m.encode_images(images), m.encode_texts(["a cat", "a dog", "a car"])
    assert_unit_rows(ie, 2, 32)
    assert_unit_rows(te, 3, 32)
    p = m.probabilities(ie, te)
    assert p.shape == (2, 3) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert m.preprocess_view(images[0]).shape == (m.image_size, m.image_size, 3)


def test_tiny_siglip_scores_with_independent_sigmoids(registry):
    m = registry.get("tiny-siglip")
    assert m.scoring == "sigmoid" and m.logit_bias == pytest.approx(-10.0)
    ie = m.encode_images([Image.new("RGB", (40, 40), "green")])
    te = m.encode_texts(["a cat", "a dog", "a car"])
    p = m.probabilities(ie, te)
    expected = 1 / (1 + np.exp(-(m.logit_scale * ie @ te.T + m.logit_bias)))
    assert np.allclose(p, expected, atol=1e-6)
    assert not np.isclose(p.sum(), 1.0)  # independent: no reason to sum to 1
