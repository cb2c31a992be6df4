/* Tests of the block codecs: round trips on data of several shapes and sizes for every
 * codec, exact-size enforcement without overruns (canary bytes after the output), the
 * three LZ4 shapes, gzip versus zlib framing, known byte vectors, truncated and random
 * input that must fail cleanly, and use from several threads at once. */
#include <lz4.h>
#include <lz4frame.h>
#include <stddef.h>
#include <zlib.h>

#include "formats/compress.h"
#include "morsel/alloc.h"
#include "morsel/status.h"
#include "morsel/threadpool.h"
#include "ms_test.h"

static const ms_codec all_codecs[] = {MS_CODEC_UNCOMPRESSED, MS_CODEC_SNAPPY, MS_CODEC_GZIP,
                                      MS_CODEC_BROTLI,       MS_CODEC_LZ4,    MS_CODEC_ZSTD,
                                      MS_CODEC_LZ4_RAW};
#define N_CODECS ((int)(sizeof all_codecs / sizeof all_codecs[0]))

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* shape 0: random bytes; 1: text-like with repeats; 2: long runs; 3: all zero. */
static void fill(uint8_t *p, int64_t n, int shape) {
  static const char *words[] = {"feature", "store", "morsel", "parquet", " ", "2026-11-23", "42"};
  int64_t i = 0;
  while (i < n) {
    if (shape == 0) {
      p[i++] = (uint8_t)rnd();
    } else if (shape == 1) {
      const char *w = words[rnd() % 7];
      for (; *w && i < n; w++) p[i++] = (uint8_t)*w;
    } else if (shape == 2) {
      uint8_t b = (uint8_t)rnd();
      int64_t r = (int64_t)(rnd() % 300);
      for (int64_t k = 0; k < r && i < n; k++) p[i++] = b;
    } else {
      p[i++] = 0;
    }
  }
}

static void test_names(void) {
  ms_codec c;
  for (int i = 0; i <= MS_CODEC_LZ4_RAW; i++) {
    CHECK(ms_codec_parse(ms_codec_name((ms_codec)i), &c));
    CHECK_EQ_INT(c, i);
  }
  CHECK_STR(ms_codec_name(MS_CODEC_LZ4_RAW), "lz4_raw");
  CHECK_STR(ms_codec_name(MS_CODEC_UNCOMPRESSED), "uncompressed");
  CHECK(ms_codec_parse("ZSTD", &c) && c == MS_CODEC_ZSTD);
  CHECK(ms_codec_parse("None", &c) && c == MS_CODEC_UNCOMPRESSED);
  CHECK(ms_codec_parse("Snappy", &c) && c == MS_CODEC_SNAPPY);
  CHECK(!ms_codec_parse("zip", &c));
  CHECK(!ms_codec_parse("", &c));
  CHECK(!ms_codec_parse(NULL, &c));
}

/* Compresses, then checks exact decompression and that wrong sizes fail without writing
 * past the declared end. */
static int round_trip(ms_codec codec, const uint8_t *src, int64_t n, int level) {
  ms_error err;
  ms_error_init(&err);
  int64_t cap = ms_compress_bound(codec, n);
  uint8_t *comp = ms_malloc((size_t)cap + 1);
  uint8_t *back = ms_malloc((size_t)n + 64);
  int ok = 0;
  int64_t clen;
  if (ms_compress(codec, level, src, n, comp, cap, &clen, &err) != MS_OK) goto out;
  if (clen < 0 || clen > cap) goto out;
  memset(back, 0xA5, (size_t)n + 64);
  if (ms_decompress(codec, comp, clen, back, n, &err) != MS_OK) {
    fprintf(stderr, "%s: %s\n", ms_codec_name(codec), err.message);
    goto out;
  }
  if (n && memcmp(back, src, (size_t)n) != 0) goto out;
  for (int k = 0; k < 64; k++)
    if (back[n + k] != 0xA5) goto out;
  /* One byte too many expected: must fail, and must not write beyond n + 1. */
  memset(back, 0xA5, (size_t)n + 64);
  if (ms_decompress(codec, comp, clen, back, n + 1, &err) != MS_ERR_CORRUPT) goto out;
  for (int k = 1; k < 64; k++)
    if (back[n + k] != 0xA5) goto out;
  /* One byte too few expected: must fail without touching back[n - 1 ..]. */
  if (n > 0) {
    memset(back, 0xA5, (size_t)n + 64);
    if (ms_decompress(codec, comp, clen, back, n - 1, &err) != MS_ERR_CORRUPT) goto out;
    for (int k = 0; k < 64; k++)
      if (back[n - 1 + k] != 0xA5) goto out;
  }
  ok = 1;
out:
  ms_free(comp);
  ms_free(back);
  return ok;
}

