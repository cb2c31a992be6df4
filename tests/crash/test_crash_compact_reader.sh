#!/usr/bin/env bash
# A reader during compaction: a directory source and a hive-partitioned source get many
# small part files; then `morsel compact` runs while readers loop - `morsel cat` on the
# path, `morsel pull-all`, `morsel get-historical-features` - and every read must equal
# the read taken before the compaction (no duplicate, no gap), and the same once more after
# it. Repeated for MS_CRASH_ROUNDS rounds (default 2), each adding new small files (merged
# with the previous round's output when it is small). The compaction must have merged
# files (fewer live files after), and the registry agree.
# MS_CRASH_FILES (default 30) small files per round of MS_CRASH_ROWS (default 3000) rows.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" crash-compact-reader
source "$(dirname "$0")/crash_lib.sh"

ROUNDS=${MS_CRASH_ROUNDS:-2}
FILES=${MS_CRASH_FILES:-30}
ROWS=${MS_CRASH_ROWS:-3000}
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

# read_all KIND OUT: cat, pull-all and get-historical-features of the kind, one file.
read_all() {
  {
    echo "## cat"
    read_state "$1"
    echo "## pull-all"
    read_state_pull "$1"
    echo "## get-historical-features"
    local f=$T/hist.$RANDOM.csv
    if "$M" get-historical-features -C "$R" --entity-df "$T/entities.csv" \
      --features "$(src_view "$1"):seq,$(src_view "$1"):val" --output "$f" --quiet 2>"$f.err"; then
      "$M" cat "$f" --format csv
    else
      echo "GET-HISTORICAL-FEATURES FAILED: $(cat "$f.err")"
    fi
    rm -f "$f" "$f.err"
  } >"$2"
}

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
    read_all "$kind" "$T/ref"
    "$M" compact -C "$R" "$(src_view "$kind")" --quiet >"$T/c.out" 2>"$T/c.err" &
    cpid=$!
    reads=0
    while kill -0 $cpid 2>/dev/null || [ $reads -lt 2 ]; do
      read_all "$kind" "$T/got"
      reads=$((reads + 1))
      if ! cmp -s "$T/ref" "$T/got"; then
        fail "$label: read $reads during compaction differs: $(diff "$T/ref" "$T/got" | head -5 | tr '\n' ' ')"
        break
      fi
    done
    set +e
    wait $cpid
    crc=$?
    set -e
    [ $crc = 0 ] || fail "$label: compact rc=$crc $(cat "$T/c.err")"
    read_all "$kind" "$T/got"
    cmp -s "$T/ref" "$T/got" || fail "$label: read after compaction differs"
    check_all "$kind" "$label, after"
    live_after=$(sed 's/.*live=\([0-9]*\).*/\1/' <<<"$LAST_INFO")
    [ "$live_after" -lt "$live_before" ] || fail "$label: compaction merged nothing ($live_before -> $live_after live files)"
    echo "$label: $reads reads during compaction, live files $live_before -> $live_after"
  done
done

run_rc "$M" data-status -C "$R"
[ $rc = 0 ] || fail "final data-status rc=$rc: $out $err"

[ $failures = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "reader during compaction: ok"
