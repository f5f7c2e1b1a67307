#!/usr/bin/env bash
# Starts a private xrdp on 127.0.0.1 for rdpfix's RDP negotiation tests (test/integration/rdp-xrdp.test.ts).
# A real RDP server that answers the X.224 Connection Request, selects a security protocol or refuses with an
# RDP_NEG_FAILURE code, and serves TLS with a certificate this script generates.
#
#   scripts/start-test-xrdp.sh DIR SECURITY_LAYER [CERT]
#
#   SECURITY_LAYER  tls | rdp | negotiate      (xrdp.ini security_layer, man xrdp.ini)
#   CERT            self-signed (default): CN=rdpfix-xrdp-<layer>, 30 days, RSA 2048
#                   ca-signed: a leaf CN=rdpfix-xrdp-<layer> signed by a test CA CN=rdpfix-test-ca
#                   wrong-key: the certificate with a private key that does not belong to it
#                   expired: self-signed, valid 2025-01-01 to 2025-02-01 only (openssl ca -selfsign with explicit dates)
#
# Environment: RDPFIX_XRDP_PORT  first port to try (default 13890; the next free one above it is used). Below
#              Linux's ephemeral range (32768-60999): a socket another test binds to port 0 can never take it
#              between the check and xrdp's bind, and then answer in xrdp's place.
#
# Everything lives in DIR (created; must not exist with other content): xrdp.ini, cert.pem, key.pem, the log,
# the pid file. The last lines on stdout (also DIR/env): RDPFIX_XRDP_DIR, RDPFIX_XRDP_HOST, RDPFIX_XRDP_PORT,
# RDPFIX_XRDP_PID, RDPFIX_XRDP_CERT. Stop it with scripts/stop-test-xrdp.sh DIR.
#
# xrdp listens on 127.0.0.1 only (port=tcp://127.0.0.1:<port>), runs in the foreground (--nodaemon, detached
# with setsid), one process (fork=false), no session manager: the tests never log on. Installing the Debian
# package xrdp needs root and apt-get; running it needs read access to /etc/xrdp/rsakeys.ini (Standard RDP
# Security keys, made by the package), so it is run as root too.
set -euo pipefail

DIR="${1:?usage: start-test-xrdp.sh DIR tls|rdp|negotiate [self-signed|ca-signed|wrong-key|expired]}"
LAYER="${2:?usage: start-test-xrdp.sh DIR tls|rdp|negotiate [self-signed|ca-signed|wrong-key|expired]}"
CERT="${3:-self-signed}"
FIRST_PORT="${RDPFIX_XRDP_PORT:-13890}"
HOST=127.0.0.1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { echo "start-test-xrdp: $*" >&2; }
die() { say "$*"; exit 1; }

