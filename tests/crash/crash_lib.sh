# Shared fixture and checks of the crash tests (tests/crash/test_*.sh); source it after
# tests/lib/cli_test_common.sh. It builds a repository with one source of each kind a write
# can target, each holding a hand-placed file (no token: live whatever the manifest says):
#   dir_src   data/dir          a directory of Parquet part files     (view dir_fv)
#   hive_src  data/hive         hive-partitioned by event_date (date)  (view hive_fv)
#   pq_src    data/single.parquet   one Parquet file                   (view pq_fv)
#   csv_src   data/single.csv       one CSV file                       (view csv_fv)
#   agg_src   data/agg          static events of an aggregation view   (view agg_fv)
# and a feature service `logged` (dir_fv's features) logging to data/logs by __log_date.
# Every row carries a unique `seq`; driver_id and val are functions of seq, so a row is
# identified by seq and a damaged row is caught by check_rows_consistent.
#
# The state of a source is the sorted multiset of its rows' "driver_id,seq,val" lines
# (KEYCOLS), read by `morsel cat` on the source path (the dataset layer applies the
# manifest) and by `morsel pull-all`; tests compare it with the batches they sent.

R=$T/repo
# the interpreter itself, not a version manager's shim (which costs a second a call)
PY=$(python3 -c 'import sys; print(sys.executable)')
CHECK_PY=$(dirname "${BASH_SOURCE[0]}")/crash_check.py
KEYCOLS=driver_id,seq,val

# gen_rows FIRST N [hive]: N rows seq FIRST.. as CSV (header included). Event times spread
# over 2024-01-01..03 (three hive partitions), created = event time + 1 s.
gen_rows() {
  awk -v first="$1" -v n="$2" -v hive="${3:-}" 'BEGIN {
    if (hive != "") print "driver_id,event_timestamp,created,seq,val,event_date";
    else print "driver_id,event_timestamp,created,seq,val";
    for (s = first; s < first + n; s++) {
      t = (s * 37) % 259200; d = 1 + int(t / 86400); r = t % 86400;
      h = int(r / 3600); m = int((r % 3600) / 60); x = r % 60;
      ts = sprintf("2024-01-%02dT%02d:%02d:%02dZ", d, h, m, x);
      x2 = x + 1; m2 = m; h2 = h;
      if (x2 == 60) { x2 = 0; m2 = m + 1; if (m2 == 60) { m2 = 0; h2 = h + 1 } }
      if (h2 == 24) { h2 = 23; m2 = 59; x2 = 59 }
      cr = sprintf("2024-01-%02dT%02d:%02d:%02dZ", d, h2, m2, x2);
      line = sprintf("%d,%s,%s,%d,%d", s % 97 + 1, ts, cr, s, (s * 7919) % 1000003);
      if (hive != "") line = line sprintf(",2024-01-%02d", d);
      print line;
    }
  }'
}

# gen_keys FIRST N: the sorted KEYCOLS lines of gen_rows FIRST N.
gen_keys() {
  awk -v first="$1" -v n="$2" 'BEGIN {
    for (s = first; s < first + n; s++) printf "%d,%d,%d\n", s % 97 + 1, s, (s * 7919) % 1000003;
  }' | LC_ALL=C sort
}

# gen_logs FIRST N: N log rows of service `logged` (Feast's log schema, __log_date left
# out: derived from __log_timestamp), one request per row.
gen_logs() {
  awk -v first="$1" -v n="$2" 'BEGIN {
    print "driver_id,dir_fv__seq,dir_fv__seq__timestamp,dir_fv__seq__status,dir_fv__val,dir_fv__val__timestamp,dir_fv__val__status,__log_timestamp,__request_id";
    for (s = first; s < first + n; s++) {
      t = (s * 37) % 259200; d = 1 + int(t / 86400); r = t % 86400;
      ts = sprintf("2024-01-%02dT%02d:%02d:%02dZ", d, int(r / 3600), int((r % 3600) / 60), r % 60);
      printf "%d,%d,%s,1,%d,%s,1,%s,req-%d\n", s % 97 + 1, s, ts, (s * 7919) % 1000003, ts, ts, s;
    }
  }'
}
LOGCOLS=driver_id,dir_fv__seq,dir_fv__val

