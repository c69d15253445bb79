#!/usr/bin/env bash
# Rebuilds the admin UI (ui/) into assets/, which the server embeds, and writes assets/ui.hash.
#
#   scripts/build-ui.sh           build the bundle and refresh assets/ui.hash
#   scripts/build-ui.sh --hash    print the hash of the current ui/ sources (no build)
#
# The build runs trunk through scripts/toolchain/wasm.sh (Debian rustc-web + -Zbuild-std, no
# rustup target needed; it installs trunk, wasm-bindgen-cli and wasm-opt at pinned versions), or
# a trunk on PATH (a machine with `rustup target add wasm32-unknown-unknown`). Knobs:
#   UI_TRUNK=plain                 use the trunk on PATH instead of scripts/toolchain/wasm.sh
#   CARGO_TARGET_DIR               default target/wasm, apart from the server's target dir
#
# assets/ui.hash = SHA-256 of a manifest of the UI sources, one line per file in the exact
# format of `sha256sum`: "<sha256 of the file>  <path relative to ui/>\n", lines sorted by path
# (bytewise). Files: every regular file under ui/ except hidden ones (a name starting with ".",
# at any depth) and the build-output folders ui/dist and ui/target. Only names and bytes
# count, never mtimes. server/tests/ui_bundle.rs computes the same and fails when it is stale.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UI="$ROOT/ui"
ASSETS="$ROOT/assets"

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum | cut -d' ' -f1; else shasum -a 256 | cut -d' ' -f1; fi
}

ui_hash() {
  (
    cd "$UI"
    find . -name '.?*' -prune -o \( -path ./dist -o -path ./target \) -prune -o -type f -print0 |
      LC_ALL=C sort -z |
      while IFS= read -r -d '' file; do
        file="${file#./}"
        printf '%s  %s\n' "$(sha256 <"$file")" "$file"
      done
  ) | sha256
}

if [ "${1:-}" = "--hash" ]; then
  ui_hash
  exit 0
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/wasm}"
# The workspace release profile is tuned for the server binary; the wasm bundle wants size.
# strip stays on (the workspace default), so wasm-opt is off in index.html: the two don't mix.
export CARGO_PROFILE_RELEASE_OPT_LEVEL=z
export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_PANIC=abort

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# Build into a scratch folder: trunk empties its dist folder first and leaves a lock file.
cd "$UI"
if [ "${UI_TRUNK:-}" != plain ]; then
  bash "$ROOT/scripts/toolchain/wasm.sh" trunk build --release --dist "$stage"
else
  trunk build --release --dist "$stage"
fi
[ -f "$stage/index.html" ] || { echo "build-ui: trunk produced no index.html" >&2; exit 1; }

# Replace the old bundle; keep notes (*.md) that live beside it.
mkdir -p "$ASSETS"
find "$ASSETS" -mindepth 1 -maxdepth 1 ! -name '*.md' -exec rm -rf {} +
cp -R "$stage"/. "$ASSETS"/
rm -f "$ASSETS/.trunk-lock"
ui_hash >"$ASSETS/ui.hash"

echo "build-ui: assets/ refreshed, ui.hash $(cat "$ASSETS/ui.hash")"
(cd "$ASSETS" && for f in *; do
  [ -f "$f" ] || continue
  printf '  %-44s %9d bytes  (gzip -9: %d)\n' "$f" "$(wc -c <"$f")" "$(gzip -9c <"$f" | wc -c)"
done)
