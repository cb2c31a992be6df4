#!/usr/bin/env bash
# Readers during compaction: a directory source and a hive-partitioned source get many
# small part files; then three reader loops run in the background - `morsel cat` on the
# path, `morsel pull-all`, `morsel get-historical-features` - from before `morsel compact`
# starts until after it ends, and every read must equal the read taken before the
# compaction (no duplicate, no gap), as must one more read after it. Repeated for
# MS_CRASH_ROUNDS rounds (default 2), each adding new small files (merged with the
# previous round's output when it is small). The compaction must have merged files (fewer
# live files after), the layout and registry checks hold, and at least one read must have
# overlapped a compaction (start before its end, end after its start), else the test
# proved nothing and fails.
# MS_CRASH_FILES (default 12) small files per round of MS_CRASH_ROWS (default 4000) rows.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" crash-compact-reader
source "$(dirname "$0")/crash_lib.sh"

ROUNDS=${MS_CRASH_ROUNDS:-2}
FILES=${MS_CRASH_FILES:-12}
ROWS=${MS_CRASH_ROWS:-4000}
make_repo
next_seq=10000000

# entity rows for get-historical-features: every driver, at three times
{
  echo "driver_id,event_timestamp"
  for d in $(seq 1 97); do
    echo "$d,2024-01-01T12:00:00Z"
    echo "$d,2024-01-02T06:30:00Z"
    echo "$d,2024-01-04T00:00:00Z"
  done
} >"$T/entities.csv"

# read_one KIND WHAT OUT: one read (cat, pull or hist) of the kind into OUT.
read_one() {
  case $2 in
    cat) read_state "$1" ;;
    pull) read_state_pull "$1" ;;
    hist)
      local f=$T/hist.$BASHPID.csv
      if "$M" get-historical-features -C "$R" --entity-df "$T/entities.csv" \
        --features "$(src_view "$1"):seq,$(src_view "$1"):val" --output "$f" --quiet 2>"$f.err"; then
        "$M" cat "$f" --format csv
      else
        echo "GET-HISTORICAL-FEATURES FAILED: $(cat "$f.err")"
      fi
      rm -f "$f" "$f.err" ;;
  esac >"$3"
}

# reader KIND WHAT: loops reads until $T/stop exists; each read that differs from
# $T/ref.WHAT is kept as $T/bad.WHAT.N; appends "start_ms end_ms" per read to $T/times.WHAT.
reader() {
  local n=0 t0
  while [ ! -e "$T/stop" ]; do
    n=$((n + 1))
    t0=$(ms_now)
    read_one "$1" "$2" "$T/got.$2"
    echo "$t0 $(ms_now)" >>"$T/times.$2"
    cmp -s "$T/ref.$2" "$T/got.$2" || mv "$T/got.$2" "$T/bad.$2.$n"
  done
}

overlapping=0
for kind in dir_src hive_src; do
  for round in $(seq 1 "$ROUNDS"); do
    label="$kind round $round"
    for i in $(seq 1 "$FILES"); do
      gen_batch "$kind" $next_seq "$ROWS" "$T/batch.csv"
      next_seq=$((next_seq + ROWS))
      writer_cmd "$kind" "$T/batch.csv"
      run_rc "${W[@]}"
      [ $rc = 0 ] || fail "$label: write: $err"
    done
    check_all "$kind" "$label, before"
    live_before=$(sed 's/.*live=\([0-9]*\).*/\1/' <<<"$LAST_INFO")
    for what in cat pull hist; do read_one "$kind" $what "$T/ref.$what"; done
    rm -f "$T/stop" "$T"/times.* "$T"/bad.*
    rpids=()
    for what in cat pull hist; do
      reader "$kind" $what &
      rpids+=($!)
    done
    sleep 0.3
    c0=$(ms_now)
    run_rc "$M" compact -C "$R" "$(src_view "$kind")" --quiet
    c1=$(ms_now)
    [ $rc = 0 ] || fail "$label: compact rc=$rc $err"
    sleep 0.3
    touch "$T/stop"
    for pid in "${rpids[@]}"; do wait "$pid"; done
    for bad in "$T"/bad.*; do
      [ -e "$bad" ] || continue
      what=${bad#"$T"/bad.}
      what=${what%%.*}
      fail "$label: a $what read during compaction differs: $(diff "$T/ref.$what" "$bad" | head -4 | tr '\n' ' ')"
    done
    # reads that overlapped the compaction (started before it ended, ended after it began)
    reads=$(cat "$T"/times.* | wc -l)
    over=$(awk -v c0="$c0" -v c1="$c1" '$1 < c1 && $2 > c0' "$T"/times.* | wc -l)
    overlapping=$((overlapping + over))
    for what in cat pull hist; do
      read_one "$kind" $what "$T/got.$what"
      cmp -s "$T/ref.$what" "$T/got.$what" || fail "$label: $what after compaction differs"
    done
    check_all "$kind" "$label, after"
    live_after=$(sed 's/.*live=\([0-9]*\).*/\1/' <<<"$LAST_INFO")
    [ "$live_after" -lt "$live_before" ] || fail "$label: compaction merged nothing ($live_before -> $live_after live files)"
    echo "$label: compaction $((c1 - c0)) ms, $reads reads, $over overlapping it, live files $live_before -> $live_after"
  done
done

# the test means nothing if no read ever overlapped a compaction
[ $overlapping -gt 0 ] || fail "no read overlapped any compaction"
run_rc "$M" data-status -C "$R"
[ $rc = 0 ] || fail "final data-status rc=$rc: $out $err"

[ $failures = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "reader during compaction: ok"
