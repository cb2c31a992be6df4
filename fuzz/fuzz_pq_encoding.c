/* libFuzzer target for the Parquet encodings and the block codecs (pq_encoding.h,
 * compress.h): the decoders that sit under every page the Parquet reader decodes.
 *
 * Input layout: byte 0 picks the decoder, byte 1 a parameter (bit width, codec, value
 * width), the rest is the encoded data. Besides "no crash, no out-of-bounds read" the
 * target checks round trips: whatever a decoder accepts is re-encoded with our encoder and
 * decoded again, and must come back identical (a failing check aborts, which libFuzzer
 * reports as a crash).
 *
 * The entry point is named by MS_FUZZ_ENTRY so tests/fuzz/test_fuzz_replay.c can compile
 * this same file into the normal test build and replay the corpus. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/column.h"
#include "formats/compress.h"
#include "formats/parquet/pq_encoding.h"
#include "morsel/alloc.h"

#ifndef MS_FUZZ_ENTRY
#define MS_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

/* Keeps each input's work small so the fuzzer explores instead of filling memory. */
#define FUZZ_MAX_VALUES (1 << 14)

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) abort(); \
  } while (0)

static void fuzz_rle(const uint8_t *data, int64_t len, int w) {
  uint32_t *vals = ms_malloc(FUZZ_MAX_VALUES * sizeof *vals);
  uint32_t *back = ms_malloc(FUZZ_MAX_VALUES * sizeof *back);
  ms_pq_rle_decoder d;
  ms_pq_rle_init(&d, data, len, w);
  int64_t n = 0, k;
  /* Odd read sizes exercise groups split across calls. */
  for (int step = 1; n < FUZZ_MAX_VALUES; step = step * 3 % 61 + 1) {
    int64_t want = step < FUZZ_MAX_VALUES - n ? step : FUZZ_MAX_VALUES - n;
    k = ms_pq_rle_get(&d, vals + n, want);
    FUZZ_CHECK(k >= 0 && k <= want);
    n += k;
    if (k < want) break;
  }
  for (int64_t i = 0; i < n; i++) FUZZ_CHECK(w == 32 || vals[i] < (1u << w));
  ms_buffer *buf = ms_buffer_create(0);
  FUZZ_CHECK(ms_pq_rle_encode(vals, n, w, buf) == MS_OK);
  ms_pq_rle_init(&d, buf->data, buf->size, w);
  FUZZ_CHECK(ms_pq_rle_get(&d, back, n) == n && !d.error);
  FUZZ_CHECK(n == 0 || memcmp(vals, back, (size_t)n * sizeof *vals) == 0);
  ms_buffer_release(buf);
  ms_free(vals);
  ms_free(back);
}

static void fuzz_unpack(const uint8_t *data, int64_t len, int w) {
  int64_t n = w ? len * 8 / w : len;
  if (n > FUZZ_MAX_VALUES) n = FUZZ_MAX_VALUES;
  uint32_t *vals = ms_malloc((size_t)(n + 1) * sizeof *vals);
  FUZZ_CHECK(ms_pq_unpack(data, len, w, vals, n));
  for (int64_t i = 0; i < n; i++) FUZZ_CHECK(w == 32 || vals[i] < (1u << w));
  ms_free(vals);
}

static void fuzz_delta(const uint8_t *data, int64_t len, int width) {
  int64_t count, consumed;
  if (ms_pq_delta_count(data, len, &count, NULL) != MS_OK) return;
  if (count > FUZZ_MAX_VALUES) count = FUZZ_MAX_VALUES;
  void *vals = ms_malloc((size_t)(count + 1) * 8), *back = ms_malloc((size_t)(count + 1) * 8);
  if (ms_pq_delta_decode(data, len, width, vals, count, &consumed, NULL) == MS_OK) {
    FUZZ_CHECK(consumed > 0 && consumed <= len);
    ms_buffer *buf = ms_buffer_create(0);
    FUZZ_CHECK(ms_pq_delta_encode(vals, width, count, buf) == MS_OK);
    FUZZ_CHECK(ms_pq_delta_decode(buf->data, buf->size, width, back, count, &consumed, NULL) ==
               MS_OK);
    FUZZ_CHECK(consumed == buf->size);
    FUZZ_CHECK(count == 0 || memcmp(vals, back, (size_t)(count * width)) == 0);
    ms_buffer_release(buf);
  }
  ms_free(vals);
  ms_free(back);
}

