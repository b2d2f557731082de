#!/usr/bin/env bash
# Sets up everything the app and the tests need on a fresh Debian machine: the Debian
# packages that are missing (only when run as root), a virtual environment in .venv and the
# pinned requirements. Safe to run again: it does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib 'libGL.so.1' || need_apt+=(libgl1)
have_lib 'libgthread-2.0.so.0' || need_apt+=(libglib2.0-0)
# The test suite also needs a PostgreSQL server (started by the tests on loopback) and a
# real browser for the dashboard's end-to-end test, and poppler for reading the PDF report.
if [ "${ANALYZER_TEST_TOOLS:-0}" = 1 ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
  command -v chromium >/dev/null || need_apt+=(chromium)
  command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
  # The live camera's browser test runs in a network namespace that has only loopback.
  command -v unshare >/dev/null || need_apt+=(util-linux)
  command -v ip >/dev/null || need_apt+=(iproute2)
  command -v openssl >/dev/null || need_apt+=(openssl)
  # The date-dependent tests run again with the clock a year ahead.
  command -v faketime >/dev/null || need_apt+=(faketime)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${need_apt[*]} (run: sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ requirements.txt -nt .venv/.installed ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  touch .venv/.installed
fi
