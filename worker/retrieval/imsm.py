"""How well does a result match the *picture*? MeLFusion's image–music similarity metric (IMSM), text-bridged.

MeLFusion (§4.2.1, eq. 8) scores N images against N pieces of music through a shared set of texts:
A_CLIP[i, t] is image i's similarity to text t (CLIP), A_CLAP[m, t] is music m's similarity to text t (CLAP), and

    A_IMSM = A_CLIP · A_CLAPᵀ,   i.e.  IMSM(i, m) = Σ_t sim(image_i, text_t) · sim(music_m, text_t).

Image and music never meet in one space: the texts are the bridge, so the score works with any image encoder that
has a text tower (CLIP, or the offline colour/texture bridge) next to any music encoder that has one.

`imsm_raw` is that product exactly. Its size grows with the number of texts and with each encoder's constant
cosine offset (every CLIP text scores ≈0.2 against every photo), so the score shown next to a result is
`imsm`: the same product after each similarity profile (a row of A_CLIP or A_CLAP) is centred over the texts
and scaled to unit length — the correlation of the two profiles, in [−1, 1]: 1 when the picture and the music
prefer the same descriptions in the same proportions, 0 when their preferences are unrelated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from worker.encoders.base import Encoder

# The shared texts: short music descriptions that pictures also evoke (mood, energy, colour of sound, setting).
BRIDGE_TEXTS: tuple[str, ...] = (
    "calm ambient music", "tense suspenseful music", "happy upbeat music", "sad melancholic music",
    "epic orchestral music", "dark brooding music", "romantic warm music", "mysterious eerie music",
    "playful light music", "aggressive loud music", "dreamy soft music", "uplifting hopeful music",
    "slow quiet piano", "fast driving drums", "warm acoustic guitar", "cold electronic synth",
    "sparse minimal music", "dense busy music", "bright high register", "low deep register",
    "nature and wide landscapes", "city at night", "action and chase", "peaceful morning",
)
DECIMALS = 4


def imsm_raw(image_text: np.ndarray, music_text: np.ndarray) -> np.ndarray:
    """MeLFusion eq. 8: (I, T) image–text similarities × (M, T) music–text similarities → (I, M)."""
    a_clip, a_clap = _matrices(image_text, music_text)
    return a_clip @ a_clap.T


def imsm(image_text: np.ndarray, music_text: np.ndarray) -> np.ndarray:
    """Eq. 8 on centred, unit-length similarity profiles: (I, M) correlations in [−1, 1] (flat profiles → 0)."""
    a_clip, a_clap = _matrices(image_text, music_text)
    return _profiles(a_clip) @ _profiles(a_clap).T


def _matrices(image_text: np.ndarray, music_text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a_clip = np.atleast_2d(np.asarray(image_text, np.float64))
    a_clap = np.atleast_2d(np.asarray(music_text, np.float64))
    if a_clip.shape[1] != a_clap.shape[1]:
        raise ValueError(f"image and music are scored against {a_clip.shape[1]} and {a_clap.shape[1]} texts: "
                         "the bridge needs the same texts on both sides")
    return a_clip, a_clap


def _profiles(a: np.ndarray) -> np.ndarray:
    centred = a - a.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(centred, axis=1, keepdims=True)
    return np.divide(centred, norm, out=np.zeros_like(centred), where=norm > 1e-12)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def image_encoder_for(library_encoder: Encoder) -> Encoder | None:
    """The encoder that puts pictures next to texts: CLIP when its weights are here, else the library encoder's
    own image bridge (offline), else None (no IMSM for this library)."""
    from worker.encoders.clip import clip_available
    from worker.encoders.registry import get_encoder

    if clip_available():
        return get_encoder("clip")
    if library_encoder.has_image and library_encoder.has_text:
        return library_encoder
    return None


def image_music_scores(images: Sequence[object], track_vectors: np.ndarray, *, music_encoder: Encoder,
                       image_encoder: Encoder, texts: Sequence[str] = BRIDGE_TEXTS) -> np.ndarray:
    """IMSM of one picture query (several frames: their mean unit embedding) against each of `track_vectors`
    (rows in the music encoder's space): (M,) scores in [−1, 1]."""
    if not images or len(track_vectors) == 0:
        return np.zeros(len(track_vectors))
    picture = _unit(_unit(image_encoder.embed_image(list(images))).mean(axis=0))
    image_text = picture[None, :] @ _unit(image_encoder.embed_text(list(texts))).T
    music_text = _unit(track_vectors) @ _unit(music_encoder.embed_text(list(texts))).T
    return imsm(image_text, music_text)[0]


def attach_imsm(results: list[dict], images: Sequence[object] | None, track_vectors: np.ndarray,
                music_encoder: Encoder, image_encoder: Encoder | None = None) -> str | None:
    """Add `imsm` to each result of a picture query (in place); returns why it could not, or None.
    `image_encoder` is the one that embedded the pictures for the search (e.g. the conditional prior's), when
    it has a text tower; otherwise CLIP or the library encoder's own image bridge is used."""
    if not images or not results:
        return None
    if not music_encoder.has_text:
        return f"no image–music score: the `{music_encoder.id}` library encoder has no text tower to bridge with"
    if len(track_vectors) != len(results):
        return "no image–music score: some results have no track vector (re-index the library)"
    if image_encoder is None or not (image_encoder.has_image and image_encoder.has_text):
        image_encoder = image_encoder_for(music_encoder)
    if image_encoder is None:
        return "no image–music score: no encoder here puts pictures next to texts (pull CLIP)"
    scores = image_music_scores(images, track_vectors, music_encoder=music_encoder, image_encoder=image_encoder)
    for result, score in zip(results, scores, strict=True):
        result["imsm"] = round(float(score), DECIMALS)
    return None
