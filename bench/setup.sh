# Shared by the benchmark entry points (bench/run.sh, bench/run-pit.sh); sourced, not run.
# Installs what the build and the peers need, builds morsel unless MORSEL names a binary,
# and exports BENCH_COMMAND (the command line that reproduces the run, with the given
# settings) and NODE_PATH (the npm peers). Usage:
#   . bench/setup.sh "bash bench/run.sh" BENCH_ROWS BENCH_RUNS BENCH_THREADS
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
bash scripts/install-test-peers.sh
if [ -z "${MORSEL:-}" ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)" --target morsel >/dev/null
  export MORSEL=$root/build/morsel
fi

bench_cmd=$1
shift
for v in "$@"; do
  if [ -n "${!v:-}" ]; then bench_cmd="$v=${!v} $bench_cmd"; fi
done
export BENCH_COMMAND=$bench_cmd
export NODE_PATH=${MORSEL_PEERS_DIR:-$root/build/peers}/node_modules
