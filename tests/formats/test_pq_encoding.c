/* Tests of the Parquet encodings: the byte vectors given in parquet-format's Encodings.md,
 * round trips on randomized data for every encoder/decoder pair (all bit widths, odd read
 * sizes, extreme integers that wrap), hand-built streams that exercise paths our encoder
 * never emits (partial groups, several miniblock widths, n < total), and truncated,
 * lying or random inputs that must fail cleanly. */
#include <stddef.h>

#include "columnar/column.h"
#include "formats/parquet/pq_encoding.h"
#include "morsel/alloc.h"
#include "ms_test.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_uvarint_and_bit_width(void) {
  uint64_t v;
  const uint8_t a[] = {0xAC, 0x02};
  CHECK_EQ_INT(ms_pq_read_uvarint(a, a + 2, &v), 2);
  CHECK_EQ_INT(v, 300);
  CHECK_EQ_INT(ms_pq_read_uvarint(a, a + 1, &v), 0); /* truncated */
  CHECK_EQ_INT(ms_pq_read_uvarint(a, a, &v), 0);
  const uint8_t max[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
  CHECK_EQ_INT(ms_pq_read_uvarint(max, max + 10, &v), 10);
  CHECK(v == UINT64_MAX);
  const uint8_t over[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02};
  CHECK_EQ_INT(ms_pq_read_uvarint(over, over + 10, &v), 0);
  const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  CHECK_EQ_INT(ms_pq_read_uvarint(eleven, eleven + 11, &v), 0);
  CHECK_EQ_INT(ms_pq_bit_width(0), 0);
  CHECK_EQ_INT(ms_pq_bit_width(1), 1);
  CHECK_EQ_INT(ms_pq_bit_width(7), 3);
  CHECK_EQ_INT(ms_pq_bit_width(8), 4);
  CHECK_EQ_INT(ms_pq_bit_width(UINT32_MAX), 32);
  CHECK_EQ_INT(ms_pq_bit_width(UINT64_MAX), 64);
}

/* Encodings.md: 0..7 at bit width 3 pack to 10001000 11000110 11111010. */
static void test_unpack_spec_example(void) {
  const uint8_t in[] = {0x88, 0xC6, 0xFA};
  uint32_t out[8];
  CHECK(ms_pq_unpack(in, 3, 3, out, 8));
  for (int i = 0; i < 8; i++) CHECK_EQ_INT(out[i], i);
  CHECK(ms_pq_unpack(in, 3, 3, out, 5)); /* partial group */
  for (int i = 0; i < 5; i++) CHECK_EQ_INT(out[i], i);
  CHECK(!ms_pq_unpack(in, 2, 3, out, 8)); /* too short */
  CHECK(!ms_pq_unpack(in, 3, 33, out, 1));
}

/* Independent reference: bit-by-bit LSB-first packing. */
static void ref_pack(const uint32_t *v, int64_t n, int w, uint8_t *out) {
  memset(out, 0, (size_t)((n * w + 7) / 8));
  for (int64_t i = 0; i < n; i++)
    for (int b = 0; b < w; b++)
      if ((v[i] >> b) & 1) out[(i * w + b) / 8] |= (uint8_t)(1u << ((i * w + b) % 8));
}

static void test_unpack_all_widths(void) {
  enum { N = 203 };
  uint32_t v[N], out[N];
  uint8_t packed[N * 4 + 8];
  for (int w = 0; w <= 32; w++) {
    uint64_t mask = w == 32 ? 0xffffffffu : ((1ull << w) - 1);
    for (int i = 0; i < N; i++) v[i] = (uint32_t)(rnd() & mask);
    ref_pack(v, N, w, packed);
    for (int64_t n = 0; n <= N; n += (n < 20 ? 1 : 37)) {
      memset(out, 0xEE, sizeof out);
      CHECK(ms_pq_unpack(packed, (n * w + 7) / 8, w, out, n));
      for (int64_t i = 0; i < n; i++) CHECK_MSG(out[i] == v[i], "w=%d n=%lld i=%lld", w, (long long)n, (long long)i);
      if (n < N) CHECK(out[n] == 0xEEEEEEEEu); /* nothing written past n */
    }
  }
}

