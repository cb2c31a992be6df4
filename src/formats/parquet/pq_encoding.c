/* Parquet's value and level encodings (parquet-format Encodings.md), on plain buffers.
 *
 * Bit unpacking is the inner loop of every dictionary-encoded or level-carrying page, so it
 * works a group of 8 values at a time (8 values of width w are exactly w bytes) with one
 * specialised routine per width, chosen once per run rather than per value. Everything here
 * reads untrusted bytes: each read is checked against the end of the input first, counts
 * taken from headers are bounded by what the remaining bytes could possibly encode, and
 * arithmetic on decoded integers is done in unsigned types so that wraparound (which
 * DELTA_BINARY_PACKED relies on) is defined behaviour.
 *
 * Conventions: DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY decoders write n + 1 offsets
 * with offsets_out[0] == 0, relative to data->size at entry (value i occupies
 * data->data + size_at_entry + [offsets_out[i], offsets_out[i + 1])). */
#include "formats/parquet/pq_encoding.h"

#include <string.h>

#include "morsel/alloc.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "morsel's Parquet decoders assume a little-endian host"
#endif

/* Largest DELTA_BINARY_PACKED block we accept. Writers use 128 (parquet-mr, Arrow) or 2048
 * (DuckDB); the bound keeps a tiny header from claiming billions of values. */
#define DELTA_MAX_BLOCK (1 << 15)
/* Output of DELTA_BYTE_ARRAY may legitimately exceed its input (shared prefixes), but not
 * without limit: this much plus 64 times the input size. */
#define DBA_MAX_OUT_FLOOR ((int64_t)256 << 20)

/* ---- helpers ---- */

int ms_pq_read_uvarint(const uint8_t *p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (int i = 0; i < 10; i++) {
    if (end - p <= i) return 0;
    uint8_t b = p[i];
    if (i == 9 && b > 1) return 0; /* more than 64 bits */
    v |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *out = v;
      return i + 1;
    }
  }
  return 0;
}

int ms_pq_bit_width(uint64_t max_value) {
  return max_value ? 64 - __builtin_clzll(max_value) : 0;
}