# Builds the repository in $R and applies it. Sizes (rows of the hand-placed files) are
# small; agg_src gets AGG_ROWS rows (default 20000) so that compute takes measurable time.
make_repo() {
  mkdir -p "$R/data/dir" "$R/data/hive/event_date=2024-01-01" "$R/data/agg"
  cat >"$R/feature_store.yaml" <<'EOF'
project: crash_test
provider: local
registry: data/registry.db
offline_store:
  type: morsel
  storage_path: data/storage
  threads: 2
EOF
  cat >"$R/features.yaml" <<'EOF'
entities:
  - name: driver
    join_keys: [driver_id]
    value_type: int64
sources:
  - name: dir_src
    path: data/dir
    file_format: parquet
    timestamp_field: event_timestamp
    created_timestamp_column: created
  - name: hive_src
    path: data/hive
    file_format: parquet
    timestamp_field: event_timestamp
    created_timestamp_column: created
    date_partition_column: event_date
  - name: pq_src
    path: data/single.parquet
    file_format: parquet
    timestamp_field: event_timestamp
    created_timestamp_column: created
  - name: csv_src
    path: data/single.csv
    file_format: csv
    timestamp_field: event_timestamp
    created_timestamp_column: created
  - name: agg_src
    path: data/agg
    file_format: parquet
    timestamp_field: event_timestamp
feature_views:
  - name: dir_fv
    entities: [driver]
    source: dir_src
    schema:
      - {name: seq, dtype: int64}
      - {name: val, dtype: int64}
  - name: hive_fv
    entities: [driver]
    source: hive_src
    schema:
      - {name: seq, dtype: int64}
      - {name: val, dtype: int64}
  - name: pq_fv
    entities: [driver]
    source: pq_src
    schema:
      - {name: seq, dtype: int64}
      - {name: val, dtype: int64}
  - name: csv_fv
    entities: [driver]
    source: csv_src
    schema:
      - {name: seq, dtype: int64}
      - {name: val, dtype: int64}
  - name: agg_fv
    entities: [driver]
    source: agg_src
    ttl: 0s
    cutoffs: {start: '2024-01-02 00:00:00', every: 6h, end: '2024-01-04 00:00:00'}
    aggregations:
      - {name: n, function: count, window: 1d}
      - {name: total, function: sum, input: val, window: 1d}
      - {name: distinct_seq, function: count_distinct, input: seq, window: 2d}
    schema:
      - {name: n, dtype: int64}
      - {name: total, dtype: int64}
      - {name: distinct_seq, dtype: int64}
feature_services:
  - name: logged
    features:
      - dir_fv
    logging:
      destination:
        path: data/logs
        partition_by: [__log_date]
      sample_rate: 1.0
EOF
  gen_rows 0 100 >"$T/init_dir.csv"
  "$M" convert "$T/init_dir.csv" "$R/data/dir/initial.parquet" >/dev/null
  gen_rows 100 100 hive | awk -F, 'NR == 1 { sub(/,event_date$/, ""); print; next } $6 == "2024-01-01" { sub(/,[^,]*$/, ""); print }' >"$T/init_hive.csv"
  "$M" convert "$T/init_hive.csv" "$R/data/hive/event_date=2024-01-01/initial.parquet" >/dev/null
  gen_rows 200 100 >"$T/init_pq.csv"
  "$M" convert "$T/init_pq.csv" "$R/data/single.parquet" >/dev/null
  gen_rows 300 100 >"$R/data/single.csv"
  gen_rows 1000000 "${AGG_ROWS:-20000}" >"$T/init_agg.csv"
  "$M" convert "$T/init_agg.csv" "$R/data/agg/events.parquet" >/dev/null
  run_rc "$M" apply -C "$R"
  [ $rc = 0 ] || { echo "apply failed: $out $err" >&2; exit 1; }
  # the log destination starts with one committed batch (a reader of a destination without
  # any file is an error, not an empty state)
  gen_logs 500 100 >"$T/init_logs.csv"
  run_rc "$M" write-logs -C "$R" --feature-service logged --input "$T/init_logs.csv" --quiet
  [ $rc = 0 ] || { echo "initial write-logs failed: $out $err" >&2; exit 1; }
}

# src_path SOURCE: the source's path; src_view SOURCE: its feature view.
src_path() {
  case $1 in
    dir_src) echo "$R/data/dir" ;; hive_src) echo "$R/data/hive" ;;
    pq_src) echo "$R/data/single.parquet" ;; csv_src) echo "$R/data/single.csv" ;;
    logs) echo "$R/data/logs" ;; agg) echo "$R/data/storage/aggregations/agg_fv" ;;
  esac
}
src_view() { echo "${1%_src}_fv"; }

# read_cat PATH COLS: the sorted rows a reader sees through `morsel cat` (no header);
# an empty or missing dataset reads as no rows. Exit status of cat is checked.
read_cat() {
  local o
  if [ ! -e "$1" ]; then return 0; fi
  o=$("$M" cat "$1" --columns "$2" --format csv) || { echo "READ-FAILED" ; return 0; }
  tail -n +2 <<<"$o" | LC_ALL=C sort
}

# read_pull VIEW: the sorted KEYCOLS rows of `morsel pull-all --feature-view VIEW`.
read_pull() {
  local f=$T/pull.$BASHPID.csv
  if ! "$M" pull-all -C "$R" --feature-view "$1" --output "$f" --quiet >/dev/null 2>"$f.err"; then
    echo "PULL-FAILED: $(cat "$f.err")"
    rm -f "$f" "$f.err"
    return 0
  fi
  "$M" cat "$f" --columns "$KEYCOLS" --format csv | tail -n +2 | LC_ALL=C sort
  rm -f "$f" "$f.err"
}


# ms_now: milliseconds since the epoch.
ms_now() { echo $(($(date +%s%N) / 1000000)); }

