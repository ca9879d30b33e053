#!/bin/sh
# Cron guard for mqtt-iot-listener, for machines with cron but no systemd: starts the listener
# unless one already runs on the database. Call it from crontab at boot and every few minutes,
# so a listener that stopped is started again (see mqtt-iot-listener.crontab beside this file):
#   @reboot     /opt/mqtt-iot-listener/deploy/cron/run-listener.sh
#   */5 * * * * /opt/mqtt-iot-listener/deploy/cron/run-listener.sh
# Settings come from the same file as the systemd unit's (deploy/systemd/mqtt-iot-listener.env),
# by default ~/.config/mqtt-iot-listener/mqtt-iot-listener.env, or the file given as $1.
# Exit status: 0 when it is already running (or was stopped normally); otherwise the listener's.
set -u

here=$(cd "$(dirname "$0")" && pwd)
env_file=${1:-${LISTENER_ENV:-${HOME:-/root}/.config/mqtt-iot-listener/mqtt-iot-listener.env}}
if [ ! -r "$env_file" ]; then
  echo "run-listener.sh: cannot read the settings file $env_file" >&2
  exit 2
fi

# Read KEY=value lines without executing the file (values are data, never code).
LISTENER_BROKER=127.0.0.1 LISTENER_DB=ECCTempHum.sqlite3 LISTENER_LOG=ECCMQTTIoT.log LISTENER_OPTIONS=
LISTENER_HOME=$(cd "$here/../.." && pwd) LISTENER_NODE=node
while IFS= read -r line || [ -n "$line" ]; do
  case $line in '' | '#'*) continue ;; esac
  key=${line%%=*}
  value=${line#*=}
  case $value in \"*\") value=${value#\"}; value=${value%\"} ;; esac
  case $key in
    LISTENER_BROKER | LISTENER_DB | LISTENER_LOG | LISTENER_OPTIONS | LISTENER_HOME | LISTENER_NODE) eval "$key=\$value" ;;
  esac
done < "$env_file"

# Already running? The listener's lock file says: first line the PID, then boot=... (Linux boot id).
lock="$LISTENER_DB.lock"
if [ -r "$lock" ]; then
  pid=$(sed -n 1p "$lock")
  boot=$(sed -n 's/^boot=id://p' "$lock")
  this_boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo "$boot")
  case $pid in
    '' | *[!0-9]*) ;;
    *) if [ "$boot" = "$this_boot" ] && kill -0 "$pid" 2>/dev/null; then exit 0; fi ;;
  esac
fi

# Relative file names (e.g. the default last-notice file) resolve next to the database.
cd "$(dirname "$LISTENER_DB")" 2>/dev/null || cd "${HOME:-/}"
# $LISTENER_OPTIONS is split into separate flags on purpose. No node flags are needed: the
# launcher keeps RSS under 120 MB itself (README, Performance).
# shellcheck disable=SC2086
"$LISTENER_NODE" "$LISTENER_HOME/bin/mqtt-iot-listener.js" --no-console \
  -b "$LISTENER_BROKER" -d "$LISTENER_DB" -l "$LISTENER_LOG" $LISTENER_OPTIONS
code=$?
# 4: another instance started first (two guards at the same moment): it runs, all is well.
[ "$code" -eq 4 ] && exit 0
exit "$code"
