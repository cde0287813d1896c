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
  wanted="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
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
