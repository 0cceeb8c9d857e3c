#!/usr/bin/env bash
# Installs what Vigil needs on Debian 12 and nothing that is already there.
#   scripts/setup.sh run    what running the app needs
#   scripts/setup.sh test   that, plus what the test suite needs
# Idempotent: a second run checks and installs nothing. Run as root or as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
say() { printf '[setup] %s\n' "$*"; }

# --- system packages --------------------------------------------------------------------
packages=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev
          librsvg2-dev libxdo-dev libdbus-1-dev xvfb nodejs npm python3 python3-pip python3-venv)
if [ "$purpose" = test ]; then
  # WebKitWebDriver for the end-to-end tests, imagemagick for screenshots, a Secret Service
  # (gnome-keyring in a private D-Bus session) for the keyring test.
  # python3-dbusmock (with python3-gi, python3-dbus): the stand-in BlueZ of tests/ble_bluez.rs.
  # postgresql-15: the clinic server's tests start a throwaway cluster (scripts/postgres.sh).
  packages+=(webkit2gtk-driver imagemagick dbus dbus-x11 gnome-keyring util-linux procps
            python3-dbusmock python3-gi python3-dbus postgresql-15)
fi
missing=()
for p in "${packages[@]}"; do
  # nodejs/npm/python3 may come from elsewhere (nvm, pyenv): a working command is enough.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
    python3) command -v python3 >/dev/null && continue ;;
    python3-pip) python3 -m pip --version >/dev/null 2>&1 && continue ;;
    python3-venv) python3 -c "import venv, ensurepip" >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Rust ----------------------------------------------------------------------------------
if ! command -v cargo >/dev/null; then
  say "cargo is missing: install the Rust toolchain (https://rustup.rs) and run this again"
  exit 1
fi

# --- front end (and the Tauri CLI, an npm devDependency) ----------------------------------
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  say "installing the front end's npm packages"
  # `npm install --no-save`, not `npm ci`: with this machine's npm settings the lock file has no
  # entries for other platforms' optional packages (the Tauri CLI's, rollup's), which `npm ci`
  # refuses. This still installs the locked versions and never rewrites the lock.
  (cd ui && npm install --no-save --no-audit --no-fund --loglevel=error)
fi

if [ "$purpose" = test ]; then
  if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
    say "installing the end-to-end tests' npm packages"
    (cd tests/e2e && npm install --no-save --no-audit --no-fund --loglevel=error)
  fi
  if ! command -v tauri-driver >/dev/null; then
    say "installing tauri-driver (about 2 minutes, once)"
    cargo install tauri-driver --locked --version '^2' --quiet
  fi
fi

# A Python venv (Debian's own Python refuses pip installs, PEP 668): the onnxruntime wheel whose
# libonnxruntime.so runs the agents' models (both purposes), and for the tests the reference
# implementations (filterpy, pyhrv, ...). scripts/test.sh puts this venv first on PATH.
venv="${HOME}/.cache/vigil/venv"
if [ ! -x "$venv/bin/python3" ]; then
  say "creating the Python venv (ONNX Runtime, reference implementations)"
  python3 -m venv "$venv"
fi
requirements=(scripts/models/requirements.txt)
if [ "$purpose" = test ]; then
  requirements+=(scripts/reference/requirements*.txt)
fi
for req in "${requirements[@]}"; do
  [ -f "$req" ] || continue
  stamp="$venv/$(basename "$(dirname "$req")")-$(basename "$req").stamp"
  if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ]; then
    say "installing the Python packages in $req"
    "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check -r "$req"
    touch "$stamp"
  fi
done