static void test_round_trips(void) {
  static const int64_t sizes[] = {0, 1, 7, 100, 4096, 65537, 1 << 20};
  uint8_t *src = ms_malloc(1 << 20);
  CHECK(src);
  for (int c = 0; c < N_CODECS; c++)
    for (int s = 0; s < (int)(sizeof sizes / sizeof sizes[0]); s++)
      for (int shape = 0; shape < 4; shape++) {
        fill(src, sizes[s], shape);
        int ok = round_trip(all_codecs[c], src, sizes[s], 0);
        if (!ok) ms_free(src);
        CHECK_MSG(ok, "%s size %lld shape %d", ms_codec_name(all_codecs[c]),
                  (long long)sizes[s], shape);
      }
  /* Non-default levels. */
  fill(src, 100000, 1);
  CHECK(round_trip(MS_CODEC_ZSTD, src, 100000, 9));
  CHECK(round_trip(MS_CODEC_ZSTD, src, 100000, -3));
  CHECK(round_trip(MS_CODEC_GZIP, src, 100000, 1));
  CHECK(round_trip(MS_CODEC_GZIP, src, 100000, 9));
  CHECK(round_trip(MS_CODEC_GZIP, src, 100000, 1)); /* level changes re-create the stream */
  CHECK(round_trip(MS_CODEC_BROTLI, src, 100000, 5));
  ms_free(src);
}

static void test_compressible_shrinks(void) {
  uint8_t src[10000], dst[20000];
  fill(src, sizeof src, 3);
  ms_error err;
  for (int c = 1; c < N_CODECS; c++) {
    int64_t n;
    CHECK_OK(ms_compress(all_codecs[c], 0, src, sizeof src, dst, sizeof dst, &n, &err), &err);
    CHECK_MSG(n < 600, "%s: %lld", ms_codec_name(all_codecs[c]), (long long)n);
  }
}

static void test_known_vectors(void) {
  ms_error err;
  uint8_t out[16];
  /* Snappy: varint length 1, literal tag of length 1, 'a'. */
  const uint8_t snappy_a[] = {0x01, 0x00, 'a'};
  CHECK_OK(ms_decompress(MS_CODEC_SNAPPY, snappy_a, 3, out, 1, &err), &err);
  CHECK(out[0] == 'a');
  /* Gzip output carries the gzip magic, not a zlib header. */
  const uint8_t hello[] = "hello hello hello";
  uint8_t comp[128];
  int64_t n;
  CHECK_OK(ms_compress(MS_CODEC_GZIP, 0, hello, 17, comp, sizeof comp, &n, &err), &err);
  CHECK(comp[0] == 0x1f && comp[1] == 0x8b);
  /* Hadoop LZ4: big-endian 17 then the compressed length. */
  CHECK_OK(ms_compress(MS_CODEC_LZ4, 0, hello, 17, comp, sizeof comp, &n, &err), &err);
  CHECK(comp[0] == 0 && comp[1] == 0 && comp[2] == 0 && comp[3] == 17);
  CHECK_EQ_INT(((int64_t)comp[6] << 8 | comp[7]) + 8, n);
  /* zstd: frame magic. */
  CHECK_OK(ms_compress(MS_CODEC_ZSTD, 0, hello, 17, comp, sizeof comp, &n, &err), &err);
  CHECK(comp[0] == 0x28 && comp[1] == 0xB5 && comp[2] == 0x2F && comp[3] == 0xFD);
}

static void test_gzip_accepts_zlib_and_members(void) {
  uint8_t src[5000], comp[12000], back[5000];
  fill(src, sizeof src, 1);
  uLongf clen = sizeof comp;
  CHECK(compress2(comp, &clen, src, sizeof src, 6) == Z_OK); /* zlib framing */
  ms_error err;
  CHECK_OK(ms_decompress(MS_CODEC_GZIP, comp, (int64_t)clen, back, sizeof back, &err), &err);
  CHECK(memcmp(back, src, sizeof src) == 0);
  /* Two gzip members back to back decode as their concatenation. */
  int64_t n1, n2;
  CHECK_OK(ms_compress(MS_CODEC_GZIP, 0, src, 2000, comp, sizeof comp, &n1, &err), &err);
  CHECK_OK(ms_compress(MS_CODEC_GZIP, 0, src + 2000, 3000, comp + n1, (int64_t)sizeof comp - n1,
                       &n2, &err), &err);
  memset(back, 0, sizeof back);
  CHECK_OK(ms_decompress(MS_CODEC_GZIP, comp, n1 + n2, back, sizeof back, &err), &err);
  CHECK(memcmp(back, src, sizeof src) == 0);
}

