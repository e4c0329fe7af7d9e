#!/usr/bin/env bash
# Compatibility suites: drive a Dialtone server with the official Telnyx SDKs
# (npm `telnyx` in compat/node, PyPI `telnyx` in compat/python).
#
# Usage: scripts/compat.sh
#
# Environment (all optional):
#   DIALTONE_BIN        server binary (default: debug/dialtone in CARGO_TARGET_DIR or target, built with
#                       `cargo build -p dialtone` when missing)
#   DIALTONE_DATABASE   database URL for the server (default: a fresh SQLite file, removed
#                       afterwards). The suites add organization sub-users through
#                       `dialtone users add` on the same database (skipped with
#                       sqlite::memory:, which no second process can reach)
#   DIALTONE_BASE_URL   with DIALTONE_API_KEY: test a server that is already running
#   DIALTONE_API_KEY    (root account key) instead of starting one
#   COMPAT_SUITES       which suites to run, in order (default: "node python")
#
# Installs what the suites need (npm ci; a venv at compat/python/.venv, reinstalled only
# when requirements.txt changes), starts the server on a free port with a random root API
# key, waits for GET /_dialtone/health, runs the suites, stops the server, and exits
# non-zero when any suite failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/compat/node"
PY_DIR="$ROOT/compat/python"
VENV="$PY_DIR/.venv"
SUITES="${COMPAT_SUITES:-node python}"

log() { printf '==> %s\n' "$*" >&2; }

# --- install ------------------------------------------------------------------
install_node() {
  log "npm ci (compat/node)"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
}

install_python() {
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$PY_DIR/requirements.txt" | cut -d' ' -f1)"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "python venv up to date (compat/python/.venv)"
    return
  fi
  log "creating python venv (compat/python/.venv)"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$PY_DIR/requirements.txt"
  printf '%s\n' "$want" >"$stamp"
}

for suite in $SUITES; do
  case "$suite" in
    node) install_node ;;
    python) install_python ;;
    *) echo "unknown suite '$suite' in COMPAT_SUITES" >&2; exit 2 ;;
  esac
done

# --- server -------------------------------------------------------------------
SERVER_PID=""
SERVER_LOG=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n "$SERVER_LOG" ]]; then rm -f "$SERVER_LOG"; fi
  if [[ -n "${TMP_DB:-}" ]]; then rm -f "$TMP_DB" "$TMP_DB-wal" "$TMP_DB-shm"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n "${DIALTONE_BASE_URL:-}" && -n "${DIALTONE_API_KEY:-}" ]]; then
  log "using the running server at $DIALTONE_BASE_URL"
else
  if [[ -z "${DIALTONE_BIN:-}" ]]; then
    # Cargo builds into CARGO_TARGET_DIR when it is set (absolute, or relative to the root).
    target_dir="${CARGO_TARGET_DIR:-target}"
    [[ "$target_dir" = /* ]] || target_dir="$ROOT/$target_dir"
    DIALTONE_BIN="$target_dir/debug/dialtone"
    if [[ ! -x "$DIALTONE_BIN" ]]; then
      log "building the server (cargo build -p dialtone)"
      (cd "$ROOT" && cargo build -p dialtone)
    fi
  fi
  if [[ ! -x "$DIALTONE_BIN" ]]; then
    echo "server binary not found: $DIALTONE_BIN" >&2
    exit 1
  fi

  PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  DIALTONE_API_KEY="KEYcompat$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
  if [[ -n "${DIALTONE_DATABASE:-}" ]]; then
    DATABASE="$DIALTONE_DATABASE"
  else
    TMP_DB="$(mktemp -u -t dialtone-compat-XXXXXX).db"
    DATABASE="sqlite://$TMP_DB"
  fi
  SERVER_LOG="$(mktemp -t dialtone-compat.XXXXXX)"

  log "starting $DIALTONE_BIN on 127.0.0.1:$PORT ($DATABASE)"
  "$DIALTONE_BIN" serve --listen "127.0.0.1:$PORT" --database "$DATABASE" --api-key "$DIALTONE_API_KEY" \
    >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!

  HEALTH="http://127.0.0.1:$PORT/_dialtone/health"
  ready=""
  for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "the server exited before it was ready; its output:" >&2
      cat "$SERVER_LOG" >&2
      exit 1
    fi
    if python3 - "$HEALTH" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
    then
      ready=1
      break
    fi
    sleep 0.2
  done
  if [[ -z "$ready" ]]; then
    echo "the server did not answer 200 on /_dialtone/health within 60 s; its output:" >&2
    cat "$SERVER_LOG" >&2
    exit 1
  fi
  DIALTONE_BASE_URL="http://127.0.0.1:$PORT/v2"
  log "server ready at $DIALTONE_BASE_URL"
  # For the suites' `dialtone users add` (see compat/*/tests helpers).
  export DIALTONE_BIN DIALTONE_DATABASE="$DATABASE"
fi
export DIALTONE_BASE_URL DIALTONE_API_KEY

# --- suites -------------------------------------------------------------------
declare -A STATUS=()
for suite in $SUITES; do
  rc=0
  case "$suite" in
    node)
      log "node suite (telnyx $(cd "$NODE_DIR" && node -p 'require("./node_modules/telnyx/package.json").version'))"
      (cd "$NODE_DIR" && node --test --test-concurrency=1 tests/) || rc=$?
      ;;
    python)
      log "python suite (telnyx $("$VENV/bin/python" -c 'import telnyx; print(telnyx.__version__)'))"
      (cd "$PY_DIR" && "$VENV/bin/python" -m pytest) || rc=$?
      ;;
  esac
  STATUS[$suite]=$rc
done

failed=0
for suite in $SUITES; do
  if [[ "${STATUS[$suite]}" == 0 ]]; then
    log "$suite suite: passed"
  else
    log "$suite suite: FAILED (exit ${STATUS[$suite]})"
    failed=1
  fi
done
if [[ "$failed" != 0 && -n "$SERVER_LOG" && -s "$SERVER_LOG" ]]; then
  log "last lines of the server's output:"
  tail -n 40 "$SERVER_LOG" >&2
fi
exit "$failed"
