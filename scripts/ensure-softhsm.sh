#!/bin/sh
# Makes sure SoftHSM2 (the PKCS#11 token the custody tests run against) and pkcs11-tool are
# present. Installs them with apt-get when missing and running as root; otherwise says what to
# install and exits 0 so that the rest of the suite still runs (the PKCS#11 specs then fail
# with a message naming this script).
set -eu

MODULE_CANDIDATES="/usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so"

have_softhsm() {
  command -v softhsm2-util >/dev/null 2>&1 || return 1
  for module in $MODULE_CANDIDATES; do
    [ -f "$module" ] && return 0
  done
  return 1
}

if have_softhsm; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-softhsm: SoftHSM2 is missing; install it with: sudo apt-get install -y softhsm2 opensc" >&2
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-softhsm: SoftHSM2 is missing and apt-get is not available; install softhsm2 and opensc by hand" >&2
  exit 0
fi

echo "ensure-softhsm: installing softhsm2 and opensc" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends softhsm2 opensc >/dev/null 2>&1 || {
  apt-get update >/dev/null 2>&1
  apt-get install -y --no-install-recommends softhsm2 opensc >/dev/null
}
have_softhsm || { echo "ensure-softhsm: installation did not provide libsofthsm2.so" >&2; exit 1; }