static void fuzz_byte_arrays(const uint8_t *data, int64_t len, bool prefixed) {
  int64_t count, consumed;
  if (ms_pq_delta_count(data, len, &count, NULL) != MS_OK) return;
  if (count > FUZZ_MAX_VALUES) count = FUZZ_MAX_VALUES;
  int64_t *offs = ms_malloc((size_t)(count + 1) * sizeof *offs);
  ms_buffer *out = ms_buffer_create(0);
  ms_status st = prefixed
                     ? ms_pq_delta_byte_array_decode(data, len, count, offs, out, NULL)
                     : ms_pq_delta_length_decode(data, len, count, offs, out, &consumed, NULL);
  if (st == MS_OK) {
    FUZZ_CHECK(offs[0] == 0 && offs[count] == out->size);
    for (int64_t i = 0; i < count; i++) FUZZ_CHECK(offs[i] <= offs[i + 1]);
    if (!prefixed) {
      FUZZ_CHECK(consumed <= len);
      ms_buffer *enc = ms_buffer_create(0), *again = ms_buffer_create(0);
      int64_t *offs2 = ms_malloc((size_t)(count + 1) * sizeof *offs2);
      FUZZ_CHECK(ms_pq_delta_length_encode(out->data, offs, count, enc) == MS_OK);
      FUZZ_CHECK(ms_pq_delta_length_decode(enc->data, enc->size, count, offs2, again,
                                           &consumed, NULL) == MS_OK);
      FUZZ_CHECK(memcmp(offs, offs2, (size_t)(count + 1) * sizeof *offs) == 0);
      FUZZ_CHECK(again->size == out->size &&
                 (out->size == 0 || memcmp(again->data, out->data, (size_t)out->size) == 0));
      ms_free(offs2);
      ms_buffer_release(enc);
      ms_buffer_release(again);
    }
  }
  ms_buffer_release(out);
  ms_free(offs);
}

static void fuzz_bss(const uint8_t *data, int64_t len, int width) {
  int64_t n = len / width;
  uint8_t *vals = ms_malloc((size_t)(n * width + 1)), *back = ms_malloc((size_t)(n * width + 1));
  FUZZ_CHECK(ms_pq_bss_decode(data, len, width, n, vals, NULL) == MS_OK);
  ms_pq_bss_encode(vals, width, n, back);
  FUZZ_CHECK(n == 0 || memcmp(back, data, (size_t)(n * width)) == 0);
  ms_free(vals);
  ms_free(back);
}

static void fuzz_decompress(const uint8_t *data, int64_t len, int codec) {
  if (len < 2) return;
  int64_t dst_len = (int64_t)data[0] << 8 | data[1];
  dst_len *= 2; /* up to 128 KiB */
  uint8_t *dst = ms_malloc((size_t)dst_len + 1);
  ms_status st = ms_decompress((ms_codec)codec, data + 2, len - 2, dst, dst_len, NULL);
  FUZZ_CHECK(st == MS_OK || st == MS_ERR_CORRUPT || st == MS_ERR_UNSUPPORTED);
  if (st == MS_OK && codec != MS_CODEC_LZO) {
    int64_t cap = ms_compress_bound((ms_codec)codec, dst_len), clen;
    uint8_t *comp = ms_malloc((size_t)cap + 1), *back = ms_malloc((size_t)dst_len + 1);
    FUZZ_CHECK(ms_compress((ms_codec)codec, 0, dst, dst_len, comp, cap, &clen, NULL) == MS_OK);
    FUZZ_CHECK(ms_decompress((ms_codec)codec, comp, clen, back, dst_len, NULL) == MS_OK);
    FUZZ_CHECK(dst_len == 0 || memcmp(dst, back, (size_t)dst_len) == 0);
    ms_free(comp);
    ms_free(back);
  }
  ms_free(dst);
}

int MS_FUZZ_ENTRY(const uint8_t *data, size_t size);
int MS_FUZZ_ENTRY(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  int op = data[0] % 9, param = data[1];
  /* Copy to an exact-size heap block so ASan sees any read past the end. */
  int64_t len = (int64_t)size - 2;
  uint8_t *in = ms_malloc((size_t)len);
  if (len) memcpy(in, data + 2, (size_t)len);
  switch (op) {
    case 0: fuzz_rle(in, len, param % 33); break;
    case 1: fuzz_unpack(in, len, param % 33); break;
    case 2: fuzz_delta(in, len, 4); break;
    case 3: fuzz_delta(in, len, 8); break;
    case 4: fuzz_byte_arrays(in, len, false); break;
    case 5: fuzz_byte_arrays(in, len, true); break;
    case 6: fuzz_bss(in, len, param % 16 + 1); break;
    default: fuzz_decompress(in, len, param % 8); break;
  }
  ms_free(in);
  return 0;
}
