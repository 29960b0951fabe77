"""The small BERT-style encoder (transformers' ``BertForMaskedLM`` or, for next-token
prediction, ``BertLMHeadModel``, built from a config: no pretrained weights) and the three
objectives the arms train it with. Needs torch; ``compute`` imports it lazily.

Every objective takes the same batch (a padded id matrix and its attention mask) and
returns a scalar loss:
- ``masked_token_loss``: BERT's masked-LM, −log p(x_t | the unmasked rest) at 15% of positions;
- ``next_token_loss``: −Σ log p(x_t | x_<t), causal attention;
- ``simcse_loss``: unsupervised SimCSE (Gao et al. 2021), the batch encoded twice with
  dropout on; each text's other view is its positive, the batch's other texts the negatives
  (``playground.science.losses.info_nce``).
"""
from __future__ import annotations

import numpy as np
import torch

from playground.models.base import TextModel, torch_module_bytes
from playground.science.losses import info_nce

from .vocab import MASK, PAD, SPECIALS


def build_encoder(vocab_size: int, hidden: int, layers: int, heads: int, max_len: int, causal: bool, seed: int):
    """A freshly initialised encoder with an LM head, the same weights for the same seed
    (the causal one differs only in its attention mask: same parameter shapes)."""
    # Full module paths, not ``from transformers import ...``: while the app's background warm-up
    # is still importing transformers, its lazy top-level names can raise ImportError in another
    # thread (seen here: "cannot import name 'BertConfig'"); the submodules' own imports wait.
    from transformers.models.bert.configuration_bert import BertConfig
    from transformers.models.bert.modeling_bert import BertForMaskedLM, BertLMHeadModel
    from transformers.utils import logging as hf_logging

    config = BertConfig(
        vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=4 * hidden, max_position_embeddings=max_len, type_vocab_size=1, pad_token_id=PAD,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, is_decoder=causal,
    )
    torch.manual_seed(seed)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # BertLMHeadModel's "add is_decoder" hint does not apply
    try:
        return (BertLMHeadModel if causal else BertForMaskedLM)(config)
    finally:
        hf_logging.set_verbosity(verbosity)


def pad_batch(rows: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, attention mask), both (B, longest row), padded with ``[PAD]``."""
    longest = max(len(r) for r in rows)
    ids = np.full((len(rows), longest), PAD, dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
    ids_t = torch.from_numpy(ids)
    return ids_t, (ids_t != PAD).long()


def mean_pooled(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of the last layer's token vectors over the real (unpadded) tokens: (B, hidden)."""
    hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def choose_masks(ids: torch.Tensor, rng: np.random.Generator, rate: float = 0.15) -> torch.Tensor:
    """Which positions to predict: ``rate`` of the real, non-special tokens, at least one per row."""
    real = (ids >= len(SPECIALS)).numpy()
    pick = (rng.random(real.shape) < rate) & real
    for i in np.flatnonzero(~pick.any(1) & real.any(1)):
        pick[i, rng.choice(np.flatnonzero(real[i]))] = True
    return torch.from_numpy(pick)


def corrupt(ids: torch.Tensor, chosen: torch.Tensor, rng: np.random.Generator, vocab_size: int) -> torch.Tensor:
    """BERT's corruption of the chosen positions: 80% ``[MASK]``, 10% a random piece, 10% kept."""
    draw = torch.from_numpy(rng.random(ids.shape))
    random_ids = torch.from_numpy(rng.integers(len(SPECIALS), vocab_size, size=ids.shape))
    out = ids.clone()
    out[chosen & (draw < 0.8)] = MASK
    swap = chosen & (draw >= 0.8) & (draw < 0.9)
    out[swap] = random_ids[swap]
    return out


def masked_token_loss(model, ids, mask, rng: np.random.Generator) -> torch.Tensor:
    """Cross-entropy of the original piece at the chosen positions (logits only there)."""
    chosen = choose_masks(ids, rng)
    inputs = corrupt(ids, chosen, rng, model.config.vocab_size)
    hidden = model.bert(input_ids=inputs, attention_mask=mask).last_hidden_state
    logits = model.cls(hidden[chosen])
    return torch.nn.functional.cross_entropy(logits, ids[chosen])


def next_token_loss(model, ids, mask, rng=None) -> torch.Tensor:
    """Cross-entropy of each next real piece given the ones before it (causal attention)."""
    hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
    target_ok = mask[:, 1:].bool()
    logits = model.cls(hidden[:, :-1][target_ok])
    return torch.nn.functional.cross_entropy(logits, ids[:, 1:][target_ok])


def simcse_loss(model, ids, mask, rng=None, tau: float = 0.05) -> torch.Tensor:
    """Unsupervised SimCSE: two dropout views of the batch, InfoNCE at temperature ``tau``."""
    return info_nce(mean_pooled(model, ids, mask), mean_pooled(model, ids, mask), temperature=tau)


OBJECTIVES = {"mlm": masked_token_loss, "causal": next_token_loss, "simcse": simcse_loss}


@torch.no_grad()
def token_accuracy(model, rows: list[np.ndarray], objective: str, rng: np.random.Generator,
                   batch_size: int = 64) -> tuple[float, np.ndarray]:
    """The LM head's accuracy on held-out ``rows`` and the targets it was scored on:
    masked-token (15% of pieces replaced by ``[MASK]``) or next-token."""
    was = model.training
    model.eval()
    right = 0
    targets = []
    for start in range(0, len(rows), batch_size):
        ids, mask = pad_batch(rows[start : start + batch_size])
        if objective == "causal":
            hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
            ok = ids[:, 1:] >= len(SPECIALS)  # scored on real pieces only, as the masked task is (not [SEP], [UNK])
            logits, truth = model.cls(hidden[:, :-1][ok]), ids[:, 1:][ok]
        else:
            chosen = choose_masks(ids, rng)
            hidden = model.bert(input_ids=ids.masked_fill(chosen, MASK), attention_mask=mask).last_hidden_state
            logits, truth = model.cls(hidden[chosen]), ids[chosen]
        right += int((logits.argmax(-1) == truth).sum())
        targets.append(truth.numpy())
    model.train(was)
    truth = np.concatenate(targets)
    return right / max(1, len(truth)), truth


@torch.no_grad()
def embed(model, rows: list[np.ndarray], batch_size: int = 64) -> np.ndarray:
    """Mean-pooled vectors of ``rows`` in eval mode (no dropout): float32 (n, hidden)."""
    was = model.training
    model.eval()
    out = [mean_pooled(model, *pad_batch(rows[s : s + batch_size])).numpy() for s in range(0, len(rows), batch_size)]
    model.train(was)
    return np.concatenate(out).astype(np.float32)


def state_checksum(model) -> float:
    """A number that changes when any weight does (sum of every parameter's float64 sum, weighted)."""
    return float(sum((k + 1) * p.detach().double().sum().item() for k, p in enumerate(model.parameters())))


class TrainedEncoder(TextModel):
    """A lab-trained encoder as a registry text model: WordPiece ids in the lab's compact
    vocabulary, mean pooling, eval mode (no dropout)."""

    def __init__(self, id: str, encoder, vocabulary, max_len: int, description: str = "") -> None:
        super().__init__(id, "cpu")
        self.encoder = encoder.eval()
        self.vocabulary, self.max_len = vocabulary, max_len
        self.dim = int(encoder.config.hidden_size)
        self.description = description

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return embed(self.encoder, self.vocabulary.encode(texts, self.max_len), batch_size)

    def memory_bytes(self) -> int:
        return torch_module_bytes(self.encoder)
