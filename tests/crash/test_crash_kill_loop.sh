#!/usr/bin/env bash
# The kill loop: writers SIGKILLed at random moments. For each writer - write-batch to a
# directory, a hive-partitioned, a single Parquet and a single CSV source, write-logs,
# compact, compute, get-historical-features --save-dataset - a first run measures how long
# the batch takes; then each iteration starts the writer, kills it with SIGKILL after a
# random delay in [0, 0.9 x that time], and checks:
#  - readers (`morsel cat` on the path and `morsel pull-all`) see exactly the state before
#    or after the batch (row multisets compared with the batches sent; compaction and
#    compute must not change what is read at all);
#  - every live file is complete and readable; no temporary or uncommitted file is visible;
#  - the registry has at most one prepared record, for the next generation; data-status
#    agrees at once or after --repair (every other iteration leaves the repair to the next
#    write's recovery);
#  - a saved dataset registered under its name always has its complete file;
# and at the end the next write succeeds and everything agrees.
# MS_CRASH_ITERS (default 3) iterations per writer; MS_CRASH_ROWS (default 20000) rows per batch;
# MS_CRASH_SEED seeds the delays (default: the process id; printed on failure).
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" crash-kill-loop
source "$(dirname "$0")/crash_lib.sh"

ITERS=${MS_CRASH_ITERS:-3}
ROWS=${MS_CRASH_ROWS:-20000}
SEED=${MS_CRASH_SEED:-$$}
RANDOM=$SEED
AGG_ROWS=${MS_CRASH_AGG_ROWS:-100000}
make_repo
next_seq=10000000
repair_turn=0
kills=0
killed_mid=0

# run_and_kill MAXMS CMD...: runs CMD in the background, SIGKILLs it after a random delay
# in [0, MAXMS] ms (if still running); sets wrc (137 when killed).
run_and_kill() {
  local maxms=$1
  shift
  "$@" >"$T/w.out" 2>"$T/w.err" &
  local pid=$!
  sleep "$(rand_delay "$maxms")"
  kill -KILL $pid 2>/dev/null || true
  set +e
  wait $pid
  wrc=$?
  set -e
  if [ $wrc = 137 ]; then kills=$((kills + 1)); fi
}

# timed CMD...: runs CMD, fails the test on an error; sets took_ms.
timed() {
  local t0
  t0=$(ms_now)
  run_rc "$@"
  took_ms=$(($(ms_now) - t0))
  [ $rc = 0 ] || fail "$*: rc=$rc $err"
}

# after_kill KIND LABEL: layout and registry (at most one prepared record, for the next
# generation); data-status disagrees exactly when one is pending; a repair every other time
# (the other times the next write's recovery resolves it).
after_kill() {
  local kind=$1 label=$2 ds
  ds=$(dataset_of "$kind")
  check_all "$kind" "$label" --prepared-ok
  if grep -q 'committed=0 aborted=0 prepared=0' <<<"$REG_INFO"; then
    # no record yet (the dataset's first write died before its commit began): data-status
    # does not know the dataset (it lists datasets from the registry)
    return 0
  fi
  run_rc "$M" data-status -C "$R" "$ds"
  if grep -q 'prepared=1' <<<"$REG_INFO"; then
    killed_mid=$((killed_mid + 1))
    [ $rc = 1 ] || fail "$label: data-status rc=$rc with a prepared record pending: $out $err"
  else
    [ $rc = 0 ] || fail "$label: data-status rc=$rc with nothing pending: $out $err"
  fi
  repair_turn=$((1 - repair_turn))
  if [ $repair_turn = 1 ]; then
    run_rc "$M" data-status -C "$R" "$ds" --repair
    [ $rc = 0 ] || fail "$label: data-status --repair rc=$rc: $out $err"
    check_all "$kind" "$label, after --repair"
  fi
}

