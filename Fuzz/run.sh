#!/usr/bin/env bash
# Runs each libFuzzer target for the given number of seconds with a seed corpus built from the
# shared test data (JSONTestSuite and the UCWA payloads) and the samples shipped in samples/.
# Crashes land in fuzz-artifacts/<target>/; the last line of each run reports the executions.
set -euo pipefail
bin=${1:?usage: run.sh BUILD_DIR SECONDS SHARED}
seconds=${2:-60}
shared=${3:-../shared}
export SWIFT_BACKTRACE=enable=no
status=0
for target in FuzzTokenizer FuzzBatchDecoder FuzzConfiguration; do
  corpus=fuzz-artifacts/$target/corpus
  mkdir -p "$corpus" "fuzz-artifacts/$target/crashes"
  if [ -z "$(ls -A "$corpus")" ] && [ "$target" = FuzzConfiguration ]; then
    # The configuration parser: the shipped example and small variations.
    cp config/ucwa-eventd.conf "$corpus/example.conf"
    printf '[Output]\r\nSink=journald\r\n' > "$corpus/crlf.conf"
    printf '[Events]\nTimeoutSeconds=1800 # max\n[Server]\nDiscoverURL=https://x ; c\n' > "$corpus/comments.conf"
  elif [ -z "$(ls -A "$corpus")" ]; then
    # The tokenizer target reads its first byte as a split point: prefix the seeds with one.
    for f in "$shared"/testdata/JSONTestSuite/test_parsing/*.json "$shared"/testdata/ucwa/doc-samples/*.json \
             "$shared"/testdata/ucwa/captures/*/*.json samples/*.json; do
      [ -f "$f" ] || continue
      name=$(basename "$f")
      if [ "$target" = FuzzTokenizer ]; then
        { printf '\x11'; cat "$f"; } > "$corpus/$name"
      else
        cp "$f" "$corpus/$name"
      fi
    done
  fi
  echo "== $target: ${seconds}s, seed corpus $(ls "$corpus" | wc -l) files"
  log=fuzz-artifacts/$target/last-run.log
  if ! "$bin/$target" "$corpus" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
       -artifact_prefix="fuzz-artifacts/$target/crashes/" -print_final_stats=1 >"$log" 2>&1; then
    status=1
    echo "$target FAILED; see $log and fuzz-artifacts/$target/crashes/"
    tail -30 "$log"
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^Done' "$log" || true
done
exit $status
