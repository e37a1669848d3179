# Shared by scripts/dev and scripts/test: the toolchain and the local services they need,
# installed when missing so that a fresh machine works with one command.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# Built with Temurin 25 at --release 21 (the Lambda java21 runtime).
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "${JAVA_HOME}/bin/java" ]; then
  if [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
    export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
  fi
fi
if [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
if [ -z "${JAVA_HOME:-}" ]; then
  echo "error: no JDK found; install Temurin 25 (or any JDK >= 21) and set JAVA_HOME" >&2
  exit 1
fi
export PATH="$JAVA_HOME/bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_updated=false
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $1 is missing and apt-get is not available; install it yourself" >&2
    exit 1
  fi
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ "$apt_updated" = false ]; then
    $sudo apt-get update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    step "installing redis-server (Debian package)"
    apt_install redis-server
  fi
}

ensure_python_tool() {  # $1 = command, $2 = pip requirement
  if ! command -v "$1" >/dev/null 2>&1; then
    step "installing $2 (pip)"
    python3 -m pip install --quiet "$2" || {
      echo "error: $1 is missing and '$2' could not be installed with pip" >&2
      exit 1
    }
    hash -r
  fi
}

# The dashboard's browser test (DashboardE2EIT): Debian's chromium and playwright-core from e2e/'s lockfile.
# Best effort: where either cannot be installed, the test is skipped and says why; the rest still runs.
ensure_browser_e2e() {
  if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    step "installing chromium (Debian package) for the dashboard's browser test"
    (apt_install chromium) || echo "warning: chromium could not be installed; DashboardE2EIT will be skipped" >&2
  fi
  if [ ! -d e2e/node_modules/playwright-core ]; then
    if command -v npm >/dev/null 2>&1; then
      step "installing playwright-core (npm ci in e2e/)"
      (cd e2e && npm ci --no-audit --no-fund --loglevel=error) \
        || echo "warning: npm ci failed in e2e/; DashboardE2EIT will be skipped" >&2
    else
      echo "warning: npm is missing; DashboardE2EIT will be skipped" >&2
    fi
  fi
}

ensure_services() {
  ensure_redis
  ensure_python_tool moto_server "moto[server]>=5"
}

maven() {
  ./mvnw -B -ntp "$@"
}

# Node.js and npm for the TypeScript SDK (sdk/typescript) and the dashboard's browser test.
ensure_python_sdk() {  # Debian's python3 (not the default python3 on PATH) and what the Python SDK's tests use
  local missing=() module
  for module in fastapi flask django uvicorn httpx pytest; do
    /usr/bin/python3 -c "import $module" >/dev/null 2>&1 || missing+=("python3-$module")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]} (Debian packages) for sdk/python's tests"
    apt_install "${missing[@]}"
  fi
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    step "installing nodejs and npm (Debian packages)"
    apt_install nodejs npm
    hash -r
  fi
}