# ---- appends ----
for kind in dir_src hive_src pq_src csv_src logs; do
  init_state "$kind"
  # the measuring run (not killed)
  gen_batch "$kind" $next_seq "$ROWS" "$T/batch.csv"
  gen_keys $next_seq "$ROWS" >"$T/batch.keys"
  next_seq=$((next_seq + ROWS))
  writer_cmd "$kind" "$T/batch.csv"
  timed "${W[@]}"
  LC_ALL=C sort -m "$T/state.$kind" "$T/batch.keys" >"$T/new.$kind"
  cp "$T/new.$kind" "$T/state.$kind"
  maxms=$((took_ms * 9 / 10 + 1))
  for i in $(seq 1 "$ITERS"); do
    label="$kind iteration $i (seed $SEED)"
    gen_batch "$kind" $next_seq "$ROWS" "$T/batch.csv"
    gen_keys $next_seq "$ROWS" >"$T/batch.keys"
    next_seq=$((next_seq + ROWS))
    LC_ALL=C sort -m "$T/state.$kind" "$T/batch.keys" >"$T/new.$kind"
    writer_cmd "$kind" "$T/batch.csv"
    run_and_kill $maxms "${W[@]}"
    [ $wrc = 0 ] || [ $wrc = 137 ] || fail "$label: writer rc=$wrc: $(cat "$T/w.err")"
    read_state "$kind" >"$T/got"
    if cmp -s "$T/got" "$T/new.$kind"; then
      cp "$T/new.$kind" "$T/state.$kind"
    elif [ $wrc = 0 ]; then
      same_rows "$T/new.$kind" "$T/got" || fail "$label: the write finished but cat does not see its rows"
    else
      same_rows "$T/state.$kind" "$T/got" || fail "$label: cat sees neither the old nor the new state"
    fi
    read_state_pull "$kind" >"$T/got"
    same_rows "$T/state.$kind" "$T/got" || fail "$label: pull-all disagrees with cat"
    after_kill "$kind" "$label"
  done
  # the next write succeeds and adds exactly its rows
  gen_batch "$kind" $next_seq 10 "$T/batch.csv"
  gen_keys $next_seq 10 >"$T/batch.keys"
  next_seq=$((next_seq + 10))
  writer_cmd "$kind" "$T/batch.csv"
  run_rc "${W[@]}"
  [ $rc = 0 ] || fail "$kind: the write after the kills failed: $err"
  LC_ALL=C sort -m "$T/state.$kind" "$T/batch.keys" >"$T/new.$kind"
  cp "$T/new.$kind" "$T/state.$kind"
  read_state "$kind" >"$T/got"
  same_rows "$T/state.$kind" "$T/got" || fail "$kind: state after the final write"
  check_all "$kind" "$kind final"
done

# ---- compaction: rows never change ----
for kind in dir_src hive_src; do
  for i in $(seq 1 "$ITERS"); do
    label="compact $kind iteration $i (seed $SEED)"
    for j in 1 2 3 4; do # small files to merge
      gen_batch "$kind" $next_seq 500 "$T/batch.csv"
      gen_keys $next_seq 500 >"$T/batch.keys"
      next_seq=$((next_seq + 500))
      writer_cmd "$kind" "$T/batch.csv"
      run_rc "${W[@]}"
      [ $rc = 0 ] || fail "$label: write: $err"
      LC_ALL=C sort -m "$T/state.$kind" "$T/batch.keys" >"$T/new.$kind"
      cp "$T/new.$kind" "$T/state.$kind"
    done
    if [ $i = 1 ]; then
      # measure on a copy of the repository's current state: a compaction run to the end
      rm -rf "$T/measure" && cp -a "$R" "$T/measure"
      timed "$M" compact -C "$T/measure" "$(src_view "$kind")" --quiet
      rm -rf "$T/measure"
      cmaxms=$((took_ms * 9 / 10 + 1))
    fi
    run_and_kill $cmaxms "$M" compact -C "$R" "$(src_view "$kind")" --quiet
    [ $wrc = 0 ] || [ $wrc = 137 ] || fail "$label: compact rc=$wrc: $(cat "$T/w.err")"
    read_state "$kind" >"$T/got"
    same_rows "$T/state.$kind" "$T/got" || fail "$label: cat sees other rows"
    read_state_pull "$kind" >"$T/got"
    same_rows "$T/state.$kind" "$T/got" || fail "$label: pull-all sees other rows"
    after_kill "$kind" "$label"
  done
  run_rc "$M" compact -C "$R" "$(src_view "$kind")" --quiet
  [ $rc = 0 ] || fail "compact $kind after the kills: $err"
  read_state "$kind" >"$T/got"
  same_rows "$T/state.$kind" "$T/got" || fail "compact $kind final rows"
  check_all "$kind" "compact $kind final"
