#!/usr/bin/env bash
# Concurrent appenders: P processes each append K distinct batches at the same time to the
# same target - a directory source, a hive-partitioned source, a single Parquet file, a
# single CSV file, a feature service's log destination. Afterwards every row sent is
# present exactly once (row multisets compared with the batches sent), every writer
# succeeded, the registry holds exactly P x K more committed records, no prepared one,
# and its last record's totals (generation, rows, files; the single file's identity)
# agree with the manifest / the file. Then appenders race a compaction of the directory
# source, and two compactions race each other: rows unchanged, nothing lost, the
# loser of two compactions is refused with a conflict or finds nothing left to merge.
# MS_CRASH_WRITERS (default 3) processes, MS_CRASH_BATCHES (default 4) batches each,
# MS_CRASH_ROWS (default 400) rows per batch.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" crash-concurrent
source "$(dirname "$0")/crash_lib.sh"

P=${MS_CRASH_WRITERS:-3}
K=${MS_CRASH_BATCHES:-4}
ROWS=${MS_CRASH_ROWS:-400}
make_repo

# committed_count KIND: committed records of the kind's dataset.
committed_count() {
  check_all "$1" "$1 count" --prepared-ok
  sed 's/.*committed=\([0-9]*\).*/\1/' <<<"$REG_INFO"
}

# appender KIND W FIRST: K batches of ROWS rows, seq from FIRST; exit status = failures.
appender() {
  local kind=$1 w=$2 first=$3 bad=0 b
  for b in $(seq 0 $((K - 1))); do
    gen_batch "$kind" $((first + b * ROWS)) "$ROWS" "$T/batch.$kind.$w.csv"
    writer_cmd "$kind" "$T/batch.$kind.$w.csv"
    if ! "${W[@]}" >"$T/w.$kind.$w.out" 2>"$T/w.$kind.$w.err"; then
      echo "writer $w batch $b: $(cat "$T/w.$kind.$w.err")" >&2
      bad=$((bad + 1))
    fi
  done
  return $bad
}

base=10000000
for kind in dir_src hive_src pq_src csv_src logs; do
  init_state "$kind"
  before=$(committed_count "$kind")
  pids=()
  for w in $(seq 1 "$P"); do
    first=$((base + (w - 1) * K * ROWS))
    appender "$kind" "$w" $first &
    pids+=($!)
    gen_keys $first $((K * ROWS)) >>"$T/sent.$kind"
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || fail "$kind: an appender failed"
  done
  base=$((base + P * K * ROWS))
  LC_ALL=C sort -m "$T/state.$kind" <(LC_ALL=C sort "$T/sent.$kind") >"$T/new.$kind"
  cp "$T/new.$kind" "$T/state.$kind"
  read_state "$kind" >"$T/got"
  same_rows "$T/state.$kind" "$T/got" || fail "$kind: cat after $P x $K concurrent batches"
  read_state_pull "$kind" >"$T/got"
  same_rows "$T/state.$kind" "$T/got" || fail "$kind: pull-all after $P x $K concurrent batches"
  check_all "$kind" "$kind concurrent"
  after=$(sed 's/.*committed=\([0-9]*\).*/\1/' <<<"$REG_INFO")
  [ "$after" = $((before + P * K)) ] || fail "$kind: committed records $before -> $after, want +$((P * K))"
  run_rc "$M" data-status -C "$R" "$(dataset_of "$kind")"
  [ $rc = 0 ] || fail "$kind: data-status rc=$rc: $out"
done

