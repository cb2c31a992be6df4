#!/usr/bin/env bash
# Writers killed at each named crash point (MORSEL_CRASH_POINT, include/morsel/store.h):
# write-batch to a directory source, a hive-partitioned source, a single Parquet file and a
# single CSV file, and write-logs, each killed after-data, mid-data, after-prepare,
# after-rename and after-commit. After each kill:
#  - readers (`morsel cat` on the path, `morsel pull-all`) see exactly the old rows
#    (killed before the commit point: after-data, mid-data, after-prepare) or the old plus
#    the batch's rows (after-rename, after-commit), compared with the batches sent;
#  - every live file is complete and readable, no temporary or uncommitted file is visible;
#  - the registry has at most one prepared record, for the next generation only;
#    `morsel data-status` disagrees exactly while one is pending; kills after-data and
#    after-rename are repaired with `--repair` (then the registry must agree exactly,
#    row totals included), the others are left to the next write's recovery;
#  - the next write succeeds and adds exactly its rows.
# Then `morsel compact` and `morsel compute` killed at each point: rows unchanged.
# MS_CRASH_ROWS sets the batch size (default 1000).
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" crash-points
source "$(dirname "$0")/crash_lib.sh"

ROWS=${MS_CRASH_ROWS:-1000}
make_repo
next_seq=10000000

# expect_state KIND EXPECTED_FILE LABEL [--no-pull]: readers see exactly EXPECTED_FILE's rows.
expect_state() {
  read_state "$1" >"$T/got"
  same_rows "$2" "$T/got" || fail "$3: cat sees a wrong state"
  if [ "${4:-}" != --no-pull ]; then
    read_state_pull "$1" >"$T/got"
    same_rows "$2" "$T/got" || fail "$3: pull-all sees a wrong state"
  fi
}

# after_kill KIND LABEL POINT: layout and registry (at most one prepared record, for the
# next generation), data-status disagrees exactly when a prepared record is pending. Kills
# after-data and after-rename are then repaired by `data-status --repair` (and the registry
# checked strictly: totals of a commit recovery resolved included); the others are left
# to the next write's recovery.
after_kill() {
  local kind=$1 label=$2 point=$3 ds
  ds=$(dataset_of "$kind")
  check_all "$kind" "$label" --prepared-ok
  if grep -q 'committed=0 aborted=0 prepared=0' <<<"$REG_INFO"; then
    # no record yet (the dataset's first write died before its commit began): data-status
    # does not know the dataset (it lists datasets from the registry)
    return 0
  fi
  run_rc "$M" data-status -C "$R" "$ds"
  if grep -q 'prepared=1' <<<"$REG_INFO"; then
    [ $rc = 1 ] || fail "$label: data-status rc=$rc with a prepared record pending: $out $err"
  else
    [ $rc = 0 ] || fail "$label: data-status rc=$rc with nothing pending: $out $err"
  fi
  case $point in
    after-data | after-rename)
      run_rc "$M" data-status -C "$R" "$ds" --repair
      [ $rc = 0 ] || fail "$label: data-status --repair rc=$rc: $out $err"
      check_all "$kind" "$label, after --repair" ;;
  esac
}

for kind in dir_src hive_src pq_src csv_src logs; do
  init_state "$kind"
  for point in after-data mid-data after-prepare after-rename after-commit; do
    label="$kind $point"
    gen_batch "$kind" $next_seq "$ROWS" "$T/batch.csv"
    gen_keys $next_seq "$ROWS" >"$T/batch.keys"
    next_seq=$((next_seq + ROWS))
    LC_ALL=C sort -m "$T/state.$kind" "$T/batch.keys" >"$T/new.$kind"
    writer_cmd "$kind" "$T/batch.csv"
    set +e
    MORSEL_CRASH_POINT=$point "${W[@]}" >"$T/w.out" 2>"$T/w.err"
    wrc=$?
    set -e
    case $point in
      after-rename | after-commit) want=new ;;
      *) want=old ;;
    esac
    if [ $wrc = 0 ]; then
      # Points a writer never passes: mid-data on a one-file batch, after-data for a
      # single file (its data is written under the lock, after prepare).
      case "$point" in
        mid-data) want=new ;;
        after-data) is_single "$kind" && want=new || fail "$label: the crash point was not reached" ;;
        *) fail "$label: the crash point was not reached" ;;
      esac
    elif [ $wrc != 137 ]; then
      fail "$label: writer rc=$wrc (want 137, SIGKILL): $(cat "$T/w.err")"
    fi
    if [ $want = old ]; then
      expect_state "$kind" "$T/state.$kind" "$label (old state)"
    else
      expect_state "$kind" "$T/new.$kind" "$label (new state)"
      cp "$T/new.$kind" "$T/state.$kind"
    fi
    after_kill "$kind" "$label" $point
    # The next write succeeds (recovering what the kill left) and adds exactly its rows.
    gen_batch "$kind" $next_seq 50 "$T/batch.csv"
    gen_keys $next_seq 50 >"$T/batch.keys"
    next_seq=$((next_seq + 50))
    writer_cmd "$kind" "$T/batch.csv"
    run_rc "${W[@]}"
    [ $rc = 0 ] || fail "$label: the next write failed: $err"
    LC_ALL=C sort -m "$T/state.$kind" "$T/batch.keys" >"$T/new.$kind"
    cp "$T/new.$kind" "$T/state.$kind"
    expect_state "$kind" "$T/state.$kind" "$label, next write" --no-pull
  done
  check_all "$kind" "$kind, after the last next write"
  run_rc "$M" data-status -C "$R" "$(dataset_of "$kind")"
  [ $rc = 0 ] || fail "$kind: data-status at the end rc=$rc: $out"
