# Shared by scripts/run and scripts/test: a project virtualenv with what pyproject.toml lists,
# and node_modules/ with what package-lock.json lists.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"

die() { echo "laneway: $*" >&2; exit 1; }

ensure_venv() {  # $1 = pip extras ("" or "[test]")
  local extras="$1"
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        python="$candidate"; break
      fi
    done
  fi
  [ -n "$python" ] || die "Python 3.11 is required (set PYTHON=/path/to/python3.11)."
  [ -x "$VENV/bin/python" ] || "$python" -m venv "$VENV" || die "could not create $VENV"
  local stamp="$VENV/.laneway-installed$extras"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "laneway: installing Python packages into .venv ..."
    mkdir -p "$ROOT/var/log"
    if ! { "$VENV/bin/pip" install -q --upgrade pip && "$VENV/bin/pip" install -q -e ".$extras"; } \
        >"$ROOT/var/log/pip.log" 2>&1; then
      tail -n 30 "$ROOT/var/log/pip.log" >&2
      die "pip install failed (full log: var/log/pip.log)"
    fi
    touch "$stamp"
  fi
}

ensure_node_modules() {  # the diagram viewer (bpmn-js) from package-lock.json
  command -v npm >/dev/null || die "Node.js/npm are needed for the diagram viewer (apt-get install nodejs npm)."
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
     || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "laneway: installing the diagram viewer into node_modules/ (npm ci) ..."
    npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed"
  fi
}

redis_up() { "$VENV/bin/python" - "$1" <<'PY'
import sys, redis
try:
    redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
except Exception:
    sys.exit(1)
PY
}

ensure_redis() {  # start an installed-but-stopped local Redis; fail clearly if there is none
  local url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
  redis_up "$url" && return 0
  command -v redis-server >/dev/null || die "Redis is not reachable at $url and redis-server is not installed (apt-get install redis-server)."
  echo "laneway: starting Redis on 127.0.0.1:6379 ..."
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do redis_up "$url" && return 0; sleep 0.1; done
  die "Redis did not start on 127.0.0.1:6379."
}

ensure_postgres() {  # start an installed-but-stopped local PostgreSQL; fail clearly if there is none
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then return 0; fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "laneway: starting PostgreSQL ..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 100); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 0.1; done
  fi
  die "PostgreSQL is not reachable at 127.0.0.1:5432 and could not be started (install postgresql; the tests need user postgres with trust auth)."
}
