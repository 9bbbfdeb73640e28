"""Finding FluidSynth and a General-MIDI soundfont at run time (the bundle ships neither: FluidSynth is a system
program and FluidR3_GM is 140 MB), so the same build works with Debian's, Homebrew's or a user's own files.

Order: $CUESTEER_SOUNDFONT, a `soundfonts/` folder inside the bundle or beside the package, the user's data
folder (`<platform data dir>/cuesteer/soundfonts/`), then each platform's usual places.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from platformdirs import user_data_dir

from worker.settings import APP_NAME

SOUNDFONT_ENV = "CUESTEER_SOUNDFONT"
FLUIDSYNTH_ENV = "CUESTEER_FLUIDSYNTH"
PREFERRED = ("FluidR3_GM.sf2", "default-GM.sf2", "default.sf2", "GeneralUser GS.sf2", "TimGM6mb.sf2")
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding worker/ (the bundle's _internal/)
SYSTEM_FOLDERS = {
    "linux": ("/usr/share/sounds/sf2", "/usr/share/soundfonts", "/usr/local/share/soundfonts",
              "/usr/share/sounds/sf3"),
    "darwin": ("/opt/homebrew/share/soundfonts", "/usr/local/share/soundfonts", "/opt/homebrew/share/fluid-synth",
               "~/Library/Audio/Sounds/Banks"),
    "win32": (r"C:\soundfonts", r"%ProgramData%\soundfonts", r"%LOCALAPPDATA%\soundfonts"),
}
FLUIDSYNTH_FOLDERS = {
    "darwin": ("/opt/homebrew/bin", "/usr/local/bin"),
    "win32": (r"C:\tools\fluidsynth\bin", r"%ProgramFiles%\fluidsynth\bin", r"C:\ProgramData\chocolatey\bin"),
}
INSTALL_HINTS = {
    "linux": "apt-get install fluidsynth fluid-soundfont-gm (or run installer/setup.sh)",
    "darwin": "brew install fluid-synth, and put a GM soundfont (e.g. FluidR3_GM.sf2) in {folder}",
    "win32": "choco install fluidsynth (or unzip FluidSynth's release), and put FluidR3_GM.sf2 in {folder}",
}


def platform_key() -> str:
    return "darwin" if sys.platform == "darwin" else "win32" if sys.platform == "win32" else "linux"


def user_soundfont_dir() -> Path:
    return Path(user_data_dir(APP_NAME)) / "soundfonts"


def candidate_folders() -> list[Path]:
    folders = [PACKAGE_ROOT / "soundfonts", Path(getattr(sys, "_MEIPASS", PACKAGE_ROOT)) / "soundfonts",
               user_soundfont_dir()]
    folders += [Path(os.path.expandvars(f)).expanduser() for f in SYSTEM_FOLDERS[platform_key()]]
    return list(dict.fromkeys(folders))


def find_soundfont() -> Path | None:
    """The first readable soundfont: the env variable, then the preferred names, then any .sf2 in a folder."""
    explicit = os.environ.get(SOUNDFONT_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        return path if path.is_file() else None
    folders = [f for f in candidate_folders() if f.is_dir()]
    for name in PREFERRED:
        for folder in folders:
            if (folder / name).is_file():
                return folder / name
    for folder in folders:
        found = sorted(folder.glob("*.sf2")) + sorted(folder.glob("*.sf3"))
        if found:
            return found[0]
    return None


def find_fluidsynth() -> Path | None:
    explicit = os.environ.get(FLUIDSYNTH_ENV)
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    found = shutil.which("fluidsynth")
    if found:
        return Path(found)
    exe = "fluidsynth.exe" if platform_key() == "win32" else "fluidsynth"
    for folder in FLUIDSYNTH_FOLDERS.get(platform_key(), ()):
        path = Path(os.path.expandvars(folder)) / exe
        if path.is_file():
            return path
    return None


def install_hint() -> str:
    return INSTALL_HINTS[platform_key()].format(folder=user_soundfont_dir())