# ---- appenders while other writers die at the crash points: the survivors' recovery
# resolves the dead writers' records, and no survivor's batch is lost ----
for kind in dir_src pq_src; do
  : >"$T/sent.$kind"
  pids=()
  for w in $(seq 1 "$P"); do
    first=$((base + (w - 1) * K * ROWS))
    appender "$kind" "$w" $first &
    pids+=($!)
    gen_keys $first $((K * ROWS)) >>"$T/sent.$kind"
  done
  base=$((base + P * K * ROWS))
  # victims, one after the other, while the appenders run
  for point in after-prepare after-rename after-prepare after-commit after-data after-rename; do
    gen_batch "$kind" $base 100 "$T/victim.csv"
    writer_cmd "$kind" "$T/victim.csv"
    set +e
    MORSEL_CRASH_POINT=$point "${W[@]}" >/dev/null 2>"$T/victim.err"
    vrc=$?
    set -e
    case $point in
      after-rename | after-commit) gen_keys $base 100 >>"$T/sent.$kind" ;;
      after-data) if [ $vrc = 0 ]; then gen_keys $base 100 >>"$T/sent.$kind"; fi ;;
    esac
    if [ $vrc != 137 ] && ! { [ $point = after-data ] && [ $vrc = 0 ] && is_single "$kind"; }; then
      fail "$kind victim $point: rc=$vrc $(cat "$T/victim.err")"
    fi
    base=$((base + 100))
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || fail "$kind: an appender failed next to dying writers"
  done
  run_rc "$M" data-status -C "$R" "$(dataset_of "$kind")" --repair
  [ $rc = 0 ] || fail "$kind: data-status --repair after the victims: rc=$rc $out $err"
  LC_ALL=C sort -m "$T/state.$kind" <(LC_ALL=C sort "$T/sent.$kind") >"$T/new.$kind"
  cp "$T/new.$kind" "$T/state.$kind"
  read_state "$kind" >"$T/got"
  same_rows "$T/state.$kind" "$T/got" || fail "$kind: rows after appenders next to dying writers"
  check_all "$kind" "$kind appenders and victims"
done

# ---- appenders racing a compaction of the same directory source ----
kind=dir_src
: >"$T/sent.$kind"
pids=()
for w in $(seq 1 "$P"); do
  first=$((base + (w - 1) * K * ROWS))
  appender "$kind" "$w" $first &
  pids+=($!)
  gen_keys $first $((K * ROWS)) >>"$T/sent.$kind"
done
base=$((base + P * K * ROWS))
n_compact=0
any_alive() {
  local pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
while any_alive; do
  run_rc "$M" compact -C "$R" dir_fv --quiet
  [ $rc = 0 ] || fail "compact during appends: rc=$rc $err"
  n_compact=$((n_compact + 1))
done
for pid in "${pids[@]}"; do
  wait "$pid" || fail "appender during compaction failed"
done
LC_ALL=C sort -m "$T/state.$kind" <(LC_ALL=C sort "$T/sent.$kind") >"$T/new.$kind"
cp "$T/new.$kind" "$T/state.$kind"
read_state "$kind" >"$T/got"
same_rows "$T/state.$kind" "$T/got" || fail "appends racing $n_compact compactions: rows"
check_all "$kind" "appends racing compaction"

# ---- two compactions at once: one merges, the other conflicts or finds nothing ----
for round in 1 2 3; do
  for j in 1 2 3 4 5 6; do
    gen_batch dir_src $base 200 "$T/batch.csv"
    gen_keys $base 200 >"$T/batch.keys"
    base=$((base + 200))
    writer_cmd dir_src "$T/batch.csv"
    run_rc "${W[@]}"
    [ $rc = 0 ] || fail "write: $err"
    LC_ALL=C sort -m "$T/state.dir_src" "$T/batch.keys" >"$T/new.dir_src"
    cp "$T/new.dir_src" "$T/state.dir_src"
  done
  "$M" compact -C "$R" dir_fv --quiet >"$T/c1.out" 2>"$T/c1.err" &
  c1=$!
  "$M" compact -C "$R" dir_fv --quiet >"$T/c2.out" 2>"$T/c2.err" &
  c2=$!
  set +e
  wait $c1; r1=$?
  wait $c2; r2=$?
  set -e
  for r in "$r1:$T/c1.err" "$r2:$T/c2.err"; do
    code=${r%%:*}
    if [ "$code" != 0 ] && ! grep -qi "conflict\|concurrent" "${r#*:}"; then
      fail "racing compaction round $round: rc=$code $(cat "${r#*:}")"
    fi
  done
  read_state dir_src >"$T/got"
  same_rows "$T/state.dir_src" "$T/got" || fail "racing compactions round $round: rows"
  check_all dir_src "racing compactions round $round"
done

run_rc "$M" data-status -C "$R"
[ $rc = 0 ] || fail "final data-status rc=$rc: $out $err"

[ $failures = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "concurrent appenders: ok"
