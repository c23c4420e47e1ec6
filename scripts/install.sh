#!/usr/bin/env bash
# Install the loan assistant into ./.venv on a fresh Debian/Ubuntu machine (no account, no network
# beyond the package registries). `--test` adds the test dependencies and the test-only system packages.
set -euo pipefail
cd "$(dirname "$0")/.."

with_test=0
with_train=0
[ "${1:-}" = "--test" ] && with_test=1
[ "${1:-}" = "--train" ] && with_train=1

# System packages: a CJK font for PDFs (never tofu), pango for WeasyPrint, poppler for PDF checks,
# Chromium for the browser test of the web chat page, PostgreSQL for the tests that run the storage,
# chat and concurrency tests on it as well as SQLite (they start their own throwaway server with
# initdb/pg_ctl; the Debian package's own cluster is not used).
apt_pkgs="fonts-noto-cjk fontconfig libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils"
[ "$with_test" = 1 ] && apt_pkgs="$apt_pkgs chromium postgresql"
if command -v apt-get >/dev/null 2>&1; then
  missing=""
  for pkg in $apt_pkgs; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    sudo_cmd=""
    [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
    echo "installing system packages:$missing"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
else
  echo "note: not a Debian-like system; install a CJK font (Noto Sans CJK), pango and poppler yourself" >&2
fi

python_bin="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$with_test" = 1 ]; then
  # The sentence-transformers backend is tested; install the CPU build of torch first so that
  # nothing pulls the multi-gigabyte CUDA build.
  .venv/bin/python -m pip install -q -c constraints.txt "torch==2.13.0"
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
elif [ "$with_train" = 1 ]; then
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[train,ocr]"
  # See pyproject.toml: optbinning's solver stack, without letting ortools downgrade protobuf.
  .venv/bin/python -m pip install -q -c constraints.txt --no-deps optbinning ortools ropwr
else
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[ocr]"
fi
# The offline OCR engine (models inside its wheel); its dependencies come with the [ocr] extra (see pyproject.toml).
.venv/bin/python -m pip install -q -c constraints.txt --no-deps "rapidocr-onnxruntime==1.4.4"
echo "installed: $(.venv/bin/loan-assistant --help | head -n 1)"