static void test_rle_decode_vector(void) {
  /* RLE run of 5 x 3 (header 5<<1, one value byte), then one bit-packed group (header
   * 1<<1|1) holding the spec's 0..7 at width 3. */
  const uint8_t in[] = {0x0A, 0x03, 0x03, 0x88, 0xC6, 0xFA};
  uint32_t out[20];
  ms_pq_rle_decoder d;
  ms_pq_rle_init(&d, in, sizeof in, 3);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 20), 13);
  CHECK(!d.error);
  for (int i = 0; i < 5; i++) CHECK_EQ_INT(out[i], 3);
  for (int i = 0; i < 8; i++) CHECK_EQ_INT(out[5 + i], i);
  /* The same, one value at a time. */
  ms_pq_rle_init(&d, in, sizeof in, 3);
  for (int i = 0; i < 13; i++) CHECK_EQ_INT(ms_pq_rle_get(&d, out + i, 1), 1);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 1), 0);
  CHECK(!d.error);
  for (int i = 0; i < 8; i++) CHECK_EQ_INT(out[5 + i], i);
  /* Bit width 0: a run needs no value bytes. */
  const uint8_t zero[] = {0x08};
  ms_pq_rle_init(&d, zero, 1, 0);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 10), 4);
  for (int i = 0; i < 4; i++) CHECK_EQ_INT(out[i], 0);
  /* A wide RLE value: 2 bytes little endian at width 10. */
  const uint8_t wide[] = {0x04, 0xE8, 0x03};
  ms_pq_rle_init(&d, wide, 3, 10);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 10), 2);
  CHECK_EQ_INT(out[0], 1000);
  CHECK_EQ_INT(out[1], 1000);
}

static void test_rle_corrupt(void) {
  uint32_t out[64];
  ms_pq_rle_decoder d;
  const uint8_t trunc_varint[] = {0x80};
  ms_pq_rle_init(&d, trunc_varint, 1, 3);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 4), 0);
  CHECK(d.error);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 4), 0); /* sticky */
  const uint8_t trunc_value[] = {0x04}; /* RLE header but no value byte */
  ms_pq_rle_init(&d, trunc_value, 1, 3);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 4), 0);
  CHECK(d.error);
  const uint8_t too_wide[] = {0x04, 0x09}; /* 9 does not fit 3 bits */
  ms_pq_rle_init(&d, too_wide, 2, 3);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 4), 0);
  CHECK(d.error);
  /* A bit-packed run claiming 2^30 groups with 3 bytes: only what is there is returned. */
  const uint8_t liar[] = {0x81, 0x80, 0x80, 0x80, 0x08, 0x88, 0xC6, 0xFA};
  ms_pq_rle_init(&d, liar, sizeof liar, 3);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 64), 0);
  CHECK(d.error);
  const uint8_t big_ok[] = {0x81, 0x80, 0x01, 0x88, 0xC6, 0xFA}; /* 8192 groups, 1 present */
  ms_pq_rle_init(&d, big_ok, sizeof big_ok, 3);
  CHECK_EQ_INT(ms_pq_rle_get(&d, out, 64), 8);
  for (int i = 0; i < 8; i++) CHECK_EQ_INT(out[i], i);
  ms_pq_rle_init(&d, big_ok, sizeof big_ok, 40);
  CHECK(d.error);
  /* Random garbage at every width never reads out of bounds (ASan watches). */
  for (int t = 0; t < 3000; t++) {
    uint8_t junk[40];
    int len = (int)(rnd() % sizeof junk);
    for (int i = 0; i < len; i++) junk[i] = (uint8_t)rnd();
    uint8_t *heap = ms_malloc((size_t)len);
    memcpy(heap, junk, (size_t)len);
    int w = (int)(rnd() % 33);
    ms_pq_rle_init(&d, heap, len, w);
    int64_t got = 0, k;
    while ((k = ms_pq_rle_get(&d, out, 1 + (int64_t)(rnd() % 64))) > 0) {
      for (int64_t i = 0; i < k; i++) CHECK(w == 32 || out[i] < (1u << w));
      got += k;
      if (got > 100000) break;
    }
    ms_free(heap);
  }
}

