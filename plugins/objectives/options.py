"""The lab's choices and names, apart from ``compute`` (which needs torch), so that the
tab and the CLI can read them without importing torch."""
from __future__ import annotations

NLL_OBJECTIVES = ("mlm", "causal")
NLL_NAMES = {"mlm": "masked-token prediction (BERT's MLM)", "causal": "next-token prediction (causal LM)"}
TOKEN_METRIC = {"mlm": "masked-token accuracy", "causal": "next-token accuracy"}
# The arms. Every arm sees the same batches in the same order with the same optimiser and
# schedule; only the loss of each phase differs (phase 1: pre-training, phase 2: continuation).
ARMS = ("nll", "contrastive", "scratch")
ARM_NAMES = {"nll": "NLL, then more NLL", "contrastive": "NLL, then SimCSE", "scratch": "SimCSE from scratch"}
SESSION_MODEL_IDS = {"nll": "my-nll", "contrastive": "my-contrastive", "scratch": "my-scratch"}
INIT = "init"  # the shared random initialisation, measured before any step
