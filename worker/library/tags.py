"""Title/artist/album/genre via mutagen's easy interface; a file without readable tags simply has none."""

from __future__ import annotations

from pathlib import Path

TAG_FIELDS = ("title", "artist", "album", "genre")


def read_tags(path: str | Path) -> dict[str, str]:
    try:
        import mutagen

        media = mutagen.File(str(path), easy=True)
    except Exception:  # mutagen raises many types on junk; tags are optional
        return {}
    if media is None or not getattr(media, "tags", None):
        return {}
    out: dict[str, str] = {}
    for name in TAG_FIELDS:
        try:
            value = media.tags.get(name)
        except Exception:
            continue
        if value:
            out[name] = str(value[0] if isinstance(value, list) else value)[:500]
    return out
