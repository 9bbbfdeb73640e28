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


def tiny_musicgen_melody(seed: int = SEED) -> tuple[Any, Any]:
    """(MusicgenMelodyForConditionalGeneration, T5Tokenizer): the tiny MusicGen's parts with a chroma input."""
    from transformers import MusicgenMelodyConfig, MusicgenMelodyDecoderConfig, MusicgenMelodyForConditionalGeneration

    model, processor = tiny_musicgen(seed)
    config = model.config
    decoder = MusicgenMelodyDecoderConfig(vocab_size=MUSICGEN_CODEBOOK, hidden_size=16, num_hidden_layers=1,
                                          num_attention_heads=2, ffn_dim=32, num_codebooks=config.decoder.num_codebooks,
                                          max_position_embeddings=1024, audio_channels=1,
                                          pad_token_id=MUSICGEN_CODEBOOK, bos_token_id=MUSICGEN_CODEBOOK)
    melody_config = MusicgenMelodyConfig(text_encoder=config.text_encoder.to_dict(),
                                         audio_encoder=config.audio_encoder.to_dict(), decoder=decoder.to_dict(),
                                         num_chroma=12, chroma_length=MELODY_CHROMA_LENGTH)
    torch.manual_seed(seed)
    melody = MusicgenMelodyForConditionalGeneration(melody_config).eval()
    with torch.no_grad():
        for layer in melody.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
    melody.generation_config.decoder_start_token_id = MUSICGEN_CODEBOOK
    melody.generation_config.pad_token_id = MUSICGEN_CODEBOOK
    return melody, processor.tokenizer


MELODY_CHROMA_LENGTH = 40
MELODY_HOP = 400  # 20 chroma frames a second at 8 kHz
MUSICLDM_RATE = 16_000


def tiny_musicldm(seed: int = SEED) -> tuple[Any, Any]:
    """(MusicLDMPipeline, (ClapModel, ClapProcessor)): a tiny pipeline whose text encoder *is* the tiny CLAP
    of the encoder tests, so a `ClapEncoder` over that CLAP embeds into the space MusicLDM is conditioned on."""
    from diffusers import AutoencoderKL, DDIMScheduler, MusicLDMPipeline, UNet2DConditionModel
    from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

    from tests.worker.encoders.tiny_models import TINY_PROJECTION_DIM, tiny_clap

    clap, processor = tiny_clap(seed)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=(8, 16),
                                norm_num_groups=4, attention_head_dim=4, class_embed_type="simple_projection",
                                projection_class_embeddings_input_dim=TINY_PROJECTION_DIM,
                                class_embeddings_concat=True)
    vae = AutoencoderKL(block_out_channels=[8, 16], in_channels=1, out_channels=1, norm_num_groups=4,
                        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"], latent_channels=4)
    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(
        model_in_dim=8, sampling_rate=MUSICLDM_RATE, upsample_initial_channel=16, upsample_rates=[8, 8],
        upsample_kernel_sizes=[16, 16], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
        normalize_before=False))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False)
    pipeline = MusicLDMPipeline(vae=vae, text_encoder=clap, tokenizer=processor.tokenizer,
                                feature_extractor=processor.feature_extractor, unet=unet, scheduler=scheduler,
                                vocoder=vocoder)
    return pipeline, (clap, processor)
