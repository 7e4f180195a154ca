#!/usr/bin/env bash
# Makes sure the PostgreSQL and Redis the tests use are running on 127.0.0.1 (starts them if
# they are installed but stopped). Tests need: PostgreSQL 5432 with trust auth for `postgres`,
# Redis 6379. Override with TEST_DATABASE_ADMIN_URL / TEST_REDIS_URL to use others.
set -euo pipefail
if [ -z "${TEST_DATABASE_ADMIN_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      echo "services: starting PostgreSQL" >&2
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    fi
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    pg_isready -q -h 127.0.0.1 -p 5432 || { echo "services: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
  fi
fi
if [ -z "${TEST_REDIS_URL:-}" ]; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    if command -v redis-server >/dev/null; then
      echo "services: starting Redis" >&2
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    fi
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "services: Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
  fi
fi

# Debian packages some suites run for real, installed when missing (idempotent):
# prometheus (promtool and a real Prometheus, deploy tests), chromium (the preference-centre
# browser test, driven headless by playwright-core), pgbouncer (the PgBouncer test runs its own).
ensure_package() { # ensure_package PACKAGE EXECUTABLE...
  local package="$1"; shift
  for executable in "$@"; do
    if ! command -v "$executable" >/dev/null && [ ! -x "/usr/sbin/$executable" ] && [ ! -x "/usr/bin/$executable" ]; then
      echo "services: installing $package for the tests that run it" >&2
      SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
      $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
      return
    fi
  done
}
ensure_package prometheus promtool prometheus
ensure_package chromium chromium
ensure_package pgbouncer pgbouncer
