"""The models cuesteer knows: where each comes from, which files it needs, how big it is, its licence.

Files are described as groups of alternatives (`FileGroup`): a model is complete when every group has one
alternative whose glob patterns all match a file. The same description decides what `pull` downloads (the first
alternative the repository offers: safetensors before pickles, one file before shards) and what `list`/`verify`
call present. Sizes are approximate (what the Hub showed when this was written); `pull` reports the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HF, TORCH_HUB, BUNDLED = "huggingface", "torch-hub", "bundled"
GB, MB = 1_000_000_000, 1_000_000

Alternative = tuple[str, ...]  # glob patterns (relative to the snapshot) that must all match


@dataclass(frozen=True)
class FileGroup:
    """One thing a model needs (its weights, its tokenizer, ...), satisfied by any one alternative."""

    what: str
    alternatives: tuple[Alternative, ...]

    def describe(self) -> str:
        return " or ".join(" + ".join(alt) for alt in self.alternatives)


@dataclass(frozen=True)
class ModelSpec:
    name: str  # what users type: `cuesteer models pull NAME`
    label: str
    source: str  # HF, TORCH_HUB or BUNDLED
    repo_id: str  # Hub repo id, torch-hub checkpoint file name, or the bundled file's package path
    approx_bytes: int
    licence: str
    used_for: str
    groups: tuple[FileGroup, ...] = ()
    # Small files fetched when the repository has them (tokenizer settings and the like); never required.
    extras: tuple[str, ...] = ()
    url: str = ""  # TORCH_HUB: where the checkpoint is downloaded from
    needs_package: str = ""  # an optional Python package the model's code path needs, e.g. "diffusers"
    aliases: tuple[str, ...] = field(default=())

    @property
    def pull_command(self) -> str:
        return f"cuesteer models pull {self.name}"


def weight_group(prefix: str = "", stem: str = "model", what: str = "weights") -> FileGroup:
    """Weights as transformers/diffusers save them: one safetensors file, shards with an index, or pickles."""
    bin_stem = "pytorch_model" if stem == "model" else stem
    return FileGroup(what, (
        (f"{prefix}{stem}.safetensors",),
        (f"{prefix}{stem}.safetensors.index.json", f"{prefix}{stem}-*-of-*.safetensors"),
        (f"{prefix}{bin_stem}.bin",),
        (f"{prefix}{bin_stem}.bin.index.json", f"{prefix}{bin_stem}-*-of-*.bin"),
    ))


CONFIG = FileGroup("config", (("config.json",),))
BPE_TOKENIZER = FileGroup("tokenizer", (("tokenizer.json",), ("vocab.json", "merges.txt")))
T5_TOKENIZER = FileGroup("tokenizer", (("tokenizer.json",), ("spiece.model",)))
PREPROCESSOR = FileGroup("preprocessor", (("preprocessor_config.json",), ("processor_config.json",)))
TOKENIZER_EXTRAS = ("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                    "generation_config.json", "processor_config.json", "chat_template.json")

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="clap", label="CLAP (music)", source=HF, repo_id="laion/larger_clap_music", approx_bytes=780 * MB,
        licence="Apache-2.0", used_for="audio/text search encoder (--encoder clap)",
        groups=(CONFIG, weight_group(), PREPROCESSOR, BPE_TOKENIZER), extras=TOKENIZER_EXTRAS,
    ),
    ModelSpec(
        name="clip", label="CLIP ViT-B/32", source=HF, repo_id="openai/clip-vit-base-patch32",
        approx_bytes=610 * MB, licence="MIT", used_for="image queries (--image)",
        groups=(CONFIG, weight_group(), PREPROCESSOR, BPE_TOKENIZER), extras=TOKENIZER_EXTRAS,
    ),
    ModelSpec(
        name="musicgen", label="MusicGen small", source=HF, repo_id="facebook/musicgen-small",
        approx_bytes=int(2.4 * GB), licence="CC-BY-NC-4.0 (non-commercial use only)",
        used_for="generate --backend musicgen",
        groups=(CONFIG, weight_group(), PREPROCESSOR, T5_TOKENIZER), extras=TOKENIZER_EXTRAS,
    ),
    ModelSpec(
        name="musicgen-melody", label="MusicGen melody", source=HF, repo_id="facebook/musicgen-melody",
        approx_bytes=int(6.2 * GB), licence="CC-BY-NC-4.0 (non-commercial use only)",
        used_for="generate --backend musicgen-melody",
        groups=(CONFIG, weight_group(), PREPROCESSOR, T5_TOKENIZER), extras=TOKENIZER_EXTRAS,
    ),
    ModelSpec(
        name="musicldm", label="MusicLDM", source=HF, repo_id="ucsd-reach/musicldm", approx_bytes=int(2.0 * GB),
        licence="CC-BY-NC-SA-4.0 (non-commercial, share alike)", used_for="generate --backend musicldm",
        groups=(
            FileGroup("pipeline index", (("model_index.json",),)),
            FileGroup("scheduler", (("scheduler/scheduler_config.json",),)),
            FileGroup("unet config", (("unet/config.json",),)),
            weight_group("unet/", "diffusion_pytorch_model", "unet weights"),
            FileGroup("vae config", (("vae/config.json",),)),
            weight_group("vae/", "diffusion_pytorch_model", "vae weights"),
            FileGroup("text encoder config", (("text_encoder/config.json",),)),
            weight_group("text_encoder/", what="text encoder weights"),
            FileGroup("vocoder config", (("vocoder/config.json",),)),
            weight_group("vocoder/", what="vocoder weights"),
            FileGroup("tokenizer", (("tokenizer/tokenizer.json",), ("tokenizer/vocab.json", "tokenizer/merges.txt"))),
        ),
        extras=("tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json",
                "feature_extractor/preprocessor_config.json"),
        needs_package="diffusers",
    ),
    ModelSpec(
        name="demucs", label="Demucs htdemucs", source=TORCH_HUB, repo_id="955717e8-8726e21a.th",
        approx_bytes=84 * MB, licence="MIT", used_for="analyze/export --stems (Demucs instead of HPSS)",
        url="https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/955717e8-8726e21a.th",
        needs_package="demucs",
    ),
    ModelSpec(
        name="offline", label="cuesteer offline music-text model", source=BUNDLED,
        repo_id="worker/encoders/offline/weights/offline.pt", approx_bytes=10 * MB,
        licence="MIT (ours; text tower all-MiniLM-L6-v2: Apache-2.0)",
        used_for="default encoder without CLAP: search and steering fully offline",
    ),
)
BY_NAME: dict[str, ModelSpec] = {m.name: m for m in MODELS} | {a: m for m in MODELS for a in m.aliases}


class UnknownModel(KeyError):
    def __str__(self) -> str:
        return f"unknown model {self.args[0]!r}; choose one of: {', '.join(m.name for m in MODELS)}"


def get(name: str) -> ModelSpec:
    """The model called `name` (or its Hub repo id, so `cuesteer models pull laion/larger_clap_music` works)."""
    if name in BY_NAME:
        return BY_NAME[name]
    for spec in MODELS:
        if spec.repo_id == name:
            return spec
    raise UnknownModel(name)
