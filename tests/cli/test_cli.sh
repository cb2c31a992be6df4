#!/usr/bin/env bash
# Tests of the morsel command line: help and version, error messages and exit codes, exact
# cat output (jsonl, csv, table) of a hand-written CSV, hive datasets, convert round trips
# (CSV -> Parquet -> CSV must give the same bytes), convert options visible in schema,
# no output file left behind on error, scan's output line, and the sample data command.
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-sh

# ---- version, help, usage errors ----
run_rc "$M" --version
[ $rc = 0 ] && [[ $out =~ ^morsel\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version: $out"
run_rc "$M" help
for c in cat schema convert scan example-data; do
  grep -q "^  $c " <<<"$out" || fail "help does not list $c"
done
run_rc "$M" help convert
grep -q -- "--row-group-size N" <<<"$out" || fail "help convert lacks --row-group-size"
run_rc "$M" frobnicate
expect_eq "unknown command status" "$rc" 2
expect_eq "unknown command message" "$err" "morsel: unknown command 'frobnicate' (see morsel help)"
run_rc "$M" cat
expect_eq "missing argument status" "$rc" 2
expect_eq "missing argument message" "$err" "morsel: missing arguments: usage: morsel cat PATH"
run_rc "$M" cat x.csv --bogus
expect_eq "unknown option status" "$rc" 2
expect_eq "unknown option message" "$err" "morsel: unknown option '--bogus' for 'cat' (see morsel help cat)"
run_rc "$M" cat "$T/nope.parquet"
expect_eq "missing file status" "$rc" 1
expect_eq "missing file message" "$err" "morsel: $T/nope.parquet: cannot stat: No such file or directory"
run_rc "$M" cat x.csv --head -3
expect_eq "bad --head status" "$rc" 1
grep -q "^morsel: --head wants an integer" <<<"$err" || fail "bad --head message: $err"

# ---- cat of a hand-written CSV ----
cat >"$T/small.csv" <<'EOF'
id,name,score,day,ts
1,"Smith, J",1.5,2024-01-05,2024-01-05T10:00:00Z
2,"say ""hi""",,2024-01-06,2024-01-06 11:30:00.5+01:00
3,,-0.25,,
EOF
run_rc "$M" cat "$T/small.csv" --format jsonl
expect_eq "cat jsonl status" "$rc" 0
expect_eq "cat jsonl" "$out" '{"id":1,"name":"Smith, J","score":1.5,"day":"2024-01-05","ts":"2024-01-05T10:00:00.000000000Z"}
{"id":2,"name":"say \"hi\"","score":null,"day":"2024-01-06","ts":"2024-01-06T10:30:00.500000000Z"}
{"id":3,"name":null,"score":-0.25,"day":null,"ts":null}'
run_rc "$M" cat "$T/small.csv" --format csv
expect_eq "cat csv" "$out" 'id,name,score,day,ts
1,"Smith, J",1.5,2024-01-05,2024-01-05T10:00:00.000000000Z
2,"say ""hi""",,2024-01-06,2024-01-06T10:30:00.500000000Z
3,,-0.25,,'
run_rc "$M" cat "$T/small.csv" --format table
expect_eq "cat table" "$out" 'id  name      score  day         ts
--  --------  -----  ----------  ------------------------------
 1  Smith, J    1.5  2024-01-05  2024-01-05T10:00:00.000000000Z
 2  say "hi"   null  2024-01-06  2024-01-06T10:30:00.500000000Z
 3  null      -0.25  null        null'
run_rc "$M" cat "$T/small.csv" --columns ts,id --head 1
expect_eq "cat columns+head" "$out" '{"ts":"2024-01-05T10:00:00.000000000Z","id":1}'
run_rc "$M" cat "$T/small.csv" --format xml
expect_eq "bad format status" "$rc" 1
expect_eq "bad format message" "$err" "morsel: --format wants jsonl, csv or table, got 'xml'"

# ---- shortest round-trip floats ----
printf 'x\n0.30000000000000004\n1e300\n-0.0\n123456789012345680000\n2.5e-308\n2.5e-320\n' >"$T/floats.csv"
run_rc "$M" cat "$T/floats.csv"
expect_eq "float rendering" "$out" '{"x":0.30000000000000004}
{"x":1e+300}
{"x":-0.0}
{"x":1.2345678901234568e+20}
{"x":2.5e-308}
{"x":2.5e-320}'

# ---- delimiters: .tsv output uses tabs, --delimiter applies to CSV input and output ----
run_rc "$M" convert "$T/small.csv" "$T/small.tsv"
expect_eq "tsv status" "$rc" 0
expect_eq "tsv header" "$(head -1 "$T/small.tsv")" "$(printf 'id\tname\tscore\tday\tts')"
run_rc "$M" convert "$T/small.tsv" "$T/small-again.csv"
run_rc "$M" convert "$T/small.csv" "$T/small-canon.csv"
cmp -s "$T/small-again.csv" "$T/small-canon.csv" || fail "csv -> tsv -> csv differs"
printf 'a;b\n1;x,y\n' >"$T/semi.txt"
run_rc "$M" convert "$T/semi.txt" "$T/semi.csv" --delimiter ';'
expect_eq "--delimiter ;" "$(cat "$T/semi.csv")" 'a;b
1;x,y'
run_rc "$M" convert "$T/semi.txt" "$T/semi.parquet" --delimiter ';'
run_rc "$M" cat "$T/semi.parquet"
expect_eq "--delimiter to parquet" "$out" '{"a":1,"b":"x,y"}'
run_rc "$M" convert "$T/semi.txt" "$T/semi2.csv" --delimiter ';;'
expect_eq "bad --delimiter status" "$rc" 1

# ---- hive dataset through cat and schema ----
mkdir -p "$T/hive/region=eu%2Fwest/day=2024-01-01" "$T/hive/region=us/day=2024-01-02"
printf 'id,v\n1,a\n2,b\n' >"$T/hive/region=eu%2Fwest/day=2024-01-01/part-0.csv"
printf 'id,v\n3,c\n' >"$T/hive/region=us/day=2024-01-02/part-0.csv"
touch "$T/hive/_SUCCESS"
run_rc "$M" cat "$T/hive" --columns region,day,id
expect_eq "hive cat" "$out" '{"region":"eu/west","day":"2024-01-01","id":1}
{"region":"eu/west","day":"2024-01-01","id":2}
{"region":"us","day":"2024-01-02","id":3}'
run_rc "$M" schema "$T/hive" --json
expect_eq "hive schema" "$out" "{\"path\":\"$T/hive\",\"format\":\"csv\",\"files\":2,\"columns\":[{\"name\":\"id\",\"type\":\"int64\",\"nullable\":true,\"partition\":false},{\"name\":\"v\",\"type\":\"utf8\",\"nullable\":true,\"partition\":false},{\"name\":\"region\",\"type\":\"utf8\",\"nullable\":false,\"partition\":true},{\"name\":\"day\",\"type\":\"date32\",\"nullable\":false,\"partition\":true}]}"
run_rc "$M" cat "$T/hive/*/*/*.csv" --columns id
expect_eq "glob cat" "$out" '{"id":1}
{"id":2}
{"id":3}'
mkdir -p "$T/emptydir"
run_rc "$M" cat "$T/emptydir"
expect_eq "empty dir status" "$rc" 1
expect_eq "empty dir message" "$err" "morsel: $T/emptydir: no data files (.parquet, .pq, .parq, .csv, .tsv, .txt) in the directory"

# ---- convert round trips ----
run_rc "$M" example-data sample --out "$T/s.csv" --rows 2000 --seed 7
expect_eq "example csv status" "$rc" 0
run_rc "$M" example-data sample --out "$T/s.parquet" --rows 2000 --seed 7
expect_eq "example parquet status" "$rc" 0
run_rc "$M" convert "$T/s.parquet" "$T/from-parquet.csv"
expect_eq "parquet->csv status" "$rc" 0
cmp -s "$T/s.csv" "$T/from-parquet.csv" || fail "sample.parquet -> csv differs from the sample written as csv"
run_rc "$M" convert "$T/s.csv" "$T/rt.parquet" --compression snappy --row-group-size 500 --page-version 2 --no-dictionary
expect_eq "csv->parquet status" "$rc" 0
run_rc "$M" convert "$T/rt.parquet" "$T/rt.csv"
# CSV timestamps read back as ns, so compare with the sample's own CSV -> CSV rewrite.
run_rc "$M" convert "$T/s.csv" "$T/canon.csv"
cmp -s "$T/canon.csv" "$T/rt.csv" || fail "csv -> parquet -> csv differs from csv -> csv"
[ "$("$M" cat "$T/s.csv")" = "$("$M" cat "$T/rt.parquet")" ] || fail "cat of csv and of its parquet copy differ"
# cat streams row groups: --head across group boundaries and full output must agree.
[ "$("$M" cat "$T/rt.parquet" --head 777)" = "$("$M" cat "$T/s.csv" --head 777)" ] || fail "cat --head over row groups"
run_rc "$M" schema "$T/rt.parquet"
grep -q "^row groups (4):$" <<<"$out" || fail "--row-group-size 500 of 2000 rows: not 4 row groups"
grep -q "snappy" <<<"$out" || fail "--compression snappy not visible in schema"
if grep -q "RLE_DICTIONARY\|PLAIN_DICTIONARY" <<<"$out"; then fail "--no-dictionary still wrote dictionary pages"; fi
run_rc "$M" schema "$T/rt.parquet" --json
grep -q '"compression":"snappy"' <<<"$out" || fail "schema --json codec"
# jsonl of the parquet sample and of its csv->parquet copy agree except for the timestamp
# unit (CSV timestamps read back as ns): compare the columns that are not timestamps.
a=$("$M" cat "$T/s.parquet" --columns customer_id,total_spend,orders_30d,segment)
b=$("$M" cat "$T/rt.parquet" --columns customer_id,total_spend,orders_30d,segment)
[ "$a" = "$b" ] || fail "values differ after csv -> parquet"
[ "$(printf '%s\n' "$a" | wc -l)" = 2000 ] || fail "expected 2000 rows"
# Same arguments, same file; another seed, another file.
"$M" example-data sample --out "$T/s2.csv" --rows 2000 --seed 7
cmp -s "$T/s.csv" "$T/s2.csv" || fail "example-data is not deterministic"
"$M" example-data sample --out "$T/s3.csv" --rows 2000 --seed 8
if cmp -s "$T/s.csv" "$T/s3.csv"; then fail "seed has no effect"; fi
run_rc "$M" cat "$T/s.parquet" --head 2 --columns customer_id,event_timestamp,created
[[ $out =~ ^\{\"customer_id\":[0-9]+,\"event_timestamp\":\"2024-01-01T[0-9:]{8}\.[0-9]{6}Z\",\"created\":\"2024-01-01T ]] || fail "sample row shape: $out"

# ---- no partial output on error ----
mkdir -p "$T/out"
run_rc "$M" convert "$T/nope.csv" "$T/out/x.parquet"
expect_eq "convert missing input status" "$rc" 1
printf 'PAR1 this is not parquet at all PAR1' >"$T/bad.parquet"
run_rc "$M" convert "$T/bad.parquet" "$T/out/y.csv"
expect_eq "convert corrupt input status" "$rc" 1
[[ $err == "morsel: $T/bad.parquet"* ]] || fail "corrupt input message should name the file: $err"
run_rc "$M" convert "$T/s.csv" "$T/out/z.json"
expect_eq "convert unknown extension status" "$rc" 1
# A dataset whose second file has a valid footer but corrupt pages fails half way through
# the streaming Parquet write: the writer must be aborted.
mkdir -p "$T/halfbad"
cp "$T/s.parquet" "$T/halfbad/a.parquet"
cp "$T/s.parquet" "$T/halfbad/b.parquet"
size=$(stat -c %s "$T/halfbad/b.parquet")
head -c $((size / 2)) /dev/zero | dd of="$T/halfbad/b.parquet" bs=1 seek=4 conv=notrunc status=none
run_rc "$M" convert "$T/halfbad" "$T/out/h.parquet"
expect_eq "convert half-corrupt dataset status" "$rc" 1
[[ $err == "morsel: $T/halfbad/b.parquet"* ]] || fail "half-corrupt message should name b.parquet: $err"
left=$(ls -A "$T/out")
expect_eq "nothing left in the output directory" "$left" ""

# ---- scan ----
run_rc "$M" scan "$T/s.parquet" --threads 2
[[ $out =~ ^rows=2000\ bytes=[0-9]+\ seconds=[0-9]+\.[0-9]{3}\ peak_bytes=[0-9]+\ threads=2$ ]] || fail "scan line: $out"
run_rc "$M" scan "$T/s.parquet" --columns customer_id --threads 1
# 2000 int64 values and no validity bitmap: exactly 16000 bytes.
[[ $out =~ ^rows=2000\ bytes=16000\  ]] || fail "scan bytes of one int64 column: $out"
run_rc "$M" scan "$T/hive" --threads 0
[[ $out =~ ^rows=3\  ]] || fail "scan hive: $out"

if [ $failures -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all cli tests passed"
