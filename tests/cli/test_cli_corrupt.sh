#!/usr/bin/env bash
# morsel on damaged Parquet files: truncations and byte flips of a valid file must give
# either success or exit status 1 with a "morsel: " message (the ASan build of this test
# also proves there is no out-of-bounds access or leak on those paths).
set -euo pipefail
source "$(dirname "$0")/../lib/cli_test_common.sh" cli-corrupt

# ---- corrupt input never crashes: truncations and byte flips give exit 0 or a clean 1 ----
"$M" example-data sample --out "$T/c.parquet" --rows 300 --seed 3
size=$(stat -c %s "$T/c.parquet")
i=0
for cut in 0 4 100 $((size / 2)) $((size - 9)) $((size - 8)) $((size - 1)); do
  head -c "$cut" "$T/c.parquet" >"$T/m$i.parquet"
  i=$((i + 1))
done
for off in 4 20 200 $((size / 4)) $((size / 2)) $((size - 200)) $((size - 40)) $((size - 12)) $((size - 9)); do
  cp "$T/c.parquet" "$T/m$i.parquet"
  printf '\xff\x7f\x00\x80' | dd of="$T/m$i.parquet" bs=1 seek="$off" conv=notrunc status=none
  i=$((i + 1))
done
for f in "$T"/m*.parquet; do
  for cmd in "cat" "schema --json"; do
    run_rc "$M" $cmd "$f"
    if [ $rc -ne 0 ] && { [ $rc -ne 1 ] || [[ $err != "morsel: "* ]]; }; then
      fail "$cmd on mutated $(basename "$f"): status $rc, stderr: ${err:0:300}"
    fi
  done
done


if [ $failures -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "all corrupt-input cli tests passed ($i files)"
