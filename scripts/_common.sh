# Shared helpers for the project's scripts. Source it; don't run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# find_python X.Y: print the path of a Python X.Y interpreter, or fail.
find_python() {
  local want="$1" candidate
  for candidate in "python$want" "$HOME/.pyenv/versions/$want"*/bin/"python$want" \
                   /root/.pyenv/versions/"$want"*/bin/"python$want" /usr/local/bin/"python$want" /usr/bin/"python$want"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local version
    version="$(pyenv versions --bare 2>/dev/null | grep -E "^$want(\.|$)" | sort -V | tail -n 1 || true)"
    if [ -n "$version" ]; then echo "$(pyenv root)/versions/$version/bin/python$want"; return 0; fi
  fi
  echo "Python $want was not found. Install it (for example with pyenv) and retry." >&2
  return 1
}

# ensure_venv: create .venv (Python 3.13: the local MongoDB wire server needs it) and
# install the package with its test and dev dependencies; reinstall only when they change.
ensure_venv() {
  local python stamp_file wanted
  python="$(find_python 3.13)"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv .venv with $python"
    "$python" -m venv "$VENV"
  fi
  stamp_file="$VENV/.skillswap-deps"
  wanted="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements-dev.txt" "$ROOT/docs/requirements.txt" | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp_file" 2>/dev/null || true)" != "$wanted" ]; then
    log "installing Python dependencies into .venv"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[testing,openapi]" -r "$ROOT/requirements-dev.txt"
    echo "$wanted" > "$stamp_file"
  fi
  export SKILLSWAP_MONGOECO_PYTHON="$VENV/bin/python"
}

# ensure_chromium: Debian's Chromium for the browser tests (never a downloaded browser build).
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  log "installing Debian chromium"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

# ensure_demo_deps: the example site's own requirements (JWT auth, WhiteNoise, dotenv).
ensure_demo_deps() {
  local stamp_file="$VENV/.skillswap-demo-deps" wanted
  wanted="$(sha256sum "$ROOT/example_project/requirements.txt" | cut -d' ' -f1)"
  if [ "$(cat "$stamp_file" 2>/dev/null || true)" != "$wanted" ]; then
    log "installing the example site's requirements"
    (cd "$ROOT/example_project" && "$VENV/bin/python" -m pip install --quiet -r requirements.txt)
    echo "$wanted" > "$stamp_file"
  fi
}

# build_frontend: npm install + static export, skipped when sources are unchanged.
build_frontend() {
  local frontend="$ROOT/example_project/frontend" stamp_file wanted
  stamp_file="$frontend/out/.build-stamp"
  wanted="$(cd "$frontend" && find . \( -name node_modules -o -name .next -o -name out \) -prune \
             -o -type f -print | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp_file" 2>/dev/null || true)" = "$wanted" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm (Node.js 20+) is needed to build the front end." >&2
    return 1
  fi
  export NEXT_TELEMETRY_DISABLED=1
  if [ ! -d "$frontend/node_modules" ] || [ "$frontend/package-lock.json" -nt "$frontend/node_modules/.package-lock.json" ]; then
    log "installing front-end packages (npm ci)"
    (cd "$frontend" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  log "building the front end (next build, static export)"
  (cd "$frontend" && npm run build --silent >/dev/null)
  echo "$wanted" > "$stamp_file"
}