static void rle_round_trip(int w, int64_t n, int pattern) {
  uint32_t *v = ms_malloc((size_t)(n + 1) * 4), *back = ms_malloc((size_t)(n + 1) * 4);
  uint64_t mask = w == 32 ? 0xffffffffu : ((1ull << w) - 1);
  for (int64_t i = 0; i < n;) {
    uint32_t x = (uint32_t)(rnd() & mask);
    int64_t r = pattern == 0 ? 1 : pattern == 1 ? 1 + (int64_t)(rnd() % 20) : 1 + (int64_t)(rnd() % 3000);
    for (int64_t k = 0; k < r && i < n; k++) v[i++] = x;
  }
  ms_buffer *buf = ms_buffer_create(0);
  ms_status st = ms_pq_rle_encode(v, n, w, buf);
  int ok = st == MS_OK;
  if (ok) {
    ms_pq_rle_decoder d;
    ms_pq_rle_init(&d, buf->data, buf->size, w);
    int64_t got = 0;
    while (got < n) {
      int64_t want = 1 + (int64_t)(rnd() % 50);
      if (want > n - got) want = n - got;
      int64_t k = ms_pq_rle_get(&d, back + got, want);
      if (k != want) break;
      got += k;
    }
    ok = got == n && !d.error && (n == 0 || memcmp(v, back, (size_t)n * 4) == 0);
  }
  ms_buffer_release(buf);
  ms_free(v);
  ms_free(back);
  CHECK_MSG(ok, "w=%d n=%lld pattern=%d", w, (long long)n, pattern);
}

static void test_rle_round_trips(void) {
  for (int w = 0; w <= 32; w++)
    for (int pattern = 0; pattern < 3; pattern++) {
      static const int64_t ns[] = {0, 1, 7, 8, 9, 100, 4099};
      for (int i = 0; i < 7; i++) {
        rle_round_trip(w, ns[i], pattern);
        if (ms_test_failed_flag) return;
      }
    }
  /* Encoder output is compact for long runs: 1M equal values in a few bytes. */
  uint32_t *v = ms_calloc(1000000, 4);
  ms_buffer *buf = ms_buffer_create(0);
  CHECK_OK(ms_pq_rle_encode(v, 1000000, 1, buf), NULL);
  CHECK(buf->size <= 8);
  ms_buffer_release(buf);
  ms_free(v);
}

/* DELTA_BINARY_PACKED with block 128 / 4 miniblocks (the spec's examples use block 8,
 * which it notes is invalid in practice). Example 1: 1, 2, 3, 4, 5. */
