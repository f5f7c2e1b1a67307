#!/usr/bin/env bash
# Starts a private OpenSSH server on 127.0.0.1 for rdpfix's ssh transport tests
# (test/integration/transport-ssh.test.ts). Idempotent: a second run with the same folder reuses the
# running server.
#
#   scripts/start-test-sshd.sh [DIR]          DIR defaults to /tmp/rdpfix-sshd
#
# Environment:
#   RDPFIX_SSHD_PORT   first port to try (default 2222; the next free port above it is used when taken)
#   RDPFIX_PWSH        PowerShell the server runs as its `powershell` subsystem; otherwise the same order as
#                      src/powershell/locate.ts: `pwsh` on PATH, then .tools/pwsh/rdpfix-pwsh
#
# Everything lives in DIR: host key, sshd_config, authorized_keys, a client key pair (id_ed25519, authorized)
# and a second one (id_ed25519_unauthorized, not authorized), a known_hosts file that trusts the host key,
# the pid file and the log. The last lines on stdout (also written to DIR/env, shell- and dotenv-readable):
#   RDPFIX_SSHD_DIR, RDPFIX_SSHD_HOST, RDPFIX_SSHD_PORT, RDPFIX_SSHD_USER, RDPFIX_SSHD_KEY,
#   RDPFIX_SSHD_BAD_KEY, RDPFIX_SSHD_KNOWN_HOSTS, RDPFIX_SSHD_PID, RDPFIX_SSHD_PWSH
# Stop it with scripts/stop-test-sshd.sh [DIR].
#
# Needs root: it may apt-get install openssh-server/openssh-client, creates /run/sshd, and sshd only
# switches users (privilege separation) when it runs as root.
set -euo pipefail

