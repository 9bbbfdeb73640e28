#!/usr/bin/env bash
# Build the one-folder bundle dist/cuesteer/ (cuesteer-worker, cuesteer, cuesteer-app) with PyInstaller.
#   bash installer/build_linux.sh            # build into ./dist (work files in ./build/pyinstaller)
#   DIST=/tmp/out bash installer/build_linux.sh
# Needs the project installed (bash installer/setup.sh); installs PyInstaller with pip when it is missing.
# Takes ~10 min on two cores (analysing torch and transformers dominates); prints the bundle's size.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
dist=${DIST:-$here/dist}
work=${WORK:-$here/build/pyinstaller}

if ! "$py" -c "import PyInstaller" 2>/dev/null; then
  echo "build: installing pyinstaller" >&2
  "$py" -m pip install -q "pyinstaller>=6.3"
fi
start=$(date +%s)
"$py" -m PyInstaller --noconfirm --clean --log-level "${LOG_LEVEL:-WARN}" \
  --distpath "$dist" --workpath "$work" "$here/installer/cuesteer.spec"
bundle="$dist/${CUESTEER_BUNDLE_NAME:-cuesteer}"
for program in cuesteer-worker cuesteer; do
  [ -x "$bundle/$program" ] || { echo "build: $bundle/$program is missing" >&2; exit 1; }
done
echo "build: $bundle ($(du -sh "$bundle" | cut -f1)) in $(( $(date +%s) - start )) s" >&2