done

# ---- compaction killed at each point: the rows never change; the files are the old set
# or the merged one ----
for kind in dir_src hive_src; do
  for point in after-data after-prepare after-rename after-commit; do
    label="compact $kind $point"
    # a few more small files so that there is something to merge
    for i in 1 2; do
      gen_batch "$kind" $next_seq 40 "$T/batch.csv"
      gen_keys $next_seq 40 >"$T/batch.keys"
      next_seq=$((next_seq + 40))
      writer_cmd "$kind" "$T/batch.csv"
      run_rc "${W[@]}"
      [ $rc = 0 ] || fail "$label: write: $err"
      LC_ALL=C sort -m "$T/state.$kind" "$T/batch.keys" >"$T/new.$kind"
      cp "$T/new.$kind" "$T/state.$kind"
    done
    check_all "$kind" "$label, before"
    before=$LAST_INFO
    set +e
    MORSEL_CRASH_POINT=$point "$M" compact -C "$R" "$(src_view "$kind")" --quiet >"$T/w.out" 2>"$T/w.err"
    wrc=$?
    set -e
    [ $wrc = 137 ] || fail "$label: compact rc=$wrc (want 137): $(cat "$T/w.err")"
    expect_state "$kind" "$T/state.$kind" "$label"
    after_kill "$kind" "$label" $point
    # after-data and after-prepare: the old live set; after the rename: fewer files
    live_before=$(sed 's/.*live=\([0-9]*\).*/\1/' <<<"$before")
    live_after=$(sed 's/.*live=\([0-9]*\).*/\1/' <<<"$LAST_INFO")
    case $point in
      after-data | after-prepare) [ "$live_after" = "$live_before" ] || fail "$label: live files $live_before -> $live_after before the commit point" ;;
      *) [ "$live_after" -lt "$live_before" ] || fail "$label: live files $live_before -> $live_after after the commit point" ;;
    esac
    # the next compaction succeeds and keeps the rows
    run_rc "$M" compact -C "$R" "$(src_view "$kind")" --quiet
    [ $rc = 0 ] || fail "$label: next compact: $err"
    expect_state "$kind" "$T/state.$kind" "$label, next compact" --no-pull
    check_all "$kind" "$label, next compact"
  done
done

# ---- compute killed at each point: the snapshots read the same ----
SNAPCOLS=driver_id,event_timestamp,n,total,distinct_seq
run_rc "$M" compute -C "$R" agg_fv --quiet
[ $rc = 0 ] || fail "compute: $err"
read_cat "$(src_path agg)" "$SNAPCOLS" >"$T/snap.ref"
[ -s "$T/snap.ref" ] || fail "compute wrote no snapshot rows"
"$M" pull-all -C "$R" --feature-view agg_fv --output "$T/agg.csv" --quiet
"$M" cat "$T/agg.csv" --format csv | LC_ALL=C sort >"$T/agg.ref"
for point in after-data after-prepare after-rename after-commit; do
  label="compute $point"
  set +e
  MORSEL_CRASH_POINT=$point "$M" compute -C "$R" agg_fv --quiet >"$T/w.out" 2>"$T/w.err"
  wrc=$?
  set -e
  [ $wrc = 137 ] || fail "$label: compute rc=$wrc (want 137): $(cat "$T/w.err")"
  read_cat "$(src_path agg)" "$SNAPCOLS" >"$T/got"
  same_rows "$T/snap.ref" "$T/got" || fail "$label: snapshot rows changed"
  "$M" pull-all -C "$R" --feature-view agg_fv --output "$T/agg.csv" --quiet
  "$M" cat "$T/agg.csv" --format csv | LC_ALL=C sort >"$T/got"
  same_rows "$T/agg.ref" "$T/got" || fail "$label: pull-all of the aggregation view changed"
  after_kill agg "$label" $point
  run_rc "$M" compute -C "$R" agg_fv --quiet
  [ $rc = 0 ] || fail "$label: next compute: $err"
  check_all agg "$label, next compute"
done

# Everything agrees at the end, with nothing to repair.
run_rc "$M" data-status -C "$R"
[ $rc = 0 ] || fail "final data-status rc=$rc: $out $err"

[ $failures = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "crash points: ok"