static void test_delta_spec_examples(void) {
  ms_error err;
  const uint8_t ex1[] = {0x80, 0x01, 0x04, 0x05, 0x02, /* block: */ 0x02, 0, 0, 0, 0};
  int32_t out[8];
  int64_t consumed, count;
  CHECK_OK(ms_pq_delta_count(ex1, sizeof ex1, &count, &err), &err);
  CHECK_EQ_INT(count, 5);
  CHECK_OK(ms_pq_delta_decode(ex1, sizeof ex1, 4, out, 5, &consumed, &err), &err);
  CHECK_EQ_INT(consumed, sizeof ex1);
  for (int i = 0; i < 5; i++) CHECK_EQ_INT(out[i], i + 1);
  /* Example 2: 7, 5, 3, 1, 2, 3, 4, 5: min delta -2 (zigzag 3), miniblock 0 at width 2
   * holding 0,0,0,3,3,3,3 (+ padding to 32 values = 8 bytes). */
  const uint8_t ex2[] = {0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 0x02, 0x00, 0x00, 0x00,
                         0xC0, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  const int32_t want2[] = {7, 5, 3, 1, 2, 3, 4, 5};
  CHECK_OK(ms_pq_delta_decode(ex2, sizeof ex2, 4, out, 8, &consumed, &err), &err);
  CHECK_EQ_INT(consumed, sizeof ex2);
  for (int i = 0; i < 8; i++) CHECK_EQ_INT(out[i], want2[i]);
  /* Our encoder produces exactly these bytes. */
  ms_buffer *buf = ms_buffer_create(0);
  CHECK_OK(ms_pq_delta_encode(want2, 4, 8, buf), NULL);
  CHECK_EQ_INT(buf->size, sizeof ex2);
  CHECK(memcmp(buf->data, ex2, sizeof ex2) == 0);
  ms_buffer_release(buf);
  /* Fewer values than the header holds: allowed, consumed still covers the stream. */
  int64_t out64[8];
  CHECK_OK(ms_pq_delta_decode(ex2, sizeof ex2, 8, out64, 3, &consumed, &err), &err);
  CHECK_EQ_INT(consumed, sizeof ex2);
  CHECK_EQ_INT(out64[2], 3);
  /* More values than it holds: corrupt. */
  CHECK_EQ_INT(ms_pq_delta_decode(ex2, sizeof ex2, 4, out, 9, &consumed, &err), MS_ERR_CORRUPT);
  /* The last miniblock's padding cut off (some writers stop at the last value). */
  CHECK_OK(ms_pq_delta_decode(ex2, 12, 4, out, 8, &consumed, &err), &err);
  CHECK_EQ_INT(out[7], 5);
  CHECK_EQ_INT(ms_pq_delta_decode(ex2, 11, 4, out, 8, &consumed, &err), MS_ERR_CORRUPT);
}

static void test_delta_hand_built(void) {
  /* Block 256 with 8 miniblocks of 32 (DuckDB-like) and 3 values at widths 5 and 64 in two
   * miniblocks: 40 values, deltas 0..31 then 100 + 2^40 * k. */
  ms_error err;
  uint8_t buf[1024];
  uint8_t *w = buf;
  *w++ = 0x80; *w++ = 0x02; /* block 256 */
  *w++ = 0x08;              /* 8 miniblocks */
  *w++ = 41;                /* 41 values */
  *w++ = 0x00;              /* first value 0 */
  *w++ = 0x00;              /* min delta 0 */
  const uint8_t widths[8] = {5, 64, 200, 200, 200, 200, 200, 200}; /* unused ones arbitrary */
  memcpy(w, widths, 8);
  w += 8;
  uint32_t d1[32];
  for (int i = 0; i < 32; i++) d1[i] = (uint32_t)i;
  ref_pack(d1, 32, 5, w);
  w += 20;
  /* Miniblock 2: 8 deltas of 64 bits then padding (24 * 8 bytes). */
  memset(w, 0, 256);
  for (int i = 0; i < 8; i++) {
    uint64_t d = 100 + ((uint64_t)1 << 40) * (uint64_t)i;
    memcpy(w + i * 8, &d, 8);
  }
  w += 256;
  int64_t out[41], consumed;
  CHECK_OK(ms_pq_delta_decode(buf, w - buf, 8, out, 41, &consumed, &err), &err);
  CHECK_EQ_INT(consumed, w - buf);
  int64_t x = 0;
  CHECK_EQ_INT(out[0], 0);
  for (int i = 0; i < 32; i++) {
    x += i;
    CHECK_EQ_INT(out[1 + i], x);
  }
  for (int i = 0; i < 8; i++) {
    x += 100 + ((int64_t)1 << 40) * i;
    CHECK_EQ_INT(out[33 + i], x);
  }
  /* Wide miniblocks on INT32 are accepted (writers compute INT32 deltas in 64 bits, see
   * PARQUET-2435); the values are the 64-bit ones modulo 2^32. */
  int32_t o32[41];
  CHECK_OK(ms_pq_delta_decode(buf, w - buf, 4, o32, 41, &consumed, &err), &err);
  for (int i = 0; i < 41; i++) CHECK_EQ_INT(o32[i], (int32_t)(uint32_t)(uint64_t)out[i]);
}

static void test_delta_corrupt(void) {
  ms_error err;
  int64_t out[4], c, count;
  /* Header claiming 2^40 values in a few bytes. */
  const uint8_t liar[] = {0x80, 0x01, 0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00, 0x02, 0, 0, 0, 0};
  CHECK_EQ_INT(ms_pq_delta_count(liar, sizeof liar, &count, &err), MS_ERR_CORRUPT);
  CHECK(strstr(err.message, "claims") != NULL);
  /* Block size not a multiple of 128; miniblock size not a multiple of 32. */
  const uint8_t bad_block[] = {0x40, 0x01, 0x01, 0x00};
  CHECK_EQ_INT(ms_pq_delta_count(bad_block, sizeof bad_block, &count, &err), MS_ERR_CORRUPT);
  const uint8_t bad_mb[] = {0x80, 0x01, 0x08, 0x01, 0x00};
  CHECK_EQ_INT(ms_pq_delta_count(bad_mb, sizeof bad_mb, &count, &err), MS_ERR_CORRUPT);
  const uint8_t zero_mb[] = {0x80, 0x01, 0x00, 0x01, 0x00};
  CHECK_EQ_INT(ms_pq_delta_count(zero_mb, sizeof zero_mb, &count, &err), MS_ERR_CORRUPT);
  CHECK_EQ_INT(ms_pq_delta_count(bad_mb, 2, &count, &err), MS_ERR_CORRUPT);
  CHECK_EQ_INT(ms_pq_delta_decode(NULL, 0, 8, out, 0, &c, &err), MS_ERR_CORRUPT);
  /* One value, no blocks: fine. */
  const uint8_t one[] = {0x80, 0x01, 0x04, 0x01, 0x03};
  CHECK_OK(ms_pq_delta_decode(one, sizeof one, 8, out, 1, &c, &err), &err);
  CHECK_EQ_INT(out[0], -2);
  CHECK_EQ_INT(c, 5);
  /* Random garbage after a valid-looking header. */
  for (int t = 0; t < 3000; t++) {
    uint8_t junk[64];
    int len = 5 + (int)(rnd() % 59);
    memcpy(junk, (const uint8_t[]){0x80, 0x01, 0x04}, 3);
    junk[3] = (uint8_t)(rnd() % 200);
    for (int i = 4; i < len; i++) junk[i] = (uint8_t)rnd();
    if (rnd() % 4 == 0) junk[3] |= 0x80;
    uint8_t *heap = ms_malloc((size_t)len);
    memcpy(heap, junk, (size_t)len);
    int64_t n;
    if (ms_pq_delta_count(heap, len, &n, &err) == MS_OK) {
      CHECK(n >= 0 && n < 100000);
      int64_t *o = ms_malloc((size_t)(n + 1) * 8);
      ms_status st = ms_pq_delta_decode(heap, len, (t & 1) ? 8 : 4, o, n, &c, &err);
      CHECK(st == MS_OK || st == MS_ERR_CORRUPT);
      if (st == MS_OK) CHECK(c >= 0 && c <= len);
      ms_free(o);
    }
    ms_free(heap);
  }
}

static void delta_round_trip(int width, int64_t n, int pattern) {
  void *v = ms_malloc((size_t)(n + 1) * 8), *back = ms_malloc((size_t)(n + 1) * 8);
  int64_t acc = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t x;
    switch (pattern) {
      case 0: x = (int64_t)rnd(); break;                            /* full range: wraps */
      case 1: acc += (int64_t)(rnd() % 1000); x = acc; break;       /* increasing */
      case 2: x = (i & 1) ? INT64_MAX : INT64_MIN; break;           /* extremes */
      case 3: x = 42; break;                                        /* constant */
      default: x = (int64_t)(rnd() % 2000) - 1000; break;           /* small signed */
    }
    if (width == 4) {
      if (pattern == 2) x = (i & 1) ? INT32_MAX : INT32_MIN;
      ((int32_t *)v)[i] = (int32_t)x;
    } else {
      ((int64_t *)v)[i] = x;
    }
  }
  ms_buffer *buf = ms_buffer_create(0);
  ms_error err;
  int ok = ms_pq_delta_encode(v, width, n, buf) == MS_OK;
  int64_t consumed = -1, count = -1;
  if (ok) ok = ms_pq_delta_count(buf->data, buf->size, &count, &err) == MS_OK && count == n;
  if (ok) ok = ms_pq_delta_decode(buf->data, buf->size, width, back, n, &consumed, &err) == MS_OK;
  if (ok) ok = consumed == buf->size && (n == 0 || memcmp(v, back, (size_t)(n * width)) == 0);
  /* Widths in every miniblock stay within the physical type. */
  ms_buffer_release(buf);
  ms_free(v);
  ms_free(back);
  CHECK_MSG(ok, "width %d n %lld pattern %d consumed %lld", width, (long long)n, pattern,
            (long long)consumed);
}

