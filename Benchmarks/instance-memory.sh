#!/usr/bin/env bash
# Private memory per daemon instance with several instances running at once: starts ucwa-sim
# (which plays a few invitations, then idles), then N `ucwa-eventd run` processes against it,
# each with its own configuration, password file and state directory, waits until every one
# has written its records and parks in a long poll, and prints per instance the kernel's PSS
# (its fair share of every page, /proc/PID/smaps_rollup), Pss_Anon, the private pages
# (Private_Clean + Private_Dirty: what ending the instance frees), RssAnon and RssFile
# (/proc/PID/status) and VmRSS, then their means. PSS also divides the pages of libc,
# libcurl and OpenSSL by every other process on the machine that maps them, so it moves with
# the machine's load; RssAnon and the private pages do not. "PSS own" is the PSS of every
# mapping except Debian's shared libraries under /lib and /usr/lib/x86_64-linux-gnu (libc,
# libcurl, OpenSSL, …, which both runtime variants map alike): the binary, a bundled Swift
# runtime, the heap and the stacks, the part that differs between builds.
#
#   Benchmarks/instance-memory.sh path/to/ucwa-eventd [instances] [path/to/ucwa-sim]
#
# Used for the Swift runtime choice of the package (static stdlib or shared runtime under
# /usr/lib/ucwa-eventd) and the size of the daemon with and without the simulator linked in;
# Benchmarks/README.md has the figures. With UNSHARE_TOOLCHAIN=1 the instances run with
# /opt/swift hidden (a tmpfs over it), as on a host without the toolchain.
set -euo pipefail
binary=$(realpath "${1:?usage: instance-memory.sh path/to/ucwa-eventd [instances] [path/to/ucwa-sim]}")
instances=${2:-3}
sim=${3:-$(dirname "$0")/../.build/release/ucwa-sim}
settle=${SETTLE_SECONDS:-6}

work=$(mktemp -d /tmp/ucwa-instance-memory-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$sim" --invitations 3 --interval-ms 300 >"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '^DiscoverURL=' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
discover=$(sed -n 's/^DiscoverURL=//p' "$work/sim.out")
[ -n "$discover" ] || { echo "instance-memory: $sim printed no DiscoverURL line: $(cat "$work/sim.err")" >&2; exit 1; }
echo 'correct horse battery staple' >"$work/password"

run() {
  if [ "${UNSHARE_TOOLCHAIN:-0}" = 1 ]; then
    unshare -m sh -c 'mount -t tmpfs none /opt/swift && exec "$0" "$@"' "$binary" "$@"
  else
    exec "$binary" "$@"
  fi
}

for i in $(seq "$instances"); do
  cat >"$work/account$i.conf" <<EOF
[Daemon]
Account=account$i
StateDirectory=$work/state$i
[Server]
DiscoverURL=$discover
[Auth]
Username=alice@contoso.com
PasswordFile=$work/password
EOF
  (run run --config "$work/account$i.conf" >"$work/records$i" 2>"$work/log$i") &
  pids+=($!)
done
sleep "$settle"

field() { awk -v key="$1:" '$1 == key { print $2 }' "$2"; }
own_pss() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { path = $6; system_library = (path ~ /^\/(usr\/)?lib\/x86_64-linux-gnu\//) }
       $1 == "Pss:" && !system_library { sum += $2 } END { print sum }' "/proc/$1/smaps"
}
printf '%-10s %8s %8s %9s %8s %8s %8s %8s %8s\n' 'KiB' PSS 'PSS own' PssAnon Private RssAnon RssFile VmRSS records
total_pss=0; total_anon=0; total_rss=0; total_pss_anon=0; total_private=0; total_own=0
for i in $(seq "$instances"); do
  pid=$(pgrep -f -- "--config $work/account$i.conf" | while read -r p; do
    [ "$(readlink "/proc/$p/exe")" = "$binary" ] && echo "$p"; done | head -1)
  [ -n "$pid" ] || { echo "instance-memory: instance $i is not running: $(cat "$work/log$i")" >&2; exit 1; }
  pss=$(field Pss "/proc/$pid/smaps_rollup"); pss_anon=$(field Pss_Anon "/proc/$pid/smaps_rollup")
  private=$(( $(field Private_Clean "/proc/$pid/smaps_rollup") + $(field Private_Dirty "/proc/$pid/smaps_rollup") ))
  own=$(own_pss "$pid")
  anon=$(field RssAnon "/proc/$pid/status"); file=$(field RssFile "/proc/$pid/status"); rss=$(field VmRSS "/proc/$pid/status")
  printf '%-10s %8s %8s %9s %8s %8s %8s %8s %8s\n' "account$i" "$pss" "$own" "$pss_anon" "$private" "$anon" "$file" "$rss" "$(wc -l <"$work/records$i")"
  total_private=$((total_private + private)); total_pss=$((total_pss + pss)); total_own=$((total_own + own)); total_anon=$((total_anon + anon)); total_rss=$((total_rss + rss)); total_pss_anon=$((total_pss_anon + pss_anon))
done
printf '%-10s %8s %8s %9s %8s %8s %8s %8s\n' mean $((total_pss / instances)) $((total_own / instances)) $((total_pss_anon / instances)) $((total_private / instances)) $((total_anon / instances)) '' $((total_rss / instances))
printf 'binary: %s, %s bytes\n' "$binary" "$(stat -L -c %s "$binary")"
