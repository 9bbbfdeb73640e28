"""Tiny randomly initialised MusicGen and MusicLDM built from configs, with real processors (no download).

MusicGen's tokenizer is a real `T5Tokenizer` over an in-memory unigram vocabulary; its EnCodec runs at 8 kHz
with 50 frames a second. MusicLDM reuses the tiny CLAP text tower and tokenizer of the encoder tests.
"""

from __future__ import annotations

import os
from typing import Any

import torch

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SEED = 0
MUSICGEN_RATE = 8_000
MUSICGEN_CODEBOOK = 32
WORDS = ("warm", "acoustic", "guitar", "dark", "cinematic", "strings", "upbeat", "electronic", "drums", "calm",
         "solo", "piano", "music", "instrumental", "fast", "slow")


def tiny_t5_tokenizer() -> Any:
    from transformers import T5Tokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [("▁" + w, -2.0) for w in WORDS]
    vocab += [(c, -5.0) for c in "▁abcdefghijklmnopqrstuvwxyz,"]
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def tiny_musicgen(seed: int = SEED) -> tuple[Any, Any]:
    """(MusicgenForConditionalGeneration, MusicgenProcessor) with random weights at 8 kHz."""
    from transformers import (
        EncodecConfig,
        EncodecFeatureExtractor,
        MusicgenConfig,
        MusicgenDecoderConfig,
        MusicgenForConditionalGeneration,
        MusicgenProcessor,
        T5Config,
    )

    tokenizer = tiny_t5_tokenizer()
    extractor = EncodecFeatureExtractor(feature_size=1, sampling_rate=MUSICGEN_RATE, padding_value=0.0)
    text = T5Config(vocab_size=len(tokenizer), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2)
    audio = EncodecConfig(sampling_rate=MUSICGEN_RATE, audio_channels=1, num_filters=4, hidden_size=16,
                          upsampling_ratios=[8, 5, 4], codebook_size=MUSICGEN_CODEBOOK, codebook_dim=16,
                          num_residual_layers=1, num_lstm_layers=1, target_bandwidths=[1.0], compress=2,
                          normalize=False, use_causal_conv=True)
    decoder = MusicgenDecoderConfig(vocab_size=MUSICGEN_CODEBOOK, hidden_size=16, num_hidden_layers=1,
                                    num_attention_heads=2, ffn_dim=32, num_codebooks=audio.num_quantizers,
                                    max_position_embeddings=1024, audio_channels=1,
                                    pad_token_id=MUSICGEN_CODEBOOK, bos_token_id=MUSICGEN_CODEBOOK)
    config = MusicgenConfig(text_encoder=text.to_dict(), audio_encoder=audio.to_dict(), decoder=decoder.to_dict())
    torch.manual_seed(seed)
    model = MusicgenForConditionalGeneration(config).eval()
    with torch.no_grad():  # EnCodec's codebooks are buffers that start at zero (they come with the weights)
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
    model.generation_config.decoder_start_token_id = MUSICGEN_CODEBOOK
    model.generation_config.pad_token_id = MUSICGEN_CODEBOOK
    return model, MusicgenProcessor(feature_extractor=extractor, tokenizer=tokenizer)