static void test_delta_round_trips(void) {
  static const int64_t ns[] = {0, 1, 2, 31, 32, 33, 128, 129, 130, 257, 1000, 5000};
  for (int width = 4; width <= 8; width += 4)
    for (int p = 0; p < 5; p++)
      for (int i = 0; i < (int)(sizeof ns / sizeof ns[0]); i++) {
        delta_round_trip(width, ns[i], p);
        if (ms_test_failed_flag) return;
      }
}

static void test_delta_length_byte_array(void) {
  /* Encodings.md: "Hello", "World", "Foobar", "ABCDEF" -> lengths 5,5,6,6 then the bytes. */
  const char *text = "HelloWorldFoobarABCDEF";
  const int64_t offs[] = {0, 5, 10, 16, 22};
  ms_buffer *enc = ms_buffer_create(0);
  CHECK_OK(ms_pq_delta_length_encode((const uint8_t *)text, offs, 4, enc), NULL);
  CHECK(enc->size > 22);
  CHECK(memcmp(enc->data + enc->size - 22, text, 22) == 0);
  int32_t lens[4];
  int64_t c;
  ms_error err;
  CHECK_OK(ms_pq_delta_decode(enc->data, enc->size, 4, lens, 4, &c, &err), &err);
  CHECK_EQ_INT(c, enc->size - 22);
  CHECK(lens[0] == 5 && lens[1] == 5 && lens[2] == 6 && lens[3] == 6);
  /* Decode appends after existing data; offsets are relative to the size at entry. */
  ms_buffer *data = ms_buffer_create(0);
  CHECK_OK(ms_buffer_append(data, "xyz", 3), NULL);
  int64_t out[5];
  CHECK_OK(ms_pq_delta_length_decode(enc->data, enc->size, 4, out, data, &c, &err), &err);
  CHECK_EQ_INT(c, enc->size);
  CHECK_EQ_INT(data->size, 25);
  for (int i = 0; i < 5; i++) CHECK_EQ_INT(out[i], offs[i]);
  CHECK(memcmp(data->data + 3, text, 22) == 0);
  /* Truncated data bytes: corrupt, and nothing appended. */
  CHECK_EQ_INT(ms_pq_delta_length_decode(enc->data, enc->size - 1, 4, out, data, &c, &err),
               MS_ERR_CORRUPT);
  CHECK_EQ_INT(data->size, 25);
  /* Random strings round trip, including empty ones. */
  for (int t = 0; t < 20; t++) {
    int64_t n = (int64_t)(rnd() % 300);
    int64_t *o = ms_malloc((size_t)(n + 1) * 8), *back = ms_malloc((size_t)(n + 1) * 8);
    uint8_t *bytes = ms_malloc((size_t)n * 40 + 1);
    o[0] = 0;
    for (int64_t i = 0; i < n; i++) {
      int64_t l = (rnd() % 5 == 0) ? 0 : (int64_t)(rnd() % 40);
      for (int64_t k = 0; k < l; k++) bytes[o[i] + k] = (uint8_t)rnd();
      o[i + 1] = o[i] + l;
    }
    ms_buffer *e = ms_buffer_create(0), *d = ms_buffer_create(0);
    ms_status st = ms_pq_delta_length_encode(bytes, o, n, e);
    if (!st) st = ms_pq_delta_length_decode(e->data, e->size, n, back, d, &c, &err);
    int ok = st == MS_OK && c == e->size && d->size == o[n] &&
             memcmp(back, o, (size_t)(n + 1) * 8) == 0 &&
             (o[n] == 0 || memcmp(d->data, bytes, (size_t)o[n]) == 0);
    ms_buffer_release(e);
    ms_buffer_release(d);
    ms_free(o);
    ms_free(back);
    ms_free(bytes);
    CHECK(ok);
  }
  ms_buffer_release(enc);
  ms_buffer_release(data);
}

