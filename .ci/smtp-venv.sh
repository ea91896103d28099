#!/usr/bin/env bash
# A python with aiosmtpd (pinned) for echo5d/tests/smtp_real.rs, in
# ${CARGO_TARGET_DIR:-target}/smtp-venv, where the test looks for it (ECHO5_TEST_PYTHON
# names another). Also makes sure `openssl` is there: the test makes the server's certificate.
set -euo pipefail
cd "$(dirname "$0")/.."

AIOSMTPD_VERSION=1.4.6
target_dir="${CARGO_TARGET_DIR:-target}"
venv="$target_dir/smtp-venv"

if ! command -v openssl >/dev/null 2>&1; then
  (apt-get install -y openssl || (apt-get update && apt-get install -y openssl)) >/dev/null
fi
if ! "$venv/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$AIOSMTPD_VERSION')" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" || {
    (apt-get install -y python3-venv || (apt-get update && apt-get install -y python3-venv)) >/dev/null
    python3 -m venv "$venv"
  }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi
"$venv/bin/python" -c "import aiosmtpd; print('aiosmtpd', aiosmtpd.__version__, 'in $venv')"
