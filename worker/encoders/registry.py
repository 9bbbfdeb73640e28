"""Encoders by name, built lazily (importing transformers costs seconds), and the default choice:
CLAP when its weights are in the user's cache, else our own offline music–text model, else `descriptor`."""

from __future__ import annotations

from collections.abc import Callable

from worker.encoders.base import Encoder, EncoderError


def _descriptor() -> Encoder:
    from worker.encoders.descriptor import DescriptorEncoder

    return DescriptorEncoder()


def _offline() -> Encoder:
    try:
        from worker.encoders.offline.encoder import OfflineEncoder
    except ImportError as exc:
        raise EncoderError(f"the offline music–text model is not available in this build ({exc})") from exc
    return OfflineEncoder()


def _clap() -> Encoder:
    from worker.encoders.clap import ClapEncoder

    return ClapEncoder()


def _clip() -> Encoder:
    from worker.encoders.clip import ClipEncoder

    return ClipEncoder()


BUILDERS: dict[str, Callable[[], Encoder]] = {
    "descriptor": _descriptor,
    "offline": _offline,
    "clap": _clap,
    "clip": _clip,
}
AUDIO_ENCODERS = ("offline", "clap", "descriptor")
_cache: dict[str, Encoder] = {}


def get_encoder(name: str | None = None) -> Encoder:
    """The named encoder (built once per process), or the default when `name` is None or "auto"."""
    if not name or name == "auto":
        name = default_encoder_name()
    if name not in BUILDERS:
        raise EncoderError(f"unknown encoder {name!r}; choose one of: {', '.join(sorted(BUILDERS))}")
    if name not in _cache:
        _cache[name] = BUILDERS[name]()
    return _cache[name]


def default_encoder_name() -> str:
    try:
        from worker.encoders.clap import clap_available

        if clap_available():
            return "clap"
    except ImportError:
        pass
    if offline_available():
        return "offline"
    return "descriptor"


def offline_available() -> bool:
    try:
        from worker.encoders.offline.encoder import weights_available
    except ImportError:
        return False
    return weights_available()
