"""Steering presets: named sets of signed phrases (plus guidance and seed count) stored as small TOML files.

Shipped presets live in the project's `presets/` folder; "save as preset" writes to the user's preset folder
(`$CUESTEER_PRESETS`, else the platform's app-data folder), atomically. A user preset with a shipped preset's
name shadows it. Reading is `tomllib`; writing is a tiny serializer for this one flat shape.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "presets"
USER_DIR_ENV = "CUESTEER_PRESETS"
MAX_WEIGHT = 1.0


class PresetError(ValueError):
    """A preset file that cannot be read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Preset:
    name: str
    phrases: list[tuple[str, float]]
    description: str = ""
    guidance: float | None = None
    seeds: int | None = None
    path: Path | None = field(default=None, compare=False)


def user_dir() -> Path:
    env = os.environ.get(USER_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or str(Path.home())
    return Path(base) / "presets"


def parse_preset(text: str, source: str = "<preset>") -> Preset:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"{source}: not valid TOML ({exc})") from exc
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PresetError(f"{source}: needs a name = \"…\"")
    phrases = []
    for i, item in enumerate(data.get("steer", [])):
        text_, weight = item.get("text"), item.get("weight", 1.0)
        if not isinstance(text_, str) or not text_.strip() or not isinstance(weight, int | float):
            raise PresetError(f"{source}: [[steer]] #{i + 1} needs text = \"…\" and a numeric weight")
        if abs(weight) > MAX_WEIGHT:
            raise PresetError(f"{source}: weight {weight} of {text_!r} is outside −1…+1")
        phrases.append((text_.strip(), float(weight)))
    guidance = data.get("guidance")
    seeds = data.get("seeds")
    return Preset(name.strip(), phrases, str(data.get("description", "")),
                  None if guidance is None else float(guidance), None if seeds is None else int(seeds))


def load_presets(folders: list[Path] | None = None) -> tuple[list[Preset], list[str]]:
    """(presets sorted by name, errors): later folders shadow earlier ones by name; bad files are reported."""
    folders = folders if folders is not None else [SHIPPED_DIR, user_dir()]
    by_name: dict[str, Preset] = {}
    errors = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.toml")) if Path(folder).is_dir() else []:
            try:
                preset = parse_preset(path.read_text(encoding="utf-8"), str(path))
            except (OSError, UnicodeDecodeError, PresetError) as exc:
                errors.append(str(exc))
                continue
            by_name[preset.name.lower()] = Preset(preset.name, preset.phrases, preset.description,
                                                  preset.guidance, preset.seeds, path)
    return sorted(by_name.values(), key=lambda p: p.name.lower()), errors


def preset_toml(preset: Preset) -> str:
    lines = [f"name = {_quote(preset.name)}"]
    if preset.description:
        lines.append(f"description = {_quote(preset.description)}")
    if preset.guidance is not None:
        lines.append(f"guidance = {preset.guidance:g}")
    if preset.seeds is not None:
        lines.append(f"seeds = {int(preset.seeds)}")
    for text, weight in preset.phrases:
        lines += ["", "[[steer]]", f"text = {_quote(text)}", f"weight = {weight:+.2f}"]
    return "\n".join(lines) + "\n"


def file_name(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"{slug or 'preset'}.toml"


def save_preset(preset: Preset, folder: Path | None = None) -> Path:
    """Write the preset atomically into `folder` (default: the user's preset folder); returns the path."""
    folder = Path(folder) if folder is not None else user_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(preset.name)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(preset_toml(preset), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'
