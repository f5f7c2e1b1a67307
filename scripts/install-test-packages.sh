#!/usr/bin/env bash
# Installs the Debian packages rdpfix's tests use and a fresh machine lacks (npm test's pretest; idempotent):
#   faketime   libfaketime, to run tests with the controller's clock moved (test/integration/clock.test.ts)
#   xrdp       a real RDP server for the negotiation probe's tests (test/integration/rdp-xrdp.test.ts, which starts
#              it on loopback through scripts/start-test-xrdp.sh), with openssl for its test certificates
#   chromium   a real headless browser, to check the HTML report renders (test/integration/report-browser.test.ts)
# OpenSSH is installed by scripts/start-test-sshd.sh when the ssh tests start it.
set -euo pipefail
want=()
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || want+=(faketime)
command -v xrdp >/dev/null || want+=(xrdp)
command -v openssl >/dev/null || want+=(openssl)
command -v chromium >/dev/null || want+=(chromium)
[ ${#want[@]} -eq 0 ] && { echo "install-test-packages: nothing to install"; exit 0; }
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-packages: need root to install: ${want[*]} (sudo apt-get install ${want[*]})" >&2
  exit 1
fi
echo "install-test-packages: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${want[@]}"