static void test_lz4_forms(void) {
  uint8_t src[300000], back[300000];
  fill(src, sizeof src, 1);
  int64_t cap = LZ4_compressBound(sizeof src) + 64;
  uint8_t *comp = ms_malloc((size_t)cap * 2);
  ms_error err;
  /* 1. Raw block under the LZ4 codec id. */
  int n = LZ4_compress_default((const char *)src, (char *)comp, sizeof src, (int)cap);
  CHECK(n > 0);
  CHECK_OK(ms_decompress(MS_CODEC_LZ4, comp, n, back, sizeof back, &err), &err);
  CHECK(memcmp(back, src, sizeof src) == 0);
  /* 2. The LZ4 frame format. */
  size_t fn = LZ4F_compressFrame(comp, (size_t)cap * 2, src, sizeof src, NULL);
  CHECK(!LZ4F_isError(fn));
  memset(back, 0, sizeof back);
  CHECK_OK(ms_decompress(MS_CODEC_LZ4, comp, (int64_t)fn, back, sizeof back, &err), &err);
  CHECK(memcmp(back, src, sizeof src) == 0);
  CHECK_EQ_INT(ms_decompress(MS_CODEC_LZ4, comp, (int64_t)fn, back, sizeof back - 1, &err),
               MS_ERR_CORRUPT);
  CHECK_EQ_INT(ms_decompress(MS_CODEC_LZ4, comp, (int64_t)fn - 3, back, sizeof back, &err),
               MS_ERR_CORRUPT);
  /* 3. Hadoop framing with several frames (as Hadoop's block compressor writes). */
  int64_t pos = 0;
  for (int64_t in = 0; in < (int64_t)sizeof src; in += 100000) {
    int k = LZ4_compress_default((const char *)src + in, (char *)comp + pos + 8, 100000,
                                 (int)cap);
    CHECK(k > 0);
    uint8_t *h = comp + pos;
    h[0] = 0; h[1] = (uint8_t)(100000 >> 16); h[2] = (uint8_t)(100000 >> 8); h[3] = (uint8_t)100000;
    h[4] = (uint8_t)(k >> 24); h[5] = (uint8_t)(k >> 16); h[6] = (uint8_t)(k >> 8); h[7] = (uint8_t)k;
    pos += 8 + k;
  }
  memset(back, 0, sizeof back);
  CHECK_OK(ms_decompress(MS_CODEC_LZ4, comp, pos, back, sizeof back, &err), &err);
  CHECK(memcmp(back, src, sizeof src) == 0);
  CHECK_EQ_INT(ms_decompress(MS_CODEC_LZ4, comp, pos - 1, back, sizeof back, &err),
               MS_ERR_CORRUPT);
  /* LZ4_RAW does not accept the Hadoop form. */
  CHECK_EQ_INT(ms_decompress(MS_CODEC_LZ4_RAW, comp, pos, back, sizeof back, &err),
               MS_ERR_CORRUPT);
  ms_free(comp);
}

