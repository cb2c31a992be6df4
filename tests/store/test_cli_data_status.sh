#!/usr/bin/env bash
# `morsel data-status` end to end on a repository whose managed dataset is built by hand
# with real tools: data files and the manifest JSON written as text (the format of
# docs/storage.md), commit records inserted with the sqlite3 shell into the registry that
# `morsel apply` created. Checks agreement, a prepared record left by a "killed writer"
# (exit 1, then --repair resolves it), --gc with offline_store.file_retention_seconds,
# the retention key's validation, unknown dataset names, and that readers (`morsel cat`)
# see exactly the manifest's files.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-data-status
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 shell not installed"; exit 0; }

cd "$T"
"$M" init repo >/dev/null
cd repo
# the retention must be an integer >= 0
sed -i 's/^offline_store:$/offline_store:\n  file_retention_seconds: -5/' feature_store.yaml
run_rc "$M" data-status
expect_eq "negative retention refused" "$rc" 1
case "$err" in *"file_retention_seconds must be at least 0, not -5"*) ;; *) fail "retention message: $err" ;; esac
sed -i 's/file_retention_seconds: -5/file_retention_seconds: 0/' feature_store.yaml
"$M" apply >/dev/null

run_rc "$M" data-status
expect_eq "empty: exit 0" "$rc" 0
expect_eq "empty: message" "$out" "no managed datasets in project 'repo'"

# A managed directory: two committed token files, one hand-placed file, one orphan.
D="$PWD/data/ds"
mkdir -p "$D"
printf 'id,v\n1,10\n2,20\n' >"$D/part-a.m0000000000000001.csv"
printf 'id,v\n3,30\n' >"$D/part-b.m0000000000000002.csv"
printf 'id,v\n9,90\n' >"$D/part-c.m0000000000000003.csv"   # orphan: never committed
printf 'id,v\n7,70\n' >"$D/by_hand.csv"
sa=$(stat -c %s "$D/part-a.m0000000000000001.csv")
sb=$(stat -c %s "$D/part-b.m0000000000000002.csv")
cat >"$D/_morsel_manifest.json" <<JSON
{"format":"morsel-manifest","version":1,"generation":2,"kind":"write_batch",
"files":[
{"path":"part-a.m0000000000000001.csv","rows":2,"bytes":$sa,"generation":1},
{"path":"part-b.m0000000000000002.csv","rows":1,"bytes":$sb,"generation":2}],
"removed":[]}
JSON
rec() { # generation attempt state [identity_before]
  sqlite3 data/registry.db "INSERT INTO data_commits VALUES('repo','source:ds',$1,$2,'write_batch','$3','$D',1,0,1,0,3,2,NULL,NULL,NULL,'2026-11-24T00:00:00Z','u','h')"
}
rec 1 1 committed
rec 2 1 committed

run_rc "$M" data-status
expect_eq "agrees: exit 0" "$rc" 0
expect_eq "agrees: output" "$out" "source:ds: $D
  generation 2 (manifest 2, registry 2)
  live: 2 files, 3 rows, $((sa + sb)) bytes
  pending deletions: 0, orphans: 1
  agrees"

# Readers: the manifest's files plus the hand-placed one, never the orphan.
run_rc "$M" cat "$D" --format csv
expect_eq "cat exit" "$rc" 0
expect_eq "cat rows" "$out" "id,v
7,70
1,10
2,20
3,30"

# A writer killed after its prepared record, before the manifest rename.
rec 3 1 prepared
run_rc "$M" data-status source:ds
expect_eq "prepared: exit 1" "$rc" 1
case "$out" in *"DISAGREES: 1 prepared registry record not resolved"*) ;; *) fail "prepared: $out" ;; esac
case "$err" in *"morsel: 1 of 1 dataset disagree (--repair runs recovery)"*) ;; *) fail "prepared err: $err" ;; esac
run_rc "$M" data-status source:ds --repair
expect_eq "repair: exit 0" "$rc" 0
case "$out" in *"repair: 1 prepared record resolved"*"agrees"*) ;; *) fail "repair: $out" ;; esac
expect_eq "repair: aborted" "$(sqlite3 data/registry.db "SELECT state FROM data_commits WHERE generation = 3")" aborted

# GC with retention 0: the orphan and a stale temporary go, live and hand files stay.
printf 'x' >"$D/.part-d.m0000000000000004.csv.tmp-1-1"
run_rc "$M" data-status --gc
expect_eq "gc: exit 0" "$rc" 0
case "$out" in *"gc: 2 files deleted (retention 0s)"*"orphans: 0"*"agrees"*) ;; *) fail "gc: $out" ;; esac
[ ! -e "$D/part-c.m0000000000000003.csv" ] || fail "orphan not deleted"
[ ! -e "$D/.part-d.m0000000000000004.csv.tmp-1-1" ] || fail "temporary not deleted"
[ -e "$D/by_hand.csv" ] && [ -e "$D/part-a.m0000000000000001.csv" ] || fail "gc deleted a live file"

# Damage: a live file changes size behind morsel's back.
printf 'id,v\n1,10\n2,20\n5,50\n' >"$D/part-a.m0000000000000001.csv"
run_rc "$M" data-status
expect_eq "damaged: exit 1" "$rc" 1
case "$out" in *"DISAGREES: live file part-a.m0000000000000001.csv has"*"bytes, the manifest says $sa"*) ;; *) fail "damaged: $out" ;; esac

# A manifest listing a missing file: readers refuse it, naming both.
rm "$D/part-b.m0000000000000002.csv"
run_rc "$M" cat "$D"
expect_eq "missing: exit 1" "$rc" 1
case "$err" in *"_morsel_manifest.json"*"lists $D/part-b.m0000000000000002.csv, which is missing"*) ;; *) fail "missing: $err" ;; esac

run_rc "$M" data-status source:nope
expect_eq "unknown: exit 1" "$rc" 1
case "$err" in *"no dataset 'source:nope' in the registry of project 'repo'"*) ;; *) fail "unknown: $err" ;; esac

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