case "$LAYER" in tls|rdp|negotiate) ;; *) die "security layer '$LAYER' is not tls, rdp or negotiate." ;; esac
case "$CERT" in self-signed|ca-signed|wrong-key|expired) ;; *) die "certificate kind '$CERT' is not self-signed, ca-signed, wrong-key or expired." ;; esac
case "$DIR" in /*) ;; *) die "DIR must be an absolute path (xrdp.ini names files in it)." ;; esac

# --- 1. packages ------------------------------------------------------------------------------------
if ! command -v xrdp >/dev/null || ! command -v openssl >/dev/null; then
  [ "$(id -u)" = 0 ] || die "xrdp or openssl is missing and installing them needs root."
  command -v apt-get >/dev/null || die "xrdp or openssl is missing and there is no apt-get to install them."
  say "installing xrdp openssl"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends xrdp openssl >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends xrdp openssl >&2
  fi
fi
XRDP="$(command -v xrdp)"
[ -r /etc/xrdp/rsakeys.ini ] || die "/etc/xrdp/rsakeys.ini is not readable (run as root, or reinstall xrdp: its postinst makes the keys)."

# --- 2. certificate ------------------------------------------------------------------------------------
mkdir -p "$DIR"
chmod 700 "$DIR"
SUBJECT="/CN=rdpfix-xrdp-$LAYER/O=rdpfix tests"
new_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
case "$CERT" in
  self-signed|wrong-key)
    new_key "$DIR/key.pem"
    openssl req -x509 -new -key "$DIR/key.pem" -sha256 -days 30 -subj "$SUBJECT" -out "$DIR/cert.pem" 2>/dev/null
    if [ "$CERT" = wrong-key ]; then new_key "$DIR/key.pem"; fi ;;
  ca-signed)
    new_key "$DIR/ca.key"
    openssl req -x509 -new -key "$DIR/ca.key" -sha256 -days 60 -subj "/CN=rdpfix-test-ca" -out "$DIR/ca.pem" 2>/dev/null
    new_key "$DIR/key.pem"
    openssl req -new -key "$DIR/key.pem" -subj "$SUBJECT" -out "$DIR/leaf.csr" 2>/dev/null
    openssl x509 -req -in "$DIR/leaf.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -set_serial 0x2a -sha256 -days 20 -out "$DIR/cert.pem" 2>/dev/null ;;
  expired)
    # openssl req/x509 only count days forward from now; openssl ca takes explicit start and end dates.
    new_key "$DIR/key.pem"
    openssl req -new -key "$DIR/key.pem" -subj "$SUBJECT" -out "$DIR/leaf.csr" 2>/dev/null
    mkdir -p "$DIR/ca/newcerts"
    : > "$DIR/ca/index.txt"
    echo 01 > "$DIR/ca/serial"
    printf '%s\n' '[ ca ]' 'default_ca = test' '[ test ]' "dir = $DIR/ca" "database = $DIR/ca/index.txt" \
      "new_certs_dir = $DIR/ca/newcerts" "serial = $DIR/ca/serial" 'default_md = sha256' 'policy = anything' \
      'unique_subject = no' 'copy_extensions = none' '[ anything ]' 'commonName = supplied' 'organizationName = optional' > "$DIR/ca/ca.cnf"
    openssl ca -batch -config "$DIR/ca/ca.cnf" -selfsign -keyfile "$DIR/key.pem" -in "$DIR/leaf.csr" \
      -startdate 20250101000000Z -enddate 20250201000000Z -notext -out "$DIR/cert.pem" 2>/dev/null ;;
esac
chmod 600 "$DIR"/*.pem

# --- 3. port -------------------------------------------------------------------------------------------
listening() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
port="$FIRST_PORT"
while listening "$port"; do
  port=$((port + 1))
  [ "$port" -lt $((FIRST_PORT + 200)) ] || die "no free port in $FIRST_PORT..$((FIRST_PORT + 199))."
done

# --- 4. config and start ---------------------------------------------------------------------------------
# Options from man xrdp.ini (0.9): port takes address:port (tcp://127.0.0.1:N: loopback only); security_layer
# tls|rdp|negotiate; crypt_level applies to Standard RDP Security; certificate/key_file PEM (tls, negotiate);
# ssl_protocols lists the TLS versions accepted.
cat > "$DIR/xrdp.ini" <<EOF
; Written by scripts/start-test-xrdp.sh for rdpfix's RDP negotiation tests.
[Globals]
ini_version=1
fork=false
port=tcp://$HOST:$port
use_vsock=false
tcp_nodelay=true
tcp_keepalive=false
security_layer=$LAYER
crypt_level=high
certificate=$DIR/cert.pem
key_file=$DIR/key.pem
ssl_protocols=TLSv1.2, TLSv1.3
autorun=
allow_channels=false

[Logging]
LogFile=$DIR/xrdp.log
LogLevel=INFO
EnableSyslog=false
EnableConsole=false

[Channels]
rdpdr=false
rdpsnd=false
drdynvc=false
cliprdr=false
rail=false
xrdpvr=false
EOF

setsid nohup "$XRDP" --nodaemon --config "$DIR/xrdp.ini" </dev/null >"$DIR/xrdp.out" 2>&1 &
launched=$!
echo "$launched" > "$DIR/xrdp.pid"
for _ in $(seq 1 100); do
  if listening "$port"; then break; fi
  kill -0 "$launched" 2>/dev/null || { tail -n 20 "$DIR/xrdp.log" "$DIR/xrdp.out" >&2 || true; die "xrdp exited at start."; }
  sleep 0.1
done
listening "$port" || { tail -n 20 "$DIR/xrdp.log" >&2 || true; die "xrdp did not listen on $HOST:$port within 10 s."; }
# The listener must be this xrdp, not another process that took the port first (ss names the socket's owner).
if command -v ss >/dev/null 2>&1; then
  ss -ltnpH "sport = :$port" 2>/dev/null | grep -q "pid=$launched," || { kill "$launched" 2>/dev/null || true; die "port $port answers, but not from xrdp (pid $launched): $(ss -ltnpH "sport = :$port" 2>/dev/null)"; }
fi

cat > "$DIR/env" <<EOF
RDPFIX_XRDP_DIR=$DIR
RDPFIX_XRDP_HOST=$HOST
RDPFIX_XRDP_PORT=$port
RDPFIX_XRDP_PID=$launched
RDPFIX_XRDP_CERT=$DIR/cert.pem
EOF
say "xrdp ($LAYER, $CERT certificate) running (pid $launched) on $HOST:$port; log $DIR/xrdp.log"
cat "$DIR/env"
