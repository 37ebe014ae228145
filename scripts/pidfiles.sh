# shellcheck shell=bash
# Pid files that outlive their processes. A machine restored from a snapshot, or a CI runner
# started from one, keeps /run: a pid file there may name a process that no longer exists, or,
# worse, an unrelated process that got the same pid after the restart. Killing that pid, or
# letting dockerd believe "containerd is still running", breaks the next start. So a pid file
# counts only when the process it names has the expected text in its command line.
#
#   pid_of FILE TEXT     prints the pid when FILE names a live process whose command line
#                        contains TEXT; fails otherwise
#   drop_stale FILE TEXT removes FILE unless it names such a process
#   stop_by_file FILE TEXT  stops that process (TERM, then up to 30 s) and removes FILE

pid_of() {
  local file=$1 text=$2 pid
  [ -f "$file" ] || return 1
  pid=$(tr -dc 0-9 <"$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$text" || return 1
  echo "$pid"
}

drop_stale() {
  pid_of "$1" "$2" >/dev/null || rm -f "$1"
}

stop_by_file() {
  local pid
  if pid=$(pid_of "$1" "$2"); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$1"
}