done

# ---- compute: the snapshots read the same ----
SNAPCOLS=driver_id,event_timestamp,n,total,distinct_seq
timed "$M" compute -C "$R" agg_fv --quiet
read_cat "$(src_path agg)" "$SNAPCOLS" >"$T/snap.ref"
[ -s "$T/snap.ref" ] || fail "compute wrote no snapshot rows"
timed "$M" compute -C "$R" agg_fv --quiet
maxms=$((took_ms * 9 / 10 + 1))
for i in $(seq 1 "$ITERS"); do
  label="compute iteration $i (seed $SEED)"
  run_and_kill $maxms "$M" compute -C "$R" agg_fv --quiet
  [ $wrc = 0 ] || [ $wrc = 137 ] || fail "$label: compute rc=$wrc: $(cat "$T/w.err")"
  read_cat "$(src_path agg)" "$SNAPCOLS" >"$T/got"
  same_rows "$T/snap.ref" "$T/got" || fail "$label: snapshot rows changed"
  after_kill agg "$label"
done
run_rc "$M" compute -C "$R" agg_fv --quiet
[ $rc = 0 ] || fail "compute after the kills: $err"

# ---- saved datasets: registered => complete file ----
# entity rows: every 7th row of the directory source
awk -F, 'BEGIN { print "driver_id,event_timestamp" }
  NR % 7 == 0 && NR <= 35000 { printf "%s,2024-01-04T00:00:00Z\n", $1 }' "$T/state.dir_src" >"$T/entities.csv"
timed "$M" get-historical-features -C "$R" --entity-df "$T/entities.csv" --features dir_fv:seq,dir_fv:val \
  --output "$T/hist.parquet" --save-dataset sd_ref --quiet
"$M" cat "$T/hist.parquet" --format csv | LC_ALL=C sort >"$T/hist.ref"
maxms=$((took_ms * 9 / 10 + 1))
for i in $(seq 1 "$ITERS"); do
  label="save-dataset iteration $i (seed $SEED)"
  sd="$R/data/storage/saved_datasets/sd_$i.parquet"
  run_and_kill $maxms "$M" get-historical-features -C "$R" --entity-df "$T/entities.csv" \
    --features dir_fv:seq,dir_fv:val --output "$T/hist_$i.parquet" --save-dataset "sd_$i" --quiet
  [ $wrc = 0 ] || [ $wrc = 137 ] || fail "$label: rc=$wrc: $(cat "$T/w.err")"
  run_rc "$M" saved-datasets describe "sd_$i" -C "$R"
  if [ $rc = 0 ]; then
    run_rc "$M" saved-datasets get -C "$R" "sd_$i" --output "$T/sd_get.csv"
    [ $rc = 0 ] || fail "$label: registered but not readable: $err"
    "$M" cat "$T/sd_get.csv" --format csv | LC_ALL=C sort >"$T/got"
    same_rows "$T/hist.ref" "$T/got" || fail "$label: registered dataset is not the complete result"
  elif [ $wrc = 0 ]; then
    fail "$label: finished but not registered"
  fi
  # the storage file, registered or not, is complete when it exists; nothing temporary is visible
  if [ -e "$sd" ]; then
    "$M" cat "$sd" --format csv | LC_ALL=C sort >"$T/got"
    same_rows "$T/hist.ref" "$T/got" || fail "$label: $sd is not complete"
  fi
  for f in "$R/data/storage/saved_datasets"/*; do
    case $(basename "$f") in sd_ref.parquet | sd_[0-9]*.parquet) ;; *) fail "$label: visible stray file $f" ;; esac
  done
done

run_rc "$M" data-status -C "$R" --repair
[ $rc = 0 ] || fail "final data-status --repair rc=$rc: $out $err"
run_rc "$M" data-status -C "$R"
[ $rc = 0 ] || fail "final data-status rc=$rc: $out $err"

echo "kill loop: $kills writers killed, $killed_mid left a prepared record (seed $SEED)"
[ $failures = 0 ] || { echo "$failures failure(s) (seed $SEED)" >&2; exit 1; }
echo "kill loop: ok"
