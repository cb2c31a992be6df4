/* Tests of the core: errors, allocation accounting, the thread pool and the local fs. */
#include <stdatomic.h>

#include "morsel/alloc.h"
#include "morsel/fs.h"
#include "morsel/status.h"
#include "morsel/threadpool.h"
#include "ms_test.h"

static void test_error_format(void) {
  ms_error err;
  ms_error_init(&err);
  ms_error_set(&err, MS_ERR_CORRUPT, "bad page header");
  ms_error_set_file(&err, "a.parquet");
  ms_error_set_column(&err, "x");
  ms_error_set_byte_offset(&err, 42);
  char buf[512];
  CHECK_STR(ms_error_format(&err, buf, sizeof buf), "a.parquet: column 'x', byte offset 42: bad page header");
  CHECK_EQ_INT(ms_error_set(NULL, MS_ERR_IO, "x"), MS_ERR_IO);
}

static void test_alloc_accounting(void) {
  int64_t before = ms_mem_current();
  void *p = ms_malloc(1000);
  CHECK(p);
  CHECK(ms_mem_current() == before + 1000);
  CHECK(ms_mem_peak() >= before + 1000);
  p = ms_realloc(p, 5000);
  CHECK(ms_mem_current() == before + 5000);
  ms_free(p);
  CHECK(ms_mem_current() == before);
  void *a = ms_malloc_aligned(100);
  CHECK(((uintptr_t)a & 63) == 0);
  ms_free_aligned(a);
  CHECK(ms_mem_current() == before);
  CHECK(ms_calloc((size_t)1 << 62, 16) == NULL);
  ms_mem_set_limit(ms_mem_current() + 4096);
  CHECK(ms_malloc(1 << 20) == NULL);
  ms_mem_set_limit(0);
}

typedef struct sum_ctx {
  int64_t *out;
  atomic_int calls;
} sum_ctx;

static ms_status square_task(void *ctx, int64_t task, int worker, ms_error *err) {
  sum_ctx *c = ctx;
  c->out[task] = task * task;
  atomic_fetch_add(&c->calls, 1);
  if (task == 777) return ms_error_set(err, MS_ERR_CORRUPT, "task %lld failed", (long long)task);
  return MS_OK;
}

static void test_pool(void) {
  for (int threads = 1; threads <= 4; threads++) {
    ms_pool *pool;
    ms_error err;
    ms_error_init(&err);
    CHECK_OK(ms_pool_create(threads, &pool, &err), &err);
    CHECK_EQ_INT(ms_pool_size(pool), threads);
    int64_t out[500];
    for (int round = 0; round < 20; round++) {
      sum_ctx c = {out, 0};
      CHECK_OK(ms_pool_run(pool, 500, square_task, &c, &err), &err);
      CHECK_EQ_INT(atomic_load(&c.calls), 500);
      for (int i = 0; i < 500; i++) CHECK_EQ_INT(out[i], (int64_t)i * i);
    }
    int64_t big[1000];
    sum_ctx c = {big, 0};
    ms_status st = ms_pool_run(pool, 1000, square_task, &c, &err);
    CHECK_EQ_INT(st, MS_ERR_CORRUPT);
    CHECK(strstr(err.message, "task 777") != NULL);
    ms_pool_destroy(pool);
  }
}

static void test_fs_atomic_write(void) {
  ms_error err;
  ms_error_init(&err);
  char path[1400], dir[1200];
  snprintf(dir, 1100, "%s/fs/a/b", ms_test_tmpdir());
  CHECK_OK(ms_fs_mkdirs(NULL, dir, &err), &err);
  snprintf(path, sizeof path, "%s/out.bin", dir);
  ms_file_writer *w;
  CHECK_OK(ms_fs_create_writer(NULL, path, &w, &err), &err);
  ms_file_info info;
  CHECK(ms_fs_stat(NULL, path, &info, &err) == MS_ERR_NOT_FOUND); /* not visible before commit */
  char big[3 << 20];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7);
  CHECK_OK(ms_writer_write(w, "hello", 5, &err), &err);
  CHECK_OK(ms_writer_write(w, big, sizeof big, &err), &err);
  CHECK_OK(ms_writer_commit(w, &err), &err);
  uint8_t *data;
  int64_t len;
  CHECK_OK(ms_fs_read_all(NULL, path, &data, &len, &err), &err);
  CHECK_EQ_INT(len, 5 + sizeof big);
  CHECK(memcmp(data, "hello", 5) == 0 && memcmp(data + 5, big, sizeof big) == 0);
  ms_free(data);
  ms_file *f;
  CHECK_OK(ms_fs_open(NULL, path, &f, &err), &err);
  const uint8_t *m = ms_file_map(f, 5, 10);
  CHECK(m && memcmp(m, big, 10) == 0);
  char tail[4];
  CHECK(ms_file_read_at(f, len - 2, 4, tail, &err) == MS_ERR_CORRUPT);
  ms_file_close(f);
  /* an aborted writer leaves nothing behind */
  char path2[1400];
  snprintf(path2, sizeof path2, "%s/aborted.bin", dir);
  CHECK_OK(ms_fs_create_writer(NULL, path2, &w, &err), &err);
  CHECK_OK(ms_writer_write(w, "x", 1, &err), &err);
  ms_writer_abort(w);
  ms_file_info *infos;
  int64_t n;
  CHECK_OK(ms_fs_list(NULL, dir, &infos, &n, &err), &err);
  CHECK_EQ_INT(n, 1);
  CHECK(strstr(infos[0].path, "out.bin") != NULL);
  ms_file_infos_free(infos, n);
  CHECK(ms_fs_open(NULL, "/nonexistent/x", &f, &err) == MS_ERR_NOT_FOUND);
  CHECK_STR(err.file, "/nonexistent/x");
}

MS_TEST_MAIN(MS_TEST(test_error_format), MS_TEST(test_alloc_accounting), MS_TEST(test_pool),
             MS_TEST(test_fs_atomic_write))