/* Builds a DELTA_BYTE_ARRAY stream from prefix lengths and suffixes with our encoders. */
static ms_buffer *build_dba(const int32_t *prefix, const char *const *suffix, int n) {
  ms_buffer *b = ms_buffer_create(0);
  ms_pq_delta_encode(prefix, 4, n, b);
  int64_t offs[16] = {0};
  char all[256];
  for (int i = 0; i < n; i++) {
    int64_t l = (int64_t)strlen(suffix[i]);
    memcpy(all + offs[i], suffix[i], (size_t)l);
    offs[i + 1] = offs[i] + l;
  }
  ms_pq_delta_length_encode((const uint8_t *)all, offs, n, b);
  return b;
}

static void test_delta_byte_array(void) {
  /* Encodings.md: "axis", "axle", "babble", "babyhood". */
  const int32_t prefix[] = {0, 2, 0, 3};
  const char *const suffix[] = {"axis", "le", "babble", "yhood"};
  ms_buffer *b = build_dba(prefix, suffix, 4);
  ms_buffer *data = ms_buffer_create(0);
  CHECK_OK(ms_buffer_append(data, "Q", 1), NULL);
  int64_t off[5];
  ms_error err;
  CHECK_OK(ms_pq_delta_byte_array_decode(b->data, b->size, 4, off, data, &err), &err);
  const char *want[] = {"axis", "axle", "babble", "babyhood"};
  CHECK_EQ_INT(off[0], 0);
  for (int i = 0; i < 4; i++) {
    CHECK_EQ_INT(off[i + 1] - off[i], (int64_t)strlen(want[i]));
    CHECK(memcmp(data->data + 1 + off[i], want[i], strlen(want[i])) == 0);
  }
  CHECK_EQ_INT(data->size, 1 + 22);
  ms_buffer_release(b);
  /* A prefix longer than the previous value is corrupt. */
  const int32_t bad_prefix[] = {0, 5};
  const char *const bad_suffix[] = {"abc", "d"};
  b = build_dba(bad_prefix, bad_suffix, 2);
  CHECK_EQ_INT(ms_pq_delta_byte_array_decode(b->data, b->size, 2, off, data, &err),
               MS_ERR_CORRUPT);
  ms_buffer_release(b);
  /* The first value cannot have a prefix. */
  const int32_t bad_first[] = {1};
  const char *const s1[] = {"x"};
  b = build_dba(bad_first, s1, 1);
  CHECK_EQ_INT(ms_pq_delta_byte_array_decode(b->data, b->size, 1, off, data, &err),
               MS_ERR_CORRUPT);
  /* More values asked for than present; truncation. */
  CHECK_EQ_INT(ms_pq_delta_byte_array_decode(b->data, b->size, 2, off, data, &err),
               MS_ERR_CORRUPT);
  for (int64_t cut = 0; cut < b->size; cut++)
    CHECK_EQ_INT(ms_pq_delta_byte_array_decode(b->data, cut, 1, off, data, &err), MS_ERR_CORRUPT);
  ms_buffer_release(b);
  /* Prefixes that would expand a tiny page into gigabytes hit the limit. */
  enum { N = 4000 };
  int32_t *pre = ms_malloc(N * 4);
  int64_t *o = ms_malloc((N + 1) * 8);
  ms_buffer *e = ms_buffer_create(0);
  pre[0] = 0;
  for (int i = 1; i < N; i++) pre[i] = 200000;
  ms_pq_delta_encode(pre, 4, N, e);
  uint8_t *big = ms_calloc(200000, 1);
  o[0] = 0;
  o[1] = 200000;
  for (int i = 2; i <= N; i++) o[i] = 200000;
  ms_pq_delta_length_encode(big, o, N, e);
  int64_t before = data->size;
  CHECK_EQ_INT(ms_pq_delta_byte_array_decode(e->data, e->size, N, o, data, &err), MS_ERR_LIMIT);
  CHECK_EQ_INT(data->size, before);
  ms_free(big);
  ms_free(pre);
  ms_free(o);
  ms_buffer_release(e);
  ms_buffer_release(data);
}