static void test_corrupt_inputs(void) {
  uint8_t src[20000], back[20000];
  fill(src, sizeof src, 1);
  uint8_t *comp = ms_malloc(40000);
  ms_error err;
  for (int c = 1; c < N_CODECS; c++) {
    ms_codec codec = all_codecs[c];
    int64_t n;
    CHECK_OK(ms_compress(codec, 0, src, sizeof src, comp, 40000, &n, &err), &err);
    /* Every truncation fails (or, for codecs that can't tell, at least yields the wrong
     * size and so fails too). */
    for (int64_t cut = 0; cut < n; cut += (n / 37) + 1) {
      ms_status st = ms_decompress(codec, comp, cut, back, sizeof back, &err);
      CHECK_MSG(st == MS_ERR_CORRUPT, "%s cut at %lld of %lld: %d", ms_codec_name(codec),
                (long long)cut, (long long)n, st);
    }
    /* Bit flips: any status is fine as long as it does not crash; a success must be
     * exactly the right size (it is, by contract). */
    for (int t = 0; t < 200; t++) {
      int64_t at = (int64_t)(rnd() % (uint64_t)n);
      uint8_t saved = comp[at];
      comp[at] ^= (uint8_t)(1u << (rnd() % 8));
      ms_status st = ms_decompress(codec, comp, n, back, sizeof back, &err);
      CHECK(st == MS_OK || st == MS_ERR_CORRUPT);
      comp[at] = saved;
    }
  }
  /* Pure garbage. */
  for (int t = 0; t < 300; t++) {
    uint8_t junk[256];
    int64_t len = (int64_t)(rnd() % sizeof junk);
    fill(junk, len, 0);
    for (int c = 1; c < N_CODECS; c++) {
      ms_status st = ms_decompress(all_codecs[c], junk, len, back, (int64_t)(rnd() % 5000), &err);
      CHECK(st == MS_OK || st == MS_ERR_CORRUPT);
    }
  }
  /* Sizes that cannot match. */
  CHECK_EQ_INT(ms_decompress(MS_CODEC_UNCOMPRESSED, src, 10, back, 11, &err), MS_ERR_CORRUPT);
  CHECK_EQ_INT(ms_decompress(MS_CODEC_ZSTD, src, 10, back, -1, &err), MS_ERR_INVALID);
  ms_free(comp);
}

static void test_lzo_unsupported(void) {
  ms_error err;
  ms_error_init(&err);
  uint8_t b[4] = {0}, o[4];
  CHECK_EQ_INT(ms_decompress(MS_CODEC_LZO, b, 4, o, 4, &err), MS_ERR_UNSUPPORTED);
  CHECK(strstr(err.message, "LZO") != NULL);
  int64_t n;
  CHECK_EQ_INT(ms_compress(MS_CODEC_LZO, 0, b, 4, o, 4, &n, &err), MS_ERR_UNSUPPORTED);
  CHECK_EQ_INT(ms_decompress((ms_codec)42, b, 4, o, 4, &err), MS_ERR_UNSUPPORTED);
}

static void test_small_dst_cap_rejected(void) {
  uint8_t src[1000], dst[10];
  fill(src, sizeof src, 0);
  int64_t n;
  ms_error err;
  for (int c = 0; c < N_CODECS; c++)
    CHECK_EQ_INT(ms_compress(all_codecs[c], 0, src, sizeof src, dst, sizeof dst, &n, &err),
                 MS_ERR_INVALID);
}

/* Many tasks on several threads each round-trip with every codec: exercises the
 * per-thread contexts and their reuse. */
typedef struct mt_ctx {
  const uint8_t *src;
} mt_ctx;

static ms_status mt_task(void *vctx, int64_t task, int worker, ms_error *err) {
  mt_ctx *c = vctx;
  ms_codec codec = all_codecs[task % N_CODECS];
  int64_t n = 1000 + (task * 7919) % 50000;
  const uint8_t *src = c->src + task % 1000;
  int64_t cap = ms_compress_bound(codec, n);
  uint8_t *comp = ms_malloc((size_t)cap), *back = ms_malloc((size_t)n);
  int64_t clen;
  ms_status st = ms_compress(codec, 0, src, n, comp, cap, &clen, err);
  if (!st) st = ms_decompress(codec, comp, clen, back, n, err);
  if (!st && memcmp(back, src, (size_t)n) != 0)
    st = ms_error_set(err, MS_ERR_INTERNAL, "mismatch in task %lld", (long long)task);
  ms_free(comp);
  ms_free(back);
  return st;
}

static void test_threads(void) {
  uint8_t *src = ms_malloc(60000);
  fill(src, 60000, 1);
  ms_pool *pool;
  ms_error err;
  CHECK_OK(ms_pool_create(4, &pool, &err), &err);
  mt_ctx c = {src};
  ms_status st = ms_pool_run(pool, 400, mt_task, &c, &err);
  ms_pool_destroy(pool);
  ms_free(src);
  CHECK_OK(st, &err);
}

MS_TEST_MAIN(MS_TEST(test_names), MS_TEST(test_round_trips), MS_TEST(test_compressible_shrinks),
             MS_TEST(test_known_vectors), MS_TEST(test_gzip_accepts_zlib_and_members),
             MS_TEST(test_lz4_forms), MS_TEST(test_corrupt_inputs),
             MS_TEST(test_lzo_unsupported), MS_TEST(test_small_dst_cap_rejected),
             MS_TEST(test_threads))