# rand_delay MAXMS: a random delay in seconds (3 decimals) in [0, MAXMS] ms.
rand_delay() {
  local d=$((RANDOM * 32768 + RANDOM))
  d=$((d % ($1 + 1)))
  printf '%d.%03d' $((d / 1000)) $((d % 1000))
}

# ---- writers and readers by target kind: dir_src hive_src pq_src csv_src logs ----

# dataset_of KIND: the registry's dataset name.
dataset_of() {
  case $1 in logs) echo "logs:logged" ;; agg) echo "aggregations:agg_fv" ;; *) echo "source:$1" ;; esac
}
is_single() { [ "$1" = pq_src ] || [ "$1" = csv_src ]; }
# (kind "agg" is the aggregation view's snapshot directory, dataset aggregations:agg_fv)

# gen_batch KIND FIRST N FILE: a batch of N rows (seq FIRST..) for the kind into FILE (CSV).
gen_batch() {
  case $1 in
    logs) gen_logs "$2" "$3" >"$4" ;;
    hive_src) gen_rows "$2" "$3" hive >"$4" ;;
    *) gen_rows "$2" "$3" >"$4" ;;
  esac
}

# writer_cmd KIND FILE: sets W to the command appending FILE to the kind's target.
writer_cmd() {
  case $1 in
    logs) W=("$M" write-logs -C "$R" --feature-service logged --input "$2" --quiet) ;;
    *) W=("$M" write-batch -C "$R" --feature-view "$(src_view "$1")" --input "$2" --quiet) ;;
  esac
}

# read_state KIND: the sorted key rows a reader sees through `morsel cat` on the target.
read_state() {
  case $1 in
    logs) read_cat "$(src_path logs)" "$LOGCOLS" ;;
    *) read_cat "$(src_path "$1")" "$KEYCOLS" ;;
  esac
}

# read_state_pull KIND: the same through the retrieval layer (pull-all).
read_state_pull() {
  case $1 in
    logs)
      local f=$T/pull-logs.$BASHPID.parquet
      if ! "$M" pull-all -C "$R" --logs logged --output "$f" --quiet >/dev/null 2>"$f.err"; then
        echo "PULL-FAILED: $(cat "$f.err")"
      else
        "$M" cat "$f" --columns "$LOGCOLS" --format csv | tail -n +2 | LC_ALL=C sort
      fi
      rm -f "$f" "$f.err" ;;
    *) read_pull "$(src_view "$1")" ;;
  esac
}

# init_state KIND: writes the kind's initial expected state to $T/state.KIND.
init_state() {
  case $1 in
    dir_src) read_cat "$T/init_dir.csv" "$KEYCOLS" ;;
    hive_src) read_cat "$T/init_hive.csv" "$KEYCOLS" ;;
    pq_src) read_cat "$T/init_pq.csv" "$KEYCOLS" ;;
    csv_src) read_cat "$R/data/single.csv" "$KEYCOLS" ;;
    logs) gen_keys 500 100 ;;
  esac >"$T/state.$1"
}

# same_rows A B: files of sorted rows equal? On a difference prints counts and a few rows.
same_rows() {
  if cmp -s "$1" "$2"; then return 0; fi
  local missing extra
  missing=$(LC_ALL=C comm -23 "$1" "$2" | wc -l)
  extra=$(LC_ALL=C comm -13 "$1" "$2" | wc -l)
  echo "rows: expected $(wc -l <"$1"), got $(wc -l <"$2"): $missing missing, $extra extra/duplicated;" \
    "first extra: $(LC_ALL=C comm -13 "$1" "$2" | head -3 | tr '\n' ' ')" >&2
  return 1
}

# check_all KIND LABEL [--prepared-ok]: the file-layout checks and the registry checks
# of crash_check.py, in one run; fails the test on a problem. Sets LAST_INFO ("INFO live=N
# orphans=N temps=N generation=G") and REG_INFO ("INFO committed=N aborted=N prepared=N").
check_all() {
  local kind=$1 label=$2 o files_args reg_args
  shift 2
  if is_single "$kind"; then
    files_args=("$(src_path "$kind")" --single)
    reg_args=("$(dataset_of "$kind")" "$(src_path "$kind")" --single "$@")
  else
    files_args=("$(src_path "$kind")" --allow initial.parquet --allow events.parquet)
    reg_args=("$(dataset_of "$kind")" "$(src_path "$kind")" "$@")
  fi
  o=$(CRASH_SCAN_CACHE=$T/scan-cache.json "$PY" "$CHECK_PY" files "$M" "${files_args[@]}" \
    --next registry "$R/data/registry.db" crash_test "${reg_args[@]}")
  LAST_INFO=$(grep '^INFO live=' <<<"$o" || true)
  REG_INFO=$(grep '^INFO committed=' <<<"$o" || true)
  if grep -v '^INFO' <<<"$o" | grep -q .; then
    fail "$label: $(grep -v '^INFO' <<<"$o" | head -5 | tr '\n' ';')"
  fi
}