DIR="${1:-/tmp/rdpfix-sshd}"
FIRST_PORT="${RDPFIX_SSHD_PORT:-2222}"
HOST=127.0.0.1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { echo "start-test-sshd: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (sshd privilege separation, /run/sshd, apt-get)."

# --- 1. packages ------------------------------------------------------------------------------------
SSHD=/usr/sbin/sshd
if [ ! -x "$SSHD" ] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
  command -v apt-get >/dev/null || die "openssh is missing and there is no apt-get to install it."
  say "installing openssh-server openssh-client"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends openssh-server openssh-client >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends openssh-server openssh-client >&2
  fi
fi
[ -x "$SSHD" ] || die "$SSHD not found after installation."

# --- 2. PowerShell for the subsystem ---------------------------------------------------------------
PWSH="${RDPFIX_PWSH:-}"
if [ -z "$PWSH" ]; then
  if command -v pwsh >/dev/null; then PWSH="$(command -v pwsh)"
  elif [ -x "$ROOT/.tools/pwsh/rdpfix-pwsh" ]; then PWSH="$ROOT/.tools/pwsh/rdpfix-pwsh"
  else die "no PowerShell: set RDPFIX_PWSH, put pwsh on PATH, or run 'npm run provision'."
  fi
fi
case "$PWSH" in /*) ;; *) PWSH="$(command -v "$PWSH" || true)" ;; esac
[ -n "$PWSH" ] && [ -x "$PWSH" ] || die "PowerShell '${RDPFIX_PWSH:-pwsh}' is not an executable file."
case "$PWSH" in *[[:space:]]*) die "the PowerShell path '$PWSH' contains whitespace, which an sshd Subsystem line cannot carry." ;; esac

# --- 3. already running? ---------------------------------------------------------------------------
print_env() { cat "$DIR/env"; }
alive() { [ -f "$DIR/sshd.pid" ] && kill -0 "$(cat "$DIR/sshd.pid")" 2>/dev/null; }
listening() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

mkdir -p "$DIR"
chmod 700 "$DIR"
if alive && [ -f "$DIR/env" ] && grep -q "^RDPFIX_SSHD_PWSH=$PWSH\$" "$DIR/env"; then
  # shellcheck disable=SC1091
  port="$(. "$DIR/env" && echo "$RDPFIX_SSHD_PORT")"
  if listening "$port"; then
    say "already running (pid $(cat "$DIR/sshd.pid"), port $port)"
    print_env
    exit 0
  fi
fi
if alive; then "$ROOT/scripts/stop-test-sshd.sh" "$DIR" >&2; fi

# --- 4. keys ---------------------------------------------------------------------------------------
[ -f "$DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C rdpfix-test-host -f "$DIR/ssh_host_ed25519_key"
[ -f "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C rdpfix-test-client -f "$DIR/id_ed25519"
[ -f "$DIR/id_ed25519_unauthorized" ] || ssh-keygen -q -t ed25519 -N '' -C rdpfix-test-unauthorized -f "$DIR/id_ed25519_unauthorized"
cp "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
chmod 600 "$DIR/authorized_keys" "$DIR"/id_ed25519 "$DIR"/id_ed25519_unauthorized "$DIR/ssh_host_ed25519_key"

# --- 5. port ---------------------------------------------------------------------------------------
port="$FIRST_PORT"
while listening "$port"; do
  port=$((port + 1))
  [ "$port" -lt $((FIRST_PORT + 100)) ] || die "no free port in $FIRST_PORT..$((FIRST_PORT + 99))."
done

# known_hosts for a non-default port is keyed "[host]:port".
echo "[$HOST]:$port $(cut -d' ' -f1,2 "$DIR/ssh_host_ed25519_key.pub")" > "$DIR/known_hosts"

# --- 6. config and start ---------------------------------------------------------------------------
cat > "$DIR/sshd_config" <<EOF
# Written by scripts/start-test-sshd.sh: a private sshd for rdpfix's ssh transport tests.
# Port must come before ListenAddress.
Port $port
ListenAddress $HOST
HostKey $DIR/ssh_host_ed25519_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys
# The folder is under /tmp (world-writable parent): sshd's ownership checks would refuse it.
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
Subsystem powershell $PWSH -sshs -NoLogo -NoProfile
EOF

mkdir -p /run/sshd
chmod 755 /run/sshd
"$SSHD" -t -f "$DIR/sshd_config" || die "sshd rejected $DIR/sshd_config."

rm -f "$DIR/sshd.pid"
# -D: no daemonizing of its own; setsid + nohup detach it from this shell and its terminal instead.
setsid nohup "$SSHD" -D -f "$DIR/sshd_config" -E "$DIR/sshd.log" </dev/null >/dev/null 2>&1 &
launched=$!

for _ in $(seq 1 100); do
  if [ -s "$DIR/sshd.pid" ] && listening "$port"; then break; fi
  kill -0 "$launched" 2>/dev/null || { tail -n 20 "$DIR/sshd.log" >&2 || true; die "sshd exited at start."; }
  sleep 0.1
done
listening "$port" || { tail -n 20 "$DIR/sshd.log" >&2 || true; die "sshd did not listen on $HOST:$port within 10 s."; }
[ -s "$DIR/sshd.pid" ] || echo "$launched" > "$DIR/sshd.pid"

cat > "$DIR/env" <<EOF
RDPFIX_SSHD_DIR=$DIR
RDPFIX_SSHD_HOST=$HOST
RDPFIX_SSHD_PORT=$port
RDPFIX_SSHD_USER=$(id -un)
RDPFIX_SSHD_KEY=$DIR/id_ed25519
RDPFIX_SSHD_BAD_KEY=$DIR/id_ed25519_unauthorized
RDPFIX_SSHD_KNOWN_HOSTS=$DIR/known_hosts
RDPFIX_SSHD_PID=$(cat "$DIR/sshd.pid")
RDPFIX_SSHD_PWSH=$PWSH
EOF
say "sshd running (pid $(cat "$DIR/sshd.pid")) on $HOST:$port; log $DIR/sshd.log"
print_env
