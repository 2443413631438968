#!/bin/sh
# Everything the test suite needs beyond npm packages: a PostgreSQL server, a SoftHSM2 token
# library and Debian's Chromium. Each script installs or starts its part where it can.
set -eu
here=$(dirname "$0")
bash "$here/ensure-postgres.sh"
sh "$here/ensure-softhsm.sh"
sh "$here/ensure-chromium.sh"
