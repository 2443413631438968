#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests (user postgres, no
# password from the loopback address): starts the Debian cluster when it is installed but stopped,
# installs PostgreSQL with apt-get when it is missing and this runs as root. When it cannot, it
# says what to do and exits 0, so the rest of the suite still runs (the PostgreSQL specs then fail
# with a message naming this script). KEYLEDGER_TEST_PG_URL points the tests at another server.
set -euo pipefail

HOST=127.0.0.1
PORT=5432

answering() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -h "$HOST" -p "$PORT" -q
  else
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
  fi
}

wait_until_answering() {
  for _ in $(seq 1 60); do
    answering && return 0
    sleep 0.5
  done
  return 1
}

say() { echo "ensure-postgres: $*" >&2; }

if [ -n "${KEYLEDGER_TEST_PG_URL:-}" ] || answering; then
  exit 0
fi

installed_here=false
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "PostgreSQL is not installed; install it with: sudo apt-get install -y postgresql"
    exit 0
  fi
  say "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends postgresql >/dev/null 2>&1 || {
    apt-get update >/dev/null 2>&1
    apt-get install -y --no-install-recommends postgresql >/dev/null
  }
  installed_here=true
fi

version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$version" ]; then
  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  say "creating cluster $version/main"
  pg_createcluster "$version" main >/dev/null
  installed_here=true
fi

if $installed_here; then
  # A cluster this script just created serves the tests only: trust the loopback address, as the
  # tests connect as postgres without a password. An existing cluster's settings are left alone.
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' | cat - "$hba" >"$hba.new"
  mv "$hba.new" "$hba"
  chown postgres:postgres "$hba"
fi

if [ "$(id -u)" -ne 0 ] && [ "$(id -un)" != postgres ]; then
  say "PostgreSQL $version is stopped; start it with: sudo pg_ctlcluster $version main start"
  exit 0
fi

say "starting PostgreSQL $version"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true # "already running" is fine
if ! wait_until_answering; then
  say "PostgreSQL $version did not answer on $HOST:$PORT; see /var/log/postgresql/postgresql-$version-main.log"
  exit 1
fi
