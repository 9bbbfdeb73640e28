"""Tiny randomly initialised CLAP and CLIP models with real processors, built from configs (no download).

Tests drive the real encoder code paths through these: the feature extractor runs at CLAP's 48 kHz with its
10-s window, the tokenizers are real byte-level BPE tokenizers (`RobertaTokenizer` for CLAP, `CLIPTokenizer`
for CLIP) trained in memory with the `tokenizers` library on a few phrases. `save_to_hub_cache` lays a model
out the way the Hugging Face cache does, so the offline loading path can be tested without a network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SEED = 0
TINY_PROJECTION_DIM = 16
TINY_IMAGE_SIZE = 32
TINY_VOCAB_SIZE = 400  # byte-level alphabet (256) + specials + ~140 merges
PHRASES = (
    "warm acoustic guitar", "dark cinematic strings", "upbeat electronic drums", "calm solo piano",
    "epic orchestral brass", "lofi hip hop beat", "sad violin melody", "bright ukulele strum",
    "a photo of a beach at sunset", "a city street at night", "a forest in the rain",
)
ROBERTA_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")  # RoBERTa's ids 0..4: pad is 1
CLIP_SPECIALS = ("<|startoftext|>", "<|endoftext|>")


def _train_byte_level_bpe(specials: tuple[str, ...], end_of_word_suffix: str | None = None
                          ) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merges of a small byte-level BPE trained on PHRASES (specials first, in order)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    bpe = models.BPE(end_of_word_suffix=end_of_word_suffix) if end_of_word_suffix else models.BPE()
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    options = {"end_of_word_suffix": end_of_word_suffix} if end_of_word_suffix else {}
    trainer = trainers.BpeTrainer(vocab_size=TINY_VOCAB_SIZE, special_tokens=list(specials),
                                  initial_alphabet=alphabet, show_progress=False, **options)
    tok.train_from_iterator(PHRASES, trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    vocab = dict(model["vocab"])
    if end_of_word_suffix:  # like CLIP's real vocabulary: every byte can also end a word
        for ch in sorted(alphabet):
            vocab.setdefault(ch + end_of_word_suffix, len(vocab))
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return vocab, merges


def tiny_roberta_tokenizer() -> Any:
    """A real `RobertaTokenizer` (CLAP's text tokenizer) over a tiny trained vocabulary."""
    from transformers import RobertaTokenizer

    vocab, merges = _train_byte_level_bpe(ROBERTA_SPECIALS)
    return RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=64)


def tiny_clip_tokenizer() -> Any:
    """A real `CLIPTokenizer` over a tiny trained vocabulary (CLIP marks word ends with `</w>`)."""
    from transformers import CLIPTokenizer

    vocab, merges = _train_byte_level_bpe(CLIP_SPECIALS, end_of_word_suffix="</w>")
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=32)


def tiny_clap(seed: int = SEED, fusion: bool = False) -> tuple[Any, Any]:
    """(ClapModel, ClapProcessor): random weights, the real 48 kHz / 10-s feature extractor. `fusion` builds
    the fused variant (LAION's `clap-htsat-fused`: htk mels, 4 stacked crops per window)."""
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel, ClapProcessor

    tokenizer = tiny_roberta_tokenizer()
    # The settings LAION's larger checkpoints publish (preprocessor_config.json): slaney mels from 50 Hz.
    extractor = ClapFeatureExtractor(truncation="fusion" if fusion else "rand_trunc", padding="repeatpad",
                                     frequency_min=50,
                                     frequency_max=14_000)
    text_config = dict(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=37, max_position_embeddings=tokenizer.model_max_length + 2,
                       pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, projection_dim=TINY_PROJECTION_DIM)
    # spec_size × (spec_size // mel bins) must hold the 1001 frames of a 10-s window: 256 with 64 mel bins, as
    # in the real model; big patches keep the token grid small (32 × 32).
    audio_config = dict(num_mel_bins=extractor.feature_size, spec_size=256, window_size=8, patch_size=8,
                        patch_stride=(8, 8), hidden_size=32, patch_embeds_hidden_size=16, depths=[1, 1],
                        num_attention_heads=[2, 2], projection_dim=TINY_PROJECTION_DIM, enable_fusion=fusion)
    config = ClapConfig(text_config=text_config, audio_config=audio_config, projection_dim=TINY_PROJECTION_DIM)
    torch.manual_seed(seed)
    model = ClapModel(config).eval()
    return model, ClapProcessor(feature_extractor=extractor, tokenizer=tokenizer)


def tiny_clip(seed: int = SEED) -> tuple[Any, Any]:
    """(CLIPModel, CLIPProcessor): random weights, a PIL-backed image processor at 32×32."""
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    tokenizer = tiny_clip_tokenizer()
    images = CLIPImageProcessorPil(size={"shortest_edge": TINY_IMAGE_SIZE},
                                   crop_size={"height": TINY_IMAGE_SIZE, "width": TINY_IMAGE_SIZE})
    text_config = dict(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=37, max_position_embeddings=tokenizer.model_max_length,
                       pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, projection_dim=TINY_PROJECTION_DIM)
    vision_config = dict(image_size=TINY_IMAGE_SIZE, patch_size=8, hidden_size=32, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=37, projection_dim=TINY_PROJECTION_DIM)
    config = CLIPConfig(text_config=text_config, vision_config=vision_config, projection_dim=TINY_PROJECTION_DIM)
    torch.manual_seed(seed)
    model = CLIPModel(config).eval()
    return model, CLIPProcessor(image_processor=images, tokenizer=tokenizer)


def save_to_hub_cache(model: Any, processor: Any, hub_cache: Path, repo_id: str,
                      commit: str = "0123456789abcdef0123456789abcdef01234567") -> Path:
    """Write model + processor where the Hugging Face cache keeps `repo_id` at `commit` (refs/main → commit)."""
    repo_dir = Path(hub_cache) / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo_dir / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(snapshot)
    processor.save_pretrained(snapshot)
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / "main").write_text(commit)
    return snapshot
