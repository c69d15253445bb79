#!/usr/bin/env bash
# Builds the single-file Windows release on Debian (CI and developers without a Windows box):
#
#   bash scripts/build-windows.sh        ->  target/x86_64-pc-windows-gnu/release/llm-proxy.exe
#
# then checks it: console subsystem, x86-64, the admin UI / Swagger UI / migrations compiled in,
# and that it imports only Windows system DLLs (no libgcc/libwinpthread/OpenSSL side-car DLLs).
#
# The toolchain comes from scripts/toolchain/windows.sh (Debian's rustc-web 1.96 with
# -Zbuild-std, mingw-w64 as linker; it installs them when missing), set through environment
# variables for this one command only: nothing is committed, so `cargo build --release --target
# x86_64-pc-windows-gnu` with a rustup Windows target, or a plain `cargo build --release` on
# Windows, work as usual.
#
# Knobs (environment, all optional):
#   WIN_TARGET_DIR    cargo target dir for this build (default: target/windows). It is kept apart
#                     from target/ because cargo locks the host's target/release even for a
#                     cross build: a host build running at the same time would block this one
#                     (and the Debian rustc's host artifacts would pile up beside rustup's).
#                     The finished .exe is copied to target/x86_64-pc-windows-gnu/release/, the
#                     path a plain `cargo build --release --target x86_64-pc-windows-gnu` uses.
#   SKIP_BUILD=1      only run the checks on an existing .exe
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TARGET=x86_64-pc-windows-gnu
EXE="$ROOT/target/$TARGET/release/llm-proxy.exe"
OBJDUMP=x86_64-w64-mingw32-objdump

# DLLs every Windows 10/11 (and Server 2016+) has in System32. Anything else would have to be
# shipped beside the .exe, which the single-file promise forbids.
ALLOWED_DLLS=(
  kernel32.dll ntdll.dll msvcrt.dll ucrtbase.dll advapi32.dll userenv.dll
  ws2_32.dll mswsock.dll iphlpapi.dll dnsapi.dll secur32.dll
  bcrypt.dll bcryptprimitives.dll crypt32.dll ncrypt.dll
  ole32.dll oleaut32.dll combase.dll shell32.dll user32.dll gdi32.dll
  api-ms-win-core-synch-l1-2-0.dll
)

fail() { echo "build-windows: FAILED: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  step "cargo build --release --target $TARGET (Debian rustc-web + -Zbuild-std + mingw-w64)"
  started=$(date +%s)
  target_dir="${WIN_TARGET_DIR:-$ROOT/target/windows}"
  CARGO_TARGET_DIR="$target_dir" bash "$ROOT/scripts/toolchain/windows.sh" build \
    cargo build --release --locked --target "$TARGET" -p llm-proxy --bin llm-proxy
  built="$target_dir/$TARGET/release/llm-proxy.exe"
  if [ "$(readlink -f "$built")" != "$(readlink -f "$EXE" 2>/dev/null || true)" ]; then
    mkdir -p "$(dirname "$EXE")"
    cp -f "$built" "$EXE.tmp" && mv -f "$EXE.tmp" "$EXE"
  fi
  echo "build took $(( $(date +%s) - started )) s"
fi

step "checking $EXE"
[ -f "$EXE" ] || fail "no $EXE"
command -v "$OBJDUMP" >/dev/null || fail "$OBJDUMP missing (apt-get install binutils-mingw-w64-x86-64)"
headers="$("$OBJDUMP" -p "$EXE")" || fail "$OBJDUMP cannot read $EXE"

size=$(stat -c %s "$EXE")
printf 'size: %s bytes (%s MiB)\n' "$size" "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')"

grep -q 'file format pei-x86-64' <<<"$headers" || fail "not a PE32+ x86-64 executable"
# Console subsystem: double-clicking opens a console window showing the URL and password.
grep -Eq '^Subsystem[[:space:]]+0*3[[:space:]]' <<<"$headers" \
  || fail "not a console-subsystem (CUI) program: $(grep '^Subsystem' <<<"$headers")"
echo "format: PE32+ x86-64, console subsystem"

# Everything must be inside the one file: every file of the admin UI build in assets/ (by its
# embedded path), Swagger UI, and the database migrations.
ui_files=0
for file in "$ROOT"/assets/*; do
  name="$(basename "$file")"
  case "$name" in *.md|ui.hash) continue ;; esac   # excluded from the embed (server/src/web.rs)
  LC_ALL=C grep -qaF "$name" "$EXE" || fail "admin UI file assets/$name is not embedded (stale .exe?)"
  ui_files=$((ui_files + 1))
done
[ $ui_files -gt 0 ] || fail "assets/ is empty: no admin UI to embed"
echo "embedded: admin UI ($ui_files files from assets/)"
for probe in 'SwaggerUIBundle:Swagger UI' 'm20261126_000001_create_groups:database migrations'; do
  needle="${probe%%:*}"; what="${probe#*:}"
  LC_ALL=C grep -qaF "$needle" "$EXE" || fail "$what not embedded (no \"$needle\" in the .exe)"
  echo "embedded: $what"
done

mapfile -t dlls < <(sed -n 's/^[[:space:]]*DLL Name:[[:space:]]*//p' <<<"$headers" | tr -d '\r' | sort -fu)
[ ${#dlls[@]} -gt 0 ] || fail "no DLL imports found (objdump output changed?)"
bad=()
for dll in "${dlls[@]}"; do
  lower="${dll,,}"
  ok=0
  for allowed in "${ALLOWED_DLLS[@]}"; do [ "$lower" = "$allowed" ] && ok=1 && break; done
  # The api-ms-win-* API sets are resolved by the Windows loader itself, never files to ship.
  case "$lower" in api-ms-win-*) ok=1 ;; esac
  if [ $ok = 1 ]; then echo "imports: $dll"; else echo "imports: $dll   <-- NOT a Windows system DLL"; bad+=("$dll"); fi
done
[ ${#bad[@]} -eq 0 ] || fail "imports DLLs that Windows does not ship: ${bad[*]}"

echo
echo "build-windows: OK: $EXE ($size bytes, ${#dlls[@]} system DLLs)"
