/* Replays the fuzz corpora (every file under fuzz/corpus/TARGET) through the fuzz targets' own entry
 * points in the normal build, so every ctest run (plain and under ASan+UBSan) re-checks
 * every seed and every past finding that was kept as a regression seed. Each seed is also
 * run cut in half, minus its last byte, and with one byte flipped, as cheap extra
 * bad-input cases. A target passes when nothing crashes; errors from the readers are fine.
 *
 * The targets are compiled in here by including their source with the entry point
 * renamed (MS_FUZZ_ENTRY), so the code replayed is exactly the code fuzzed. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

#include "morsel/alloc.h"
#include "ms_test.h"

#define MS_FUZZ_ENTRY fuzz_pq_encoding_entry
#include "../../fuzz/fuzz_pq_encoding.c"
#undef MS_FUZZ_ENTRY
#define MS_FUZZ_ENTRY fuzz_parquet_entry
#include "../../fuzz/fuzz_parquet.c"
#undef MS_FUZZ_ENTRY
#define MS_FUZZ_ENTRY fuzz_csv_entry
#include "../../fuzz/fuzz_csv.c"
#undef MS_FUZZ_ENTRY

typedef int (*fuzz_entry)(const uint8_t *data, size_t size);

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every file of fuzz/corpus/<name> through entry; returns the number of seeds, or
 * -1 when the directory cannot be read. */
static int replay(const char *name, fuzz_entry entry) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", MS_TEST_SOURCE_DIR, name);
  DIR *d = opendir(dir);
  if (!d) return -1;
  char **files = NULL;
  int n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      files = realloc(files, (size_t)cap * sizeof *files);
    }
    files[n++] = strdup(e->d_name);
  }
  closedir(d);
  if (n) qsort(files, (size_t)n, sizeof *files, cmp_names);
  for (int i = 0; i < n; i++) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    FILE *f = fopen(path, "rb");
    if (!f) continue;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* Exact-size heap copies so ASan flags any read past the end. */
    uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    entry(buf, got);
    if (got > 1) {
      uint8_t *cut = malloc(got / 2 ? got / 2 : 1);
      memcpy(cut, buf, got / 2);
      entry(cut, got / 2);
      free(cut);
      cut = malloc(got - 1);
      memcpy(cut, buf, got - 1);
      entry(cut, got - 1);
      free(cut);
      buf[got / 2] ^= 0x5A;
      entry(buf, got);
    }
    free(buf);
    free(files[i]);
  }
  free(files);
  return n;
}

static void test_replay_pq_encoding(void) {
  int n = replay("pq_encoding", fuzz_pq_encoding_entry);
  CHECK_MSG(n > 0, "no seeds in fuzz/corpus/pq_encoding (%d)", n);
  printf("     pq_encoding: %d seeds replayed\n", n);
}

static void test_replay_parquet(void) {
  int n = replay("parquet", fuzz_parquet_entry);
  CHECK_MSG(n > 0, "no seeds in fuzz/corpus/parquet (%d)", n);
  printf("     parquet: %d seeds replayed\n", n);
}

static void test_replay_csv(void) {
  int n = replay("csv", fuzz_csv_entry);
  CHECK_MSG(n > 0, "no seeds in fuzz/corpus/csv (%d)", n);
  printf("     csv: %d seeds replayed\n", n);
}

MS_TEST_MAIN(MS_TEST(test_replay_pq_encoding), MS_TEST(test_replay_parquet),
             MS_TEST(test_replay_csv))
