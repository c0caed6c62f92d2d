#!/usr/bin/env bash
# Peak RSS of `ucwa-eventd replay` on the generated 1 GiB batch, measured by the kernel
# (GNU time's "Maximum resident set size"), as a check independent of the benchmark harness.
set -euo pipefail
binary=${1:?usage: peak-rss.sh path/to/ucwa-eventd}
file=bench-data/batch-1gib.json
[ -f "$file" ] || { echo "peak-rss: $file missing (run the benchmarks first)" >&2; exit 1; }
if ! command -v /usr/bin/time >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time
fi
size=$(stat -c %s "$file")
report=$(mktemp)
start=$(date +%s.%N)
/usr/bin/time -v "$binary" replay --summary "$file" 2>"$report" >/dev/null
end=$(date +%s.%N)
rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$report")
summary=$(grep -m1 'events' "$report" | sed 's/,.*next=.*//')
printf '%-40s %s\n' "replay of 1 GiB batch:" "$summary"
printf '%-40s %.1f MiB\n' "peak RSS (kernel, /usr/bin/time):" "$(echo "$rss_kib / 1024" | bc -l)"
printf '%-40s %.0f MB/s (including JSON-line formatting off)\n' "replay throughput:" "$(echo "$size / 1000000 / ($end - $start)" | bc -l)"
rm -f "$report"