static uint8_t *put_uvarint(uint8_t *w, uint64_t v) {
  while (v >= 0x80) {
    *w++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *w++ = (uint8_t)v;
  return w;
}

static uint64_t zigzag_encode(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
/* Returns the two's-complement bits of the decoded signed value. */
static uint64_t zigzag_decode(uint64_t v) { return (v >> 1) ^ (0 - (v & 1)); }

/* ---- bit unpacking ---- */

/* Unpacks 8 values of W bits from exactly W bytes. Inlined with a constant W it becomes a
 * handful of shifts and masks. */
static inline __attribute__((always_inline)) void unpack8_w(const uint8_t *in, uint32_t *out,
                                                            const int w) {
  uint64_t words[5] = {0};
  memcpy(words, in, (size_t)w);
  const uint64_t mask = w == 32 ? 0xffffffffull : ((1ull << w) - 1);
  for (int i = 0; i < 8; i++) {
    const int off = i * w, lo = off >> 6, sh = off & 63;
    uint64_t v = words[lo] >> sh;
    if (sh + w > 64) v |= words[lo + 1] << (64 - sh);
    out[i] = (uint32_t)(v & mask);
  }
}

static inline __attribute__((always_inline)) void unpack8_64_w(const uint8_t *in,
                                                               uint64_t *out, const int w) {
  uint64_t words[9] = {0};
  memcpy(words, in, (size_t)w);
  const uint64_t mask = w == 64 ? ~0ull : ((1ull << w) - 1);
  for (int i = 0; i < 8; i++) {
    const int off = i * w, lo = off >> 6, sh = off & 63;
    uint64_t v = words[lo] >> sh;
    if (sh && sh + w > 64) v |= words[lo + 1] << (64 - sh);
    out[i] = v & mask;
  }
}

#define MS_W4(F, b) F(b + 1) F(b + 2) F(b + 3) F(b + 4)
#define MS_W32(F) MS_W4(F, 0) MS_W4(F, 4) MS_W4(F, 8) MS_W4(F, 12) MS_W4(F, 16) MS_W4(F, 20) \
  MS_W4(F, 24) MS_W4(F, 28)

/* Unpacks `groups` groups of 8 values (groups * w bytes) into out. */
static void unpack_groups(const uint8_t *in, uint32_t *out, int64_t groups, int w) {
  switch (w) {
    case 0: memset(out, 0, (size_t)groups * 8 * sizeof *out); return;
#define MS_CASE(W)                                                           \
    case W:                                                                  \
      for (int64_t g = 0; g < groups; g++) unpack8_w(in + g * (W), out + g * 8, W); \
      return;
    MS_W32(MS_CASE)
#undef MS_CASE
    default: return;
  }
}

/* 64-bit widths 33..64 (only DELTA_BINARY_PACKED on INT64 uses them). */
static void unpack_groups64(const uint8_t *in, uint64_t *out, int64_t groups, int w) {
  switch (w) {
#define MS_CASE(W)                                                                 \
    case W + 32:                                                                   \
      for (int64_t g = 0; g < groups; g++) unpack8_64_w(in + g * (W + 32), out + g * 8, W + 32); \
      return;
    MS_W32(MS_CASE)
#undef MS_CASE
    default: return;
  }
}

/* One group of 8 whose bytes may run past `end` (the tail of a page): missing bytes read
 * as zero. */
static void unpack_group_tail(const uint8_t *in, const uint8_t *end, uint32_t *out, int w) {
  uint8_t tmp[32] = {0};
  int64_t have = end - in < w ? end - in : w;
  if (have > 0) memcpy(tmp, in, (size_t)have);
  unpack_groups(tmp, out, 1, w);
}

bool ms_pq_unpack(const uint8_t *in, int64_t in_len, int bit_width, uint32_t *out, int64_t n) {
  if (bit_width < 0 || bit_width > 32 || n < 0 || in_len < 0) return false;
  if (n > INT64_MAX / 64) return false;
  int64_t need = (n * bit_width + 7) / 8;
  if (in_len < need) return false;
  int64_t full = n / 8;
  unpack_groups(in, out, full, bit_width);
  int rem = (int)(n % 8);
  if (rem) {
    uint32_t tmp[8];
    unpack_group_tail(in + full * bit_width, in + need, tmp, bit_width);
    memcpy(out + full * 8, tmp, (size_t)rem * sizeof *out);
  }
  return true;
}

/* ---- RLE / bit-packing hybrid decoder ----
 * While a bit-packed run is active, `packed` points at the group holding the next value,
 * `packed_index` (0..7) is that value's place in the group, and `p` already points past
 * the run, so `p` is also the end of the run's bytes. */

void ms_pq_rle_init(ms_pq_rle_decoder *d, const uint8_t *data, int64_t len, int bit_width) {
  memset(d, 0, sizeof *d);
  d->bit_width = bit_width;
  if (!data || len <= 0) {
    d->p = d->end = data;
  } else {
    d->p = data;
    d->end = data + len;
  }
  if (bit_width < 0 || bit_width > 32 || len < 0) d->error = true;
}

static bool rle_next_run(ms_pq_rle_decoder *d) {
  if (d->p == d->end) return false;
  uint64_t h;
  int k = ms_pq_read_uvarint(d->p, d->end, &h);
  if (!k) {
    d->error = true;
    return false;
  }
  d->p += k;
  int w = d->bit_width;
  if (h & 1) {
    uint64_t groups = h >> 1;
    /* Runs are at most 2^31 - 1 values (Encodings.md). */
    if (groups > (1u << 28)) {
      d->error = true;
      return false;
    }
    int64_t want = (int64_t)groups * w, avail = d->end - d->p;
    /* A final run cut short is tolerated: the values its bytes hold are still there. */
    int64_t bytes = want < avail ? want : avail;
    int64_t count = (int64_t)groups * 8;
    if (w && bytes * 8 / w < count) count = bytes * 8 / w;
    d->packed = d->p;
    d->packed_index = 0;
    d->packed_left = count;
    d->p += bytes;
  } else {
    uint64_t count = h >> 1;
    int vb = (w + 7) / 8;
    if (count > 0x7fffffffu || d->end - d->p < vb) {
      d->error = true;
      return false;
    }
    uint32_t v = 0;
    for (int b = 0; b < vb; b++) v |= (uint32_t)d->p[b] << (8 * b);
    d->p += vb;
    if (w < 32 && (v >> w) != 0) { /* a value wider than the declared bit width */
      d->error = true;
      return false;
    }
    d->rle_value = v;
    d->rle_left = (int64_t)count;
  }
  return true;
}

int64_t ms_pq_rle_get(ms_pq_rle_decoder *d, uint32_t *out, int64_t n) {
  if (d->error || n <= 0) return 0;
  int64_t got = 0;
  const int w = d->bit_width;
  while (got < n) {
    if (d->rle_left > 0) {
      int64_t k = d->rle_left < n - got ? d->rle_left : n - got;
      uint32_t v = d->rle_value, *o = out + got;
      for (int64_t i = 0; i < k; i++) o[i] = v;
      got += k;
      d->rle_left -= k;
      continue;
    }
    if (d->packed_left > 0) {
      int64_t k = d->packed_left < n - got ? d->packed_left : n - got;
      d->packed_left -= k;
      if (d->packed_index) { /* finish a group begun by an earlier call */
        uint32_t tmp[8];
        unpack_group_tail(d->packed, d->p, tmp, w);
        int64_t take = 8 - d->packed_index < k ? 8 - d->packed_index : k;
        memcpy(out + got, tmp + d->packed_index, (size_t)take * sizeof *out);
        got += take;
        k -= take;
        d->packed_index += take;
        if (d->packed_index == 8) {
          d->packed += w;
          d->packed_index = 0;
        }
      }
      if (k >= 8) {
        int64_t groups = k / 8;
        if (w) {
          int64_t whole = (d->p - d->packed) / w; /* groups whose bytes are all present */
          if (groups > whole) groups = whole;
        }
        unpack_groups(d->packed, out + got, groups, w);
        d->packed += groups * w;
        got += groups * 8;
        k -= groups * 8;
      }
      while (k > 0) { /* a partial group, or a group cut off by the end of the input */
        uint32_t tmp[8];
        unpack_group_tail(d->packed, d->p, tmp, w);
        int64_t take = k < 8 ? k : 8;
        memcpy(out + got, tmp, (size_t)take * sizeof *out);
        got += take;
        k -= take;
        if (take == 8) d->packed += w;
        else d->packed_index = take;
      }
      continue;
    }
    if (!rle_next_run(d)) break;
  }
  return got;
}

/* ---- RLE / bit-packing hybrid encoder ---- */

static uint8_t *pack8(const uint32_t *v, int64_t valid, int w, uint8_t *dst) {
  const uint64_t mask = w == 32 ? 0xffffffffull : ((1ull << w) - 1);
  uint64_t acc = 0;
  int bits = 0;
  for (int i = 0; i < 8; i++) {
    uint64_t x = i < valid ? (v[i] & mask) : 0;
    acc |= x << bits;
    bits += w;
    while (bits >= 8) {
      *dst++ = (uint8_t)acc;
      acc >>= 8;
      bits -= 8;
    }
  }
  return dst;
}

static bool run_of_8(const uint32_t *v, int64_t i, int64_t n) {
  if (n - i < 8) return false;
  for (int k = 1; k < 8; k++)
    if (v[i + k] != v[i]) return false;
  return true;
}

ms_status ms_pq_rle_encode(const uint32_t *values, int64_t n, int bit_width, ms_buffer *out) {
  if (bit_width < 0 || bit_width > 32 || n < 0 || !out) return MS_ERR_INVALID;
  if (n == 0) return MS_OK;
  const int w = bit_width, vb = (w + 7) / 8;
  /* Each 8 values cost at most max(RLE header + value, literal header + w bytes). */
  int64_t bound = (n / 8 + 2) * (w + 10);
  ms_status st = ms_buffer_reserve(out, out->size + bound);
  if (st) return st;
  uint8_t *dst = out->data + out->size;
  int64_t i = 0;
  while (i < n) {
    int64_t r = 1;
    while (i + r < n && values[i + r] == values[i]) r++;
    if (r >= 8) {
      while (r > 0) {
        int64_t chunk = r > 0x7fffffff ? 0x7fffffff : r;
        dst = put_uvarint(dst, (uint64_t)chunk << 1);
        for (int b = 0; b < vb; b++) *dst++ = (uint8_t)(values[i] >> (8 * b));
        i += chunk;
        r -= chunk;
      }
      continue;
    }
    /* Literal groups until a run of 8 begins on a group boundary (or the input ends). */
    int64_t j = i;
    do {
      j += 8;
    } while (j < n && !run_of_8(values, j, n) && (j - i) < ((int64_t)1 << 27));
    int64_t groups = (j - i) / 8;
    dst = put_uvarint(dst, (uint64_t)groups << 1 | 1);
    for (int64_t g = 0; g < groups; g++) {
      int64_t at = i + g * 8;
      dst = pack8(values + at, n - at, w, dst);
    }
    i = j < n ? j : n;
  }
  out->size = dst - out->data;
  return MS_OK;
}

/* ---- DELTA_BINARY_PACKED ---- */

typedef struct delta_header {
  int64_t block_size, mb_count, per_mb, total;
  uint64_t first; /* two's-complement bits of the first value */
  const uint8_t *p; /* first block */
} delta_header;

static ms_status delta_read_header(const uint8_t *data, int64_t len, delta_header *h,
                                   ms_error *err) {
  if (len < 0 || (!data && len > 0))
    return ms_error_set(err, MS_ERR_INVALID, "bad DELTA_BINARY_PACKED arguments");
  if (len == 0) return ms_error_set(err, MS_ERR_CORRUPT, "empty DELTA_BINARY_PACKED stream");
  const uint8_t *p = data, *end = data + len;
  uint64_t v[4];
  for (int i = 0; i < 4; i++) {
    int k = ms_pq_read_uvarint(p, end, &v[i]);
    if (!k) return ms_error_set(err, MS_ERR_CORRUPT, "truncated DELTA_BINARY_PACKED header");
    p += k;
  }
  if (v[0] == 0 || v[0] % 128 != 0 || v[0] > DELTA_MAX_BLOCK || v[1] == 0 ||
      v[0] % v[1] != 0 || (v[0] / v[1]) % 32 != 0)
    return ms_error_set(err, MS_ERR_CORRUPT,
                        "invalid DELTA_BINARY_PACKED block layout (block size %llu, %llu "
                        "miniblocks)",
                        (unsigned long long)v[0], (unsigned long long)v[1]);
  h->block_size = (int64_t)v[0];
  h->mb_count = (int64_t)v[1];
  h->per_mb = h->block_size / h->mb_count;
  /* Every block needs at least its min delta and its miniblock widths. */
  int64_t avail = end - p;
  uint64_t max_blocks = (uint64_t)(avail / (1 + h->mb_count));
  if (v[2] > 1 && (v[2] - 2) / (uint64_t)h->block_size + 1 > max_blocks)
    return ms_error_set(err, MS_ERR_CORRUPT,
                        "DELTA_BINARY_PACKED header claims %llu values but only %lld bytes "
                        "follow",
                        (unsigned long long)v[2], (long long)avail);
  h->total = (int64_t)v[2];
  h->first = zigzag_decode(v[3]);
  h->p = p;
  return MS_OK;
}

ms_status ms_pq_delta_count(const uint8_t *data, int64_t len, int64_t *out_count,
                            ms_error *err) {
  delta_header h;
  ms_status st = delta_read_header(data, len, &h, err);
  if (st) return st;
  *out_count = h.total;
  return MS_OK;
}

/* Adds the unpacked miniblock deltas to the running value, writing `count` outputs. */
static void delta_apply(int width, uint64_t *last, uint64_t min_delta, const uint32_t *d32,
                        const uint64_t *d64, int64_t count, void *out, int64_t at) {
  if (width == 4) {
    /* Arithmetic is modulo 2^32, so the low 32 bits of a wider delta are all that count. */
    uint32_t l = (uint32_t)*last, md = (uint32_t)min_delta, *o = (uint32_t *)out + at;
    if (d32) {
      for (int64_t i = 0; i < count; i++) {
        l += md + d32[i];
        o[i] = l;
      }
    } else {
      for (int64_t i = 0; i < count; i++) {
        l += md + (uint32_t)d64[i];
        o[i] = l;
      }
    }
    *last = l;
  } else {
    uint64_t l = *last, *o = (uint64_t *)out + at;
    if (d32) {
      for (int64_t i = 0; i < count; i++) {
        l += min_delta + d32[i];
        o[i] = l;
      }
    } else {
      for (int64_t i = 0; i < count; i++) {
        l += min_delta + d64[i];
        o[i] = l;
      }
    }
    *last = l;
  }
}

/* Decodes `want` values of one miniblock whose packed bytes are [p, p + avail). */
static void delta_miniblock(const uint8_t *p, int64_t avail, int w, int width, int64_t want,
                            uint64_t *last, uint64_t min_delta, void *out, int64_t at) {
  enum { CHUNK = 256 };
  uint32_t t32[CHUNK];
  uint64_t t64[CHUNK];
  const uint8_t *end = p + avail;
  while (want > 0) {
    int64_t k = want < CHUNK ? want : CHUNK;
    int64_t groups = (k + 7) / 8;
    int64_t whole = w ? (end - p) / w : groups;
    if (whole > groups) whole = groups;
    if (w <= 32) {
      unpack_groups(p, t32, whole, w);
      for (int64_t g = whole; g < groups; g++) unpack_group_tail(p + g * w, end, t32 + g * 8, w);
      delta_apply(width, last, min_delta, t32, NULL, k, out, at);
    } else {
      unpack_groups64(p, t64, whole, w);
      for (int64_t g = whole; g < groups; g++) {
        uint8_t tmp[64] = {0};
        int64_t have = end - (p + g * w);
        if (have > w) have = w;
        if (have > 0) memcpy(tmp, p + g * w, (size_t)have);
        unpack_groups64(tmp, t64 + g * 8, 1, w);
      }
      delta_apply(width, last, min_delta, NULL, t64, k, out, at);
    }
    p += groups * w; /* may point past `end` only on the last chunk, never dereferenced */
    want -= k;
    at += k;
  }
}

ms_status ms_pq_delta_decode(const uint8_t *data, int64_t len, int width, void *out, int64_t n,
                             int64_t *consumed, ms_error *err) {
  if ((width != 4 && width != 8) || n < 0 || (n > 0 && !out))
    return ms_error_set(err, MS_ERR_INVALID, "bad DELTA_BINARY_PACKED arguments");
  delta_header h;
  ms_status st = delta_read_header(data, len, &h, err);
  if (st) return st;
  if (h.total < n)
    return ms_error_set(err, MS_ERR_CORRUPT,
                        "DELTA_BINARY_PACKED holds %lld values, %lld expected",
                        (long long)h.total, (long long)n);
  const uint8_t *p = h.p, *end = data + len;
  uint64_t last = h.first;
  int64_t done = 0;
  if (n > 0) {
    if (width == 4) ((uint32_t *)out)[0] = (uint32_t)last;
    else ((uint64_t *)out)[0] = last;
    done = 1;
  }
  /* Walk every block, even after the n values wanted, so *consumed covers the stream. */
  int64_t left = h.total > 0 ? h.total - 1 : 0;
  while (left > 0) {
    uint64_t zz;
    int k = ms_pq_read_uvarint(p, end, &zz);
    if (!k || end - p - k < h.mb_count)
      return ms_error_set(err, MS_ERR_CORRUPT, "truncated DELTA_BINARY_PACKED block at byte %lld",
                          (long long)(p - data));
    p += k;
    uint64_t min_delta = zigzag_decode(zz);
    const uint8_t *widths = p;
    p += h.mb_count;
    for (int64_t m = 0; m < h.mb_count && left > 0; m++) {
      int w = widths[m];
      /* INT32 columns may use up to 33 bits (and writers up to 64) for deltas that span
       * the whole int32 range: Encodings.md allows it since PARQUET-2435. */
      if (w > 64)
        return ms_error_set(err, MS_ERR_CORRUPT,
                            "DELTA_BINARY_PACKED miniblock bit width %d exceeds 64", w);
      int64_t in_mb = left < h.per_mb ? left : h.per_mb;
      int64_t full = h.per_mb * w / 8, need = (in_mb * w + 7) / 8, avail = end - p;
      if (avail < need)
        return ms_error_set(err, MS_ERR_CORRUPT,
                            "truncated DELTA_BINARY_PACKED miniblock at byte %lld",
                            (long long)(p - data));
      if (avail > full) avail = full; /* the last miniblock's padding may be cut off */
      int64_t want = n - done < in_mb ? n - done : in_mb;
      if (want > 0) delta_miniblock(p, avail, w, width, want, &last, min_delta, out, done);
      done += want;
      p += avail;
      left -= in_mb;
    }
  }
  if (consumed) *consumed = p - data;
  return MS_OK;
}

/* Packs 32 values of w bits (0..64) LSB-first into 4 * w bytes. */
static uint8_t *pack32_64(const uint64_t *v, int w, uint8_t *dst) {
  int64_t bytes = 4 * (int64_t)w;
  memset(dst, 0, (size_t)bytes);
  const uint64_t mask = w == 64 ? ~0ull : ((1ull << w) - 1);
  int64_t bit = 0;
  for (int i = 0; i < 32 && w; i++) {
    uint64_t x = v[i] & mask;
    int rem = w;
    while (rem > 0) {
      int sh = (int)(bit & 7), take = 8 - sh < rem ? 8 - sh : rem;
      dst[bit >> 3] |= (uint8_t)((x & ((1u << take) - 1)) << sh);
      x >>= take;
      rem -= take;
      bit += take;
    }
  }
  return dst + bytes;
}

ms_status ms_pq_delta_encode(const void *values, int width, int64_t n, ms_buffer *out) {
  if ((width != 4 && width != 8) || n < 0 || !out || (n > 0 && !values)) return MS_ERR_INVALID;
  enum { BLOCK = 128, MB = 4, PER_MB = 32 };
  int64_t blocks = n > 1 ? (n - 2) / BLOCK + 1 : 0;
  int64_t bound = 40 + blocks * (10 + MB + BLOCK * (int64_t)width);
  ms_status st = ms_buffer_reserve(out, out->size + bound);
  if (st) return st;
  uint8_t *dst = out->data + out->size;
  const int32_t *v32 = values;
  const int64_t *v64 = values;
  int64_t first = n == 0 ? 0 : width == 4 ? v32[0] : v64[0];
  dst = put_uvarint(dst, BLOCK);
  dst = put_uvarint(dst, MB);
  dst = put_uvarint(dst, (uint64_t)n);
  dst = put_uvarint(dst, zigzag_encode(first));
  uint64_t packed[BLOCK];
  for (int64_t b = 1; b < n; b += BLOCK) {
    int64_t cnt = n - b < BLOCK ? n - b : BLOCK;
    int64_t deltas[BLOCK];
    int64_t min = INT64_MAX;
    for (int64_t i = 0; i < cnt; i++) {
      /* Deltas wrap in the physical type's width (Encodings.md), so INT32 deltas and their
       * offsets from the minimum always fit 32 bits. */
      int64_t d;
      if (width == 4) d = (int32_t)((uint32_t)v32[b + i] - (uint32_t)v32[b + i - 1]);
      else d = (int64_t)((uint64_t)v64[b + i] - (uint64_t)v64[b + i - 1]);
      deltas[i] = d;
      if (d < min) min = d;
    }
    int widths[MB] = {0};
    for (int64_t i = 0; i < BLOCK; i++) {
      if (i < cnt) {
        packed[i] = width == 4 ? (uint64_t)(uint32_t)((uint32_t)deltas[i] - (uint32_t)min)
                               : (uint64_t)deltas[i] - (uint64_t)min;
        int bw = ms_pq_bit_width(packed[i]);
        if (bw > widths[i / PER_MB]) widths[i / PER_MB] = bw;
      } else {
        packed[i] = 0;
      }
    }
    dst = put_uvarint(dst, zigzag_encode(min));
    for (int m = 0; m < MB; m++) *dst++ = (uint8_t)widths[m];
    for (int m = 0; m < MB && m * PER_MB < cnt; m++) dst = pack32_64(packed + m * PER_MB, widths[m], dst);
  }
  out->size = dst - out->data;
  return MS_OK;
}

/* ---- DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY ---- */

/* Decodes n lengths into offsets[0..n] (prefix sums from 0) and checks that the bytes they
 * describe follow the length stream; *lengths_len receives the length stream's size. */
static ms_status dlba_offsets(const uint8_t *in, int64_t len, int64_t n, int64_t *offsets,
                              int64_t *lengths_len, ms_error *err) {
  int64_t c;
  ms_status st = ms_pq_delta_decode(in, len, 8, offsets + 1, n, &c, err);
  if (st) return st;
  offsets[0] = 0;
  int64_t room = len - c;
  for (int64_t i = 1; i <= n; i++) {
    int64_t l = offsets[i];
    if (l < 0 || l > room - offsets[i - 1])
      return ms_error_set(err, MS_ERR_CORRUPT,
                          "byte array %lld claims length %lld, beyond the page's %lld bytes",
                          (long long)(i - 1), (long long)l, (long long)room);
    offsets[i] = offsets[i - 1] + l;
  }
  *lengths_len = c;
  return MS_OK;
}

ms_status ms_pq_delta_length_decode(const uint8_t *in, int64_t len, int64_t n,
                                    int64_t *offsets_out, ms_buffer *data, int64_t *consumed,
                                    ms_error *err) {
  if (n < 0 || !offsets_out || !data)
    return ms_error_set(err, MS_ERR_INVALID, "bad DELTA_LENGTH_BYTE_ARRAY arguments");
  if (n == 0) {
    offsets_out[0] = 0;
    if (consumed) *consumed = 0;
    return MS_OK;
  }
  int64_t c;
  ms_status st = dlba_offsets(in, len, n, offsets_out, &c, err);
  if (st) return st;
  if (ms_buffer_append(data, in + c, offsets_out[n]) != MS_OK)
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory for byte array data");
  if (consumed) *consumed = c + offsets_out[n];
  return MS_OK;
}

ms_status ms_pq_delta_byte_array_decode(const uint8_t *in, int64_t len, int64_t n,
                                        int64_t *offsets_out, ms_buffer *data, ms_error *err) {
  if (n < 0 || !offsets_out || !data)
    return ms_error_set(err, MS_ERR_INVALID, "bad DELTA_BYTE_ARRAY arguments");
  offsets_out[0] = 0;
  if (n == 0) return MS_OK;
  int64_t count;
  ms_status st = ms_pq_delta_count(in, len, &count, err);
  if (st) return st;
  if (count < n)
    return ms_error_set(err, MS_ERR_CORRUPT, "DELTA_BYTE_ARRAY holds %lld prefixes, %lld expected",
                        (long long)count, (long long)n);
  /* n is now bounded by the input size (see delta_read_header). */
  int64_t *prefix = ms_malloc((size_t)n * sizeof *prefix);
  if (!prefix) return ms_error_set(err, MS_ERR_NOMEM, "out of memory for prefix lengths");
  int64_t c1, c2;
  st = ms_pq_delta_decode(in, len, 8, prefix, n, &c1, err);
  if (!st) st = dlba_offsets(in + c1, len - c1, n, offsets_out, &c2, err);
  if (st) goto done;
  const uint8_t *suffixes = in + c1 + c2;
  /* Pass 1: every prefix must fit in the previous value; total output size, bounded. */
  int64_t total = 0, prev_len = 0;
  int64_t limit = DBA_MAX_OUT_FLOOR + 64 * len;
  for (int64_t i = 0; i < n; i++) {
    int64_t p = prefix[i], s = offsets_out[i + 1] - offsets_out[i];
    if (p < 0 || p > prev_len) {
      st = ms_error_set(err, MS_ERR_CORRUPT,
                        "DELTA_BYTE_ARRAY value %lld has prefix length %lld but the previous "
                        "value has %lld bytes",
                        (long long)i, (long long)p, (long long)prev_len);
      goto done;
    }
    prev_len = p + s;
    total += prev_len;
    if (total > limit) {
      st = ms_error_set(err, MS_ERR_LIMIT,
                        "DELTA_BYTE_ARRAY page expands to more than %lld bytes",
                        (long long)limit);
      goto done;
    }
  }
  int64_t base = data->size;
  if (ms_buffer_reserve(data, base + total) != MS_OK) {
    st = ms_error_set(err, MS_ERR_NOMEM, "out of memory for byte array data");
    goto done;
  }
  /* Pass 2: value i = first prefix[i] bytes of value i-1, then its suffix. offsets_out
   * holds suffix offsets and is overwritten with value offsets one step behind. */
  uint8_t *o = data->data + base;
  int64_t pos = 0, prev_off = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t s0 = offsets_out[i], s1 = offsets_out[i + 1], p = prefix[i];
    offsets_out[i] = pos;
    if (p) memcpy(o + pos, o + prev_off, (size_t)p);
    if (s1 > s0) memcpy(o + pos + p, suffixes + s0, (size_t)(s1 - s0));
    prev_off = pos;
    pos += p + (s1 - s0);
  }
  offsets_out[n] = pos;
  data->size = base + total;
done:
  ms_free(prefix);
  return st;
}

ms_status ms_pq_delta_length_encode(const uint8_t *data, const int64_t *offsets, int64_t n,
                                    ms_buffer *out) {
  if (n < 0 || !offsets || !out) return MS_ERR_INVALID;
  /* Lengths are INT32 in Parquet; encode them in the 32-bit domain other readers use. */
  int32_t *l32 = ms_malloc((size_t)(n ? n : 1) * sizeof *l32);
  if (!l32) return MS_ERR_NOMEM;
  for (int64_t i = 0; i < n; i++) {
    int64_t l = offsets[i + 1] - offsets[i];
    if (l < 0 || l > INT32_MAX) {
      ms_free(l32);
      return MS_ERR_INVALID;
    }
    l32[i] = (int32_t)l;
  }
  ms_status st = ms_pq_delta_encode(l32, 4, n, out);
  if (!st && n > 0) st = ms_buffer_append(out, data + offsets[0], offsets[n] - offsets[0]);
  ms_free(l32);
  return st;
}

/* ---- BYTE_STREAM_SPLIT ---- */

ms_status ms_pq_bss_decode(const uint8_t *in, int64_t in_len, int width, int64_t n,
                           uint8_t *out, ms_error *err) {
  if (width <= 0 || n < 0 || in_len < 0)
    return ms_error_set(err, MS_ERR_INVALID, "bad BYTE_STREAM_SPLIT arguments");
  if (n > INT64_MAX / width || in_len < n * width)
    return ms_error_set(err, MS_ERR_CORRUPT,
                        "BYTE_STREAM_SPLIT needs %lld values of %d bytes, page has %lld bytes",
                        (long long)n, width, (long long)in_len);
  switch (width) {
    case 4:
      for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) out[i * 4 + k] = in[k * n + i];
      break;
    case 8:
      for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++) out[i * 8 + k] = in[k * n + i];
      break;
    default:
      for (int k = 0; k < width; k++) {
        const uint8_t *s = in + (int64_t)k * n;
        for (int64_t i = 0; i < n; i++) out[i * width + k] = s[i];
      }
  }
  return MS_OK;
}

void ms_pq_bss_encode(const uint8_t *in, int width, int64_t n, uint8_t *out) {
  for (int k = 0; k < width; k++) {
    uint8_t *s = out + (int64_t)k * n;
    for (int64_t i = 0; i < n; i++) s[i] = in[i * width + k];
  }
}
