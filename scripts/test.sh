#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests, doc tests, and the compatibility
# suites with the official Telnyx SDKs (installs their npm and PyPI packages on first run).
#
#   scripts/test.sh                 SQLite (the embedded default)
#   scripts/test.sh --postgres      the same suite against PostgreSQL; the URL comes from
#                                   DIALTONE_PG_URL (default postgres://postgres@127.0.0.1:5432/test)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '==> %s\n' "$*" >&2; }

# The media tests check generated MP4 and Ogg Opus files with ffprobe and ffmpeg.
ensure_ffmpeg() {
  if command -v ffprobe >/dev/null 2>&1 && command -v ffmpeg >/dev/null 2>&1; then return; fi
  log "ffprobe not found; installing ffmpeg"
  local sudo=""
  if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    $sudo apt-get update -qq || log "apt-get update failed; trying the install anyway"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null \
      || log "could not install ffmpeg; the media tests will fail until ffprobe is on PATH"
  elif command -v brew >/dev/null 2>&1; then
    brew install ffmpeg || log "could not install ffmpeg with brew"
  else
    log "install ffmpeg (ffprobe) with your package manager; the media tests need it"
  fi
}

run_rust_tests() {
  ensure_ffmpeg
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
  else
    log "cargo-nextest not found; using cargo test"
    cargo test --workspace --no-fail-fast --lib --bins --tests
  fi
}

# Each SQLite test server makes a database file of its own in the temporary directory, and
# process tests a log file; drop the ones earlier runs left behind (an hour old or more, so a
# run going on beside this one keeps its own).
find "${TMPDIR:-/tmp}" -maxdepth 1 \( -name 'dialtone-t_*.db*' -o -name 'dialtone-test-*.log' \) -mmin +60 -delete 2>/dev/null || true

if [[ "${1:-}" == "--postgres" ]]; then
  PG_URL="${DIALTONE_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
  if command -v psql >/dev/null 2>&1; then
    # Each test makes a schema of its own; drop the ones earlier runs left behind.
    psql "$PG_URL" -qAt -c "SELECT 'DROP SCHEMA IF EXISTS \"' || nspname || '\" CASCADE;' FROM pg_namespace WHERE nspname LIKE 't\\_%' OR nspname LIKE 'compat\\_%'" \
      | psql "$PG_URL" -q >/dev/null 2>&1 || true
  fi
  log "Rust tests on PostgreSQL"
  DIALTONE_TEST_DATABASE="$PG_URL" run_rust_tests
  schema="compat_$(date +%s)_$$"
  if command -v psql >/dev/null 2>&1; then psql "$PG_URL" -q -c "CREATE SCHEMA $schema"; fi
  log "SDK compatibility suites on PostgreSQL"
  DIALTONE_DATABASE="$PG_URL?options=-c%20search_path%3D$schema" scripts/compat.sh
  exit 0
fi

log "Rust tests (SQLite)"
run_rust_tests
log "doc tests"
cargo test --workspace --doc --quiet
log "SDK compatibility suites (SQLite)"
scripts/compat.sh
