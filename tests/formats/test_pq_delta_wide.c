/* DELTA_BINARY_PACKED on INT32 with deltas wider than 32 bits.
 *
 * Writers such as DuckDB compute INT32 deltas in 64-bit arithmetic, so a column holding
 * both INT32_MIN and INT32_MAX gets 33-bit miniblocks. Encodings.md (since PARQUET-2435)
 * says readers must accept them; the result is defined modulo 2^32. The stream here is
 * built by hand from the spec so it does not depend on our encoder. */
#include "formats/parquet/pq_encoding.h"
#include "ms_test.h"

static void put_uvarint(uint8_t *buf, int *n, uint64_t v) {
  while (v >= 0x80) { buf[(*n)++] = (uint8_t)(v | 0x80); v >>= 7; }
  buf[(*n)++] = (uint8_t)v;
}

/* Packs value into bit position bit (LSB first) of buf. */
static void put_bits(uint8_t *buf, int64_t bit, uint64_t value, int w) {
  for (int i = 0; i < w; i++, bit++)
    if ((value >> i) & 1) buf[bit >> 3] |= (uint8_t)(1u << (bit & 7));
}

static int64_t zigzag(int64_t v) { return (int64_t)(((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

static void test_int32_33bit_miniblock(void) {
  /* values INT32_MIN, INT32_MAX, INT32_MIN: deltas +4294967295 and -4294967295 */
  uint8_t buf[512] = {0};
  int n = 0;
  put_uvarint(buf, &n, 128);                        /* block size */
  put_uvarint(buf, &n, 4);                          /* miniblocks per block */
  put_uvarint(buf, &n, 3);                          /* total values */
  put_uvarint(buf, &n, (uint64_t)zigzag(INT32_MIN)); /* first value */
  int64_t min_delta = -4294967295LL;
  put_uvarint(buf, &n, (uint64_t)zigzag(min_delta));
  buf[n++] = 33; buf[n++] = 0; buf[n++] = 0; buf[n++] = 0;
  put_bits(buf + n, 0, (uint64_t)(4294967295LL - min_delta), 33);
  put_bits(buf + n, 33, (uint64_t)(-4294967295LL - min_delta), 33);
  n += 32 * 33 / 8;
  int32_t out[3];
  int64_t consumed = 0;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_pq_delta_decode(buf, n, 4, out, 3, &consumed, &err), &err);
  CHECK_EQ_INT(out[0], INT32_MIN);
  CHECK_EQ_INT(out[1], INT32_MAX);
  CHECK_EQ_INT(out[2], INT32_MIN);
  CHECK_EQ_INT(consumed, n);
  /* a width past 64 is still corrupt */
  buf[n - 32 * 33 / 8 - 4] = 65;
  CHECK(ms_pq_delta_decode(buf, n, 4, out, 3, &consumed, &err) == MS_ERR_CORRUPT);
}

MS_TEST_MAIN(MS_TEST(test_int32_33bit_miniblock))
