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

# deploy tests (libs/deploy-tests): promtool and prometheus from Debian's `prometheus` package,
# for `promtool check/test rules` and a real Prometheus scraping test targets. Idempotent.
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
  echo "services: installing prometheus (promtool) for the deploy tests" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
fi

# The preference-centre browser test (apps/server preference-centre): Debian's Chromium,
# driven headless by playwright-core. Idempotent.
if [ ! -x /usr/bin/chromium ]; then
  echo "services: installing chromium for the browser tests" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# The PgBouncer test (apps/server notifications/pgbouncer-path): Debian's `pgbouncer`, which the
# test runs itself on a free port (the package's own service is left alone). Idempotent.
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "services: installing pgbouncer for the PgBouncer test" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi
