#!/usr/bin/env bash
# Build the one-folder bundle dist/cuesteer/ (cuesteer-worker, cuesteer, cuesteer-app) with PyInstaller.
#   bash installer/build_linux.sh            # build HEAD into ./dist (work files in ./build/pyinstaller)
#   DIST=/tmp/out bash installer/build_linux.sh
#   CUESTEER_BUILD_FROM=worktree bash installer/build_linux.sh   # the files as they are, uncommitted edits too
# By default the build reads a snapshot of the last commit (`git archive HEAD`), not the live tree: analysis
# takes minutes, and files edited meanwhile would end up half old, half new in the bundle. The commit is
# recorded in dist/cuesteer/BUILD_COMMIT (the smoke test uses it to decide whether a bundle is fresh).
# Needs the project installed (bash installer/setup.sh); installs PyInstaller with pip when it is missing.
# Takes 10-35 min on two busy cores (analysing torch and transformers dominates); prints the bundle's size.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
dist=${DIST:-$here/dist}
work=${WORK:-$here/build/pyinstaller}
name=${CUESTEER_BUNDLE_NAME:-cuesteer}

if ! "$py" -c "import PyInstaller" 2>/dev/null; then
  echo "build: installing pyinstaller" >&2
  "$py" -m pip install -q "pyinstaller>=6.3"
fi
source_root=$here
commit="worktree"
if [ "${CUESTEER_BUILD_FROM:-head}" != worktree ] && git -C "$here" rev-parse HEAD >/dev/null 2>&1; then
  commit=$(git -C "$here" rev-parse HEAD)
  source_root="$work/src"
  rm -rf "$source_root" && mkdir -p "$source_root"
  git -C "$here" archive HEAD | tar -x -C "$source_root"
  echo "build: building commit ${commit:0:12} (snapshot in $source_root)" >&2
fi
start=$(date +%s)
"$py" -m PyInstaller --noconfirm --clean --log-level "${LOG_LEVEL:-WARN}" \
  --distpath "$dist" --workpath "$work" "$source_root/installer/cuesteer.spec"
bundle="$dist/$name"
for program in cuesteer-worker cuesteer; do
  [ -x "$bundle/$program" ] || { echo "build: $bundle/$program is missing" >&2; exit 1; }
done
echo "$commit" > "$bundle/BUILD_COMMIT"
echo "build: $bundle ($(du -sh "$bundle" | cut -f1)) in $(( $(date +%s) - start )) s" >&2
