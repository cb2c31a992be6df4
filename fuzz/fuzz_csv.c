/* libFuzzer target for the CSV reader: ms_csv_read_buffer with type inference, quoting,
 * embedded newlines and null tokens. Half of the inputs (by the first byte) are parsed in
 * small chunks on a thread pool, so chunk-boundary discovery across quoted newlines is
 * fuzzed too. Errors are fine; crashes, out-of-bounds reads, leaks and undefined behaviour
 * are not.
 *
 * The entry point is named by MS_FUZZ_ENTRY so tests/fuzz/test_fuzz_replay.c can compile
 * this same file into the normal test build and replay the corpus. */
#include <stddef.h>

#include "morsel/csv.h"
#include "morsel/status.h"
#include "morsel/table.h"
#include "morsel/threadpool.h"

#ifndef MS_FUZZ_ENTRY
#define MS_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int MS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int MS_FUZZ_ENTRY(const uint8_t *data, size_t size) {
  static ms_pool *pool;
  ms_error err;
  ms_error_init(&err);
  if (!pool && ms_pool_create(2, &pool, &err) != MS_OK) return 0;
  ms_csv_read_options opts;
  ms_csv_read_options_init(&opts);
  if (size > 0) {
    /* The first byte only steers options; the whole input is still parsed. */
    uint8_t mode = data[0];
    if (mode & 1) {
      opts.pool = pool;
      opts.chunk_bytes = 16 + (mode >> 4) * 8;
    }
    if (mode & 2) opts.header = false;
    if (mode & 4) opts.delimiter = ';';
    if (mode & 8) opts.infer_rows = 3;
  }
  ms_table *table = NULL;
  ms_status st = ms_csv_read_buffer(data, (int64_t)size, "fuzz.csv", &opts, &table, &err);
  if (st == MS_OK) ms_table_release(table);
  return 0;
}
