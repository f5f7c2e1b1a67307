#!/usr/bin/env bash
# Stops the sshd that scripts/start-test-sshd.sh started from DIR (default /tmp/rdpfix-sshd), by its pid
# file only. Keys and config stay, so the next start reuses them. Succeeds when nothing is running.
set -euo pipefail

DIR="${1:-/tmp/rdpfix-sshd}"
PIDFILE="$DIR/sshd.pid"

[ -f "$PIDFILE" ] || { echo "stop-test-sshd: not running (no $PIDFILE)" >&2; exit 0; }
pid="$(cat "$PIDFILE")"
case "$pid" in ''|*[!0-9]*) echo "stop-test-sshd: bad pid file $PIDFILE" >&2; rm -f "$PIDFILE"; exit 1 ;; esac

# Only a process that really is this folder's sshd is signalled (the pid may have been reused).
if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-f $DIR/sshd_config"; then
  # The listener only: sessions already open keep their own processes until their client goes away.
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  echo "stop-test-sshd: stopped sshd (pid $pid)" >&2
else
  echo "stop-test-sshd: pid $pid is not this folder's sshd; nothing stopped" >&2
fi
rm -f "$PIDFILE"
