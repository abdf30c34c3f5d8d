#!/usr/bin/env bash
# Makes a Gradescope autograder bundle (a zip with setup.sh and
# run_autograder at its top) for one assignment:
#   scripts/gradescope_bundle.sh SOURCE.ipynb OUT.zip [TIMEOUT_SECONDS] [MEMORY_MB]
# The zip holds the committed replearn sources (git HEAD), the instructor
# notebook, and the grading settings. See README, "Grading on Gradescope".
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 SOURCE.ipynb OUT.zip [TIMEOUT_SECONDS] [MEMORY_MB]" >&2
    exit 2
fi
SOURCE="$1"
OUT="$2"
TIMEOUT="${3:-600}"
MEMORY_MB="${4:-4096}"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
[ -f "$SOURCE" ] || { echo "$0: no such notebook: $SOURCE" >&2; exit 2; }
# A malformed source is caught now, not on the first submission.
if ! "$REPO/.venv/bin/replearn-grade" assign "$SOURCE" -o "$(mktemp -d)/student.ipynb" >/dev/null; then
    echo "$0: $SOURCE is not a valid instructor notebook (see above)" >&2
    exit 2
fi
NAME="$(basename "$SOURCE")"
STUDENT="${NAME/_source.ipynb/.ipynb}"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/replearn" "$STAGE/assignment"
git -C "$REPO" archive --format=tar HEAD | tar -x -C "$STAGE/replearn"
cp "$SOURCE" "$STAGE/assignment/$NAME"
cat > "$STAGE/assignment/config.sh" <<CONFIG
SOURCE_NOTEBOOK="$NAME"
STUDENT_NOTEBOOK="$STUDENT"
TIMEOUT="$TIMEOUT"
MEMORY_MB="$MEMORY_MB"
CONFIG
install -m 755 "$HERE/gradescope/setup.sh" "$STAGE/setup.sh"
install -m 755 "$HERE/gradescope/run_autograder" "$STAGE/run_autograder"
rm -f "$OUT"
OUT_ABS="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
(cd "$STAGE" && "$REPO/.venv/bin/python" -m zipfile -c "$OUT_ABS" setup.sh run_autograder assignment replearn)
echo "Gradescope bundle for $NAME: $OUT (per-cell timeout ${TIMEOUT} s, memory ${MEMORY_MB} MB)"
