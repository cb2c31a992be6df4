/* libFuzzer target for the Parquet reader: the whole file path of ms_pq_read_buffer
 * (footer, Thrift metadata, page headers, decompression, every encoding, type mapping).
 * Errors are expected and fine; crashes, out-of-bounds reads, leaks, undefined behaviour
 * and huge allocations are what it hunts (the sanitizers and libFuzzer's -rss_limit_mb
 * and -malloc_limit_mb catch them).
 *
 * The entry point is named by MS_FUZZ_ENTRY so tests/fuzz/test_fuzz_replay.c can compile
 * this same file into the normal test build and replay the corpus. */
#include <stddef.h>
#include <string.h>

#include "morsel/parquet.h"
#include "morsel/status.h"
#include "morsel/table.h"

#ifndef MS_FUZZ_ENTRY
#define MS_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int MS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int MS_FUZZ_ENTRY(const uint8_t *data, size_t size) {
  ms_pq_read_options opts;
  memset(&opts, 0, sizeof opts); /* every flat column, every row group, this thread */
  ms_table *table = NULL;
  ms_error err;
  ms_error_init(&err);
  ms_status st = ms_pq_read_buffer(data, (int64_t)size, "fuzz.parquet", &opts, &table, &err);
  if (st == MS_OK) ms_table_release(table);
  return 0;
}
