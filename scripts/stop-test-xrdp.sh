#!/usr/bin/env bash
# Stops the xrdp that scripts/start-test-xrdp.sh started from DIR, by its pid file only, and only when that pid
# really is this folder's xrdp (the pid may have been reused). Succeeds when nothing is running.
set -euo pipefail

DIR="${1:?usage: stop-test-xrdp.sh DIR}"
PIDFILE="$DIR/xrdp.pid"

[ -f "$PIDFILE" ] || { echo "stop-test-xrdp: not running (no $PIDFILE)" >&2; exit 0; }
pid="$(cat "$PIDFILE")"
case "$pid" in ''|*[!0-9]*) echo "stop-test-xrdp: bad pid file $PIDFILE" >&2; rm -f "$PIDFILE"; exit 1 ;; esac

if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--config $DIR/xrdp.ini"; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  echo "stop-test-xrdp: stopped xrdp (pid $pid)" >&2
else
  echo "stop-test-xrdp: pid $pid is not this folder's xrdp; nothing stopped" >&2
fi
rm -f "$PIDFILE"