static void test_byte_stream_split(void) {
  /* Encodings.md example. */
  const uint8_t raw[] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
  const uint8_t enc[] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
  uint8_t out[12];
  ms_pq_bss_encode(raw, 4, 3, out);
  CHECK(memcmp(out, enc, 12) == 0);
  ms_error err;
  CHECK_OK(ms_pq_bss_decode(enc, 12, 4, 3, out, &err), &err);
  CHECK(memcmp(out, raw, 12) == 0);
  CHECK_EQ_INT(ms_pq_bss_decode(enc, 11, 4, 3, out, &err), MS_ERR_CORRUPT);
  CHECK_EQ_INT(ms_pq_bss_decode(enc, 12, 4, INT64_MAX / 2, out, &err), MS_ERR_CORRUPT);
  for (int w = 1; w <= 16; w++) {
    int64_t n = 1 + (int64_t)(rnd() % 500);
    uint8_t *a = ms_malloc((size_t)(n * w)), *b = ms_malloc((size_t)(n * w)),
            *c = ms_malloc((size_t)(n * w));
    for (int64_t i = 0; i < n * w; i++) a[i] = (uint8_t)rnd();
    ms_pq_bss_encode(a, w, n, b);
    ms_status st = ms_pq_bss_decode(b, n * w, w, n, c, &err);
    int ok = st == MS_OK && memcmp(a, c, (size_t)(n * w)) == 0 && (w < 2 || b[n] == a[1]);
    ms_free(a);
    ms_free(b);
    ms_free(c);
    CHECK_MSG(ok, "width %d", w);
  }
}

MS_TEST_MAIN(MS_TEST(test_uvarint_and_bit_width), MS_TEST(test_unpack_spec_example),
             MS_TEST(test_unpack_all_widths), MS_TEST(test_rle_decode_vector),
             MS_TEST(test_rle_corrupt), MS_TEST(test_rle_round_trips),
             MS_TEST(test_delta_spec_examples), MS_TEST(test_delta_hand_built),
             MS_TEST(test_delta_corrupt), MS_TEST(test_delta_round_trips),
             MS_TEST(test_delta_length_byte_array), MS_TEST(test_delta_byte_array),
             MS_TEST(test_byte_stream_split))
