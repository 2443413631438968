#!/bin/sh
# Makes sure Debian's Chromium is at /usr/bin/chromium for the dashboard's browser test (driven by
# playwright-core; never a browser downloaded by a test tool). Installs it with apt-get when
# missing and running as root; otherwise says what to install and exits 0 (the browser test then
# fails with a message naming this script).
set -eu

[ -x /usr/bin/chromium ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: /usr/bin/chromium is missing; install it with: sudo apt-get install -y chromium" >&2
  exit 0
fi

echo "ensure-chromium: installing Debian's chromium for the dashboard browser test" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || {
  apt-get update >/dev/null 2>&1
  apt-get install -y --no-install-recommends chromium >/dev/null
}
