/* Decoding of one Parquet column chunk (one column of one row group) of a flat column.
 *
 * A chunk is a run of pages: an optional dictionary page, then data pages (v1 or v2).
 * For each data page: decompress (per-worker scratch), decode the definition levels into
 * the chunk-local validity bitmap, decode the page's non-null values into a dense array
 * of physical values ("dense"), then "emit" them into the output slice of the column,
 * converting (int32 -> int8, decimals, INT96, float16) and spreading around nulls in one
 * pass. Fixed-width values land straight in the final column buffer (rows row0..row0+n);
 * when a page has no nulls and needs no conversion, non-PLAIN decoders write directly
 * there and PLAIN is one memcpy from the (decompressed) page. Byte arrays are appended to
 * a chunk-local data buffer; their end offsets go into the final offsets array.
 *
 * Bounds: every size read from a page header is checked against the bytes of the chunk
 * (compressed) and the chunk's declared uncompressed size before anything is allocated;
 * value counts are checked against the rows left in the row group and against the bytes
 * of the page; dictionary indices against the dictionary size. */
#include <stdio.h>
#include <string.h>

#include "formats/compress.h"
#include "formats/parquet/pq_encoding.h"
#include "formats/parquet/pq_read.h"
#include "morsel/alloc.h"

void *ms_pq__scratch(pq_scratch *s, int64_t size) {
  if (size < 0) return NULL;
  if (size + 64 > s->cap) {
    int64_t cap = s->cap ? s->cap : 4096;
    while (cap < size + 64) cap *= 2;
    ms_free(s->p);
    s->p = ms_malloc((size_t)cap);
    s->cap = s->p ? cap : 0;
    if (!s->p) return NULL;
  }
  return s->p;
}

void ms_pq__scratch_free(pq_scratch *s) {
  ms_free(s->p);
  s->p = NULL;
  s->cap = 0;
}

static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

typedef struct pq_dict {
  bool present;
  int64_t n;
  const uint8_t *values;  /* fixed width: n * phys_width bytes */
  const int32_t *offsets; /* byte arrays: n + 1 offsets into values */
} pq_dict;

typedef struct chunk_ctx {
  const ms_pq_file *f;
  const pq_column *col;
  pq_worker *w;
  pq_chunk_out *out;
  ms_error *err;
  int64_t page_pos;       /* absolute file offset of the current page's data */
  pq_dict dict;
} chunk_ctx;

static ms_status fail(chunk_ctx *c, ms_status st, const char *fmt, const char *detail) {
  ms_error_set(c->err, st, fmt, detail);
  ms_error_set_byte_offset(c->err, c->page_pos);
  return st;
}
#define FAIL(c, st, msg) fail((c), (st), "%s", (msg))
#define NOMEM(c) FAIL(c, MS_ERR_NOMEM, "out of memory")

/* ---------------- levels ---------------- */

/* Decodes n definition levels (max level 1) into out->valid at local row r0; returns the
 * number of non-null values in *n_valid. rle: RLE hybrid without length prefix;
 * otherwise the legacy BIT_PACKED (MSB first). */
static ms_status decode_levels(chunk_ctx *c, const uint8_t *p, int64_t len, bool rle, int64_t r0,
                               int64_t n, int64_t *n_valid) {
  uint8_t *valid = c->out->valid;
  int64_t count = 0;
  if (rle) {
    uint32_t *lv = ms_pq__scratch(&c->w->levels, n * 4);
    if (!lv) return NOMEM(c);
    ms_pq_rle_decoder d;
    ms_pq_rle_init(&d, p, len, 1);
    if (ms_pq_rle_get(&d, lv, n) != n || d.error)
      return FAIL(c, MS_ERR_CORRUPT, "definition levels end before the page's values");
    int64_t i = 0, k = r0;
    for (; i < n && (k & 7); i++, k++) {
      uint32_t v = lv[i] & 1;
      valid[k >> 3] |= (uint8_t)(v << (k & 7));
      count += v;
    }
    /* Whole bytes: the chunk-local bitmap starts zeroed, so plain stores are fine. */
    for (; i + 8 <= n; i += 8, k += 8) {
      uint32_t b = (lv[i] & 1) | (lv[i + 1] & 1) << 1 | (lv[i + 2] & 1) << 2 | (lv[i + 3] & 1) << 3 |
                   (lv[i + 4] & 1) << 4 | (lv[i + 5] & 1) << 5 | (lv[i + 6] & 1) << 6 |
                   (lv[i + 7] & 1) << 7;
      valid[k >> 3] = (uint8_t)b;
      count += __builtin_popcount(b);
    }
    for (; i < n; i++, k++) {
      uint32_t v = lv[i] & 1;
      valid[k >> 3] |= (uint8_t)(v << (k & 7));
      count += v;
    }
  } else {
    if ((n + 7) / 8 > len) return FAIL(c, MS_ERR_CORRUPT, "bit-packed definition levels are truncated");
    for (int64_t i = 0; i < n; i++) {
      uint32_t v = (p[i >> 3] >> (7 - (i & 7))) & 1;
      int64_t k = r0 + i;
      valid[k >> 3] |= (uint8_t)(v << (k & 7));
      count += v;
    }
  }
  *n_valid = count;
  return MS_OK;
}

/* ---------------- dictionary indices ---------------- */

static ms_status decode_indices(chunk_ctx *c, const uint8_t *p, int64_t len, int64_t nv, uint32_t **out) {
  if (!c->dict.present) return FAIL(c, MS_ERR_CORRUPT, "dictionary-encoded page without a dictionary page");
  if (nv == 0) { *out = NULL; return MS_OK; }
  if (len < 1) return FAIL(c, MS_ERR_CORRUPT, "dictionary indices are missing");
  int bw = p[0];
  if (bw > 32) return FAIL(c, MS_ERR_CORRUPT, "dictionary index bit width above 32");
  uint32_t *ix = ms_pq__scratch(&c->w->idx, nv * 4);
  if (!ix) return NOMEM(c);
  ms_pq_rle_decoder d;
  ms_pq_rle_init(&d, p + 1, len - 1, bw);
  if (ms_pq_rle_get(&d, ix, nv) != nv || d.error)
    return FAIL(c, MS_ERR_CORRUPT, "dictionary indices end before the page's values");
  uint32_t mx = 0;
  for (int64_t i = 0; i < nv; i++) mx = ix[i] > mx ? ix[i] : mx;
  if ((int64_t)mx >= c->dict.n) {
    char msg[160];
    snprintf(msg, sizeof msg, "dictionary index %u out of range (dictionary has %lld values)", mx,
             (long long)c->dict.n);
    return FAIL(c, MS_ERR_CORRUPT, msg);
  }
  *out = ix;
  return MS_OK;
}

/* ---------------- fixed-width values ---------------- */

/* Produces nv dense physical values (width pw) at *out: a pointer into the page for
 * PLAIN, otherwise decoded into `hint` (the final location) when given, else scratch. */
static ms_status dense_fixed(chunk_ctx *c, ms_pq_encoding enc, const uint8_t *p, int64_t len,
                             int64_t nv, uint8_t *hint, const uint8_t **out) {
  int pw = c->col->phys_width;
  if (enc == MS_PQ_ENC_PLAIN) {
    if (nv > len / pw) return FAIL(c, MS_ERR_CORRUPT, "PLAIN values extend past the page");
    *out = p;
    return MS_OK;
  }
  uint8_t *dst = hint ? hint : ms_pq__scratch(&c->w->phys, nv * pw);
  if (!dst) return NOMEM(c);
  *out = dst;
  if (nv == 0) return MS_OK;
  switch (enc) {
    case MS_PQ_ENC_PLAIN_DICTIONARY: case MS_PQ_ENC_RLE_DICTIONARY: {
      uint32_t *ix;
      ms_status st = decode_indices(c, p, len, nv, &ix);
      if (st) return st;
      const uint8_t *dv = c->dict.values;
      if (pw == 8) {
        uint64_t *o = (uint64_t *)(void *)dst;
        for (int64_t i = 0; i < nv; i++) memcpy(o + i, dv + (size_t)ix[i] * 8, 8);
      } else if (pw == 4) {
        uint32_t *o = (uint32_t *)(void *)dst;
        for (int64_t i = 0; i < nv; i++) memcpy(o + i, dv + (size_t)ix[i] * 4, 4);
      } else {
        for (int64_t i = 0; i < nv; i++) memcpy(dst + i * pw, dv + (size_t)ix[i] * pw, (size_t)pw);
      }
      return MS_OK;
    }
    case MS_PQ_ENC_DELTA_BINARY_PACKED: {
      if (pw != 4 && pw != 8) return FAIL(c, MS_ERR_CORRUPT, "DELTA_BINARY_PACKED on a non-integer column");
      if (c->col->phys == MS_PQ_FLOAT || c->col->phys == MS_PQ_DOUBLE)
        return FAIL(c, MS_ERR_CORRUPT, "DELTA_BINARY_PACKED on a floating-point column");
      int64_t used;
      ms_status st = ms_pq_delta_decode(p, len, pw, dst, nv, &used, c->err);
      if (st) ms_error_set_byte_offset(c->err, c->page_pos);
      return st;
    }
    case MS_PQ_ENC_BYTE_STREAM_SPLIT: {
      if (nv > len / pw) return FAIL(c, MS_ERR_CORRUPT, "BYTE_STREAM_SPLIT values extend past the page");
      /* Streams are len / pw bytes long; with padding they may exceed nv. */
      if (len != nv * pw) return FAIL(c, MS_ERR_CORRUPT, "BYTE_STREAM_SPLIT size does not match the value count");
      ms_status st = ms_pq_bss_decode(p, len, pw, nv, dst, c->err);
      if (st) ms_error_set_byte_offset(c->err, c->page_pos);
      return st;
    }
    default: {
      char msg[80];
      snprintf(msg, sizeof msg, "value encoding %d is not supported for this column", (int)enc);
      return FAIL(c, MS_ERR_UNSUPPORTED, msg);
    }
  }
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) bits = sign;
    else { /* subnormal: renormalise */
      int e = -1;
      do { e++; man <<= 1; } while (!(man & 0x400));
      bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | man << 13;
  } else {
    bits = sign | (exp - 15 + 127) << 23 | man << 13;
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static inline void put_dec(uint8_t *o, int64_t v) {
  uint64_t lo = (uint64_t)v, hi = v < 0 ? ~(uint64_t)0 : 0;
  memcpy(o, &lo, 8);
  memcpy(o + 8, &hi, 8);
}

/* Big-endian two's complement of n (1..16) bytes -> 16-byte little-endian. */
static inline void put_dec_be(uint8_t *o, const uint8_t *be, int64_t n) {
  uint8_t fill = n > 0 && (be[0] & 0x80) ? 0xff : 0x00;
  for (int64_t k = 0; k < 16; k++) o[k] = k < n ? be[n - 1 - k] : fill;
}

/* Writes page values into the output rows [r0, r0 + n) of the chunk, converting and
 * leaving zeroed slots for nulls. src holds nv dense physical values. */
static void emit_fixed(chunk_ctx *c, const uint8_t *src, int64_t nv, int64_t r0, int64_t n) {
  const pq_column *col = c->col;
  int pw = col->phys_width, ow = col->out_width;
  uint8_t *out = c->out->values + (c->out->row0 + r0) * ow;
  const uint8_t *valid = c->out->valid;
  bool dense = nv == n;
#define SPREAD(STMT)                                                              \
  do {                                                                            \
    if (dense) {                                                                  \
      for (int64_t i = 0, j = 0; i < n; i++, j++) { STMT; }                       \
    } else {                                                                      \
      int64_t j = 0;                                                              \
      for (int64_t i = 0; i < n; i++) {                                           \
        if (ms_bit_get(valid, r0 + i)) { STMT; j++; }                             \
        else memset(out + i * ow, 0, (size_t)ow);                                 \
      }                                                                           \
    }                                                                             \
  } while (0)
  switch (col->conv) {
    case PQ_CONV_COPY:
      if (dense) { if (src != out) memcpy(out, src, (size_t)(n * ow)); }
      else if (ow == 8) SPREAD(memcpy(out + i * 8, src + j * 8, 8));
      else if (ow == 4) SPREAD(memcpy(out + i * 4, src + j * 4, 4));
      else SPREAD(memcpy(out + i * ow, src + j * pw, (size_t)ow));
      break;
    case PQ_CONV_I32_TO_1: SPREAD(out[i] = (uint8_t)ld32(src + j * 4)); break;
    case PQ_CONV_I32_TO_2: SPREAD(uint16_t v = (uint16_t)ld32(src + j * 4); memcpy(out + i * 2, &v, 2)); break;
    case PQ_CONV_I32_DEC: SPREAD(put_dec(out + i * 16, (int32_t)ld32(src + j * 4))); break;
    case PQ_CONV_I64_DEC: SPREAD(put_dec(out + i * 16, (int64_t)ld64(src + j * 8))); break;
    case PQ_CONV_FIXED_DEC: SPREAD(put_dec_be(out + i * 16, src + j * pw, pw)); break;
    case PQ_CONV_INT96:
      /* 8 bytes nanoseconds of the day, then 4 bytes Julian day (2440588 = 1970-01-01).
       * Unsigned arithmetic: out-of-range days wrap instead of overflowing. */
      SPREAD(uint64_t ns = ld64(src + j * 12); int64_t day = (int32_t)ld32(src + j * 12 + 8);
             uint64_t t = (uint64_t)(day - 2440588) * UINT64_C(86400000000000) + ns;
             memcpy(out + i * 8, &t, 8));
      break;
    case PQ_CONV_F16:
      SPREAD(uint16_t h; memcpy(&h, src + j * 2, 2); float v = half_to_float(h); memcpy(out + i * 4, &v, 4));
      break;
    default: break;
  }
#undef SPREAD
}

/* ---------------- booleans ---------------- */

static ms_status values_bool(chunk_ctx *c, ms_pq_encoding enc, const uint8_t *p, int64_t len,
                             int64_t nv, int64_t r0, int64_t n) {
  const uint8_t *bits;
  uint8_t *tmp = NULL;
  if (enc == MS_PQ_ENC_PLAIN) {
    if ((nv + 7) / 8 > len) return FAIL(c, MS_ERR_CORRUPT, "PLAIN booleans extend past the page");
    bits = p;
  } else if (enc == MS_PQ_ENC_RLE) {
    if (len < 4) return FAIL(c, MS_ERR_CORRUPT, "RLE booleans without a length");
    uint32_t l = ld32(p);
    if (l > len - 4) return FAIL(c, MS_ERR_CORRUPT, "RLE booleans extend past the page");
    uint32_t *v = ms_pq__scratch(&c->w->idx, nv * 4);
    tmp = ms_pq__scratch(&c->w->phys, (nv + 7) / 8 + 1);
    if (!v || !tmp) return NOMEM(c);
    ms_pq_rle_decoder d;
    ms_pq_rle_init(&d, p + 4, l, 1);
    if (ms_pq_rle_get(&d, v, nv) != nv || d.error)
      return FAIL(c, MS_ERR_CORRUPT, "RLE booleans end before the page's values");
    memset(tmp, 0, (size_t)((nv + 7) / 8 + 1));
    for (int64_t i = 0; i < nv; i++) tmp[i >> 3] |= (uint8_t)((v[i] & 1) << (i & 7));
    bits = tmp;
  } else {
    return FAIL(c, MS_ERR_UNSUPPORTED, "boolean encoding other than PLAIN or RLE");
  }
  uint8_t *out = c->out->bools;
  const uint8_t *valid = c->out->valid;
  for (int64_t i = 0, j = 0; i < n; i++) {
    if (nv == n || ms_bit_get(valid, r0 + i)) {
      if (ms_bit_get(bits, j)) ms_bit_set(out, r0 + i);
      j++;
    }
  }
  return MS_OK;
}

/* ---------------- byte arrays ---------------- */

/* Appends nv dense byte-array values to `data` and writes nv + 1 offsets (relative to
 * data->size at entry) into offs. */
static ms_status dense_bytes(chunk_ctx *c, ms_pq_encoding enc, const uint8_t *p, int64_t len,
                             int64_t nv, ms_buffer *data, int64_t *offs) {
  int64_t base = data->size;
  offs[0] = 0;
  if (nv == 0) return MS_OK;
  switch (enc) {
    case MS_PQ_ENC_PLAIN: {
      if (nv > len / 4) return FAIL(c, MS_ERR_CORRUPT, "PLAIN byte arrays extend past the page");
      if (ms_buffer_reserve(data, base + len - 4 * nv) != MS_OK) return NOMEM(c);
      uint8_t *dst = data->data + base;
      const uint8_t *q = p, *end = p + len;
      int64_t at = 0;
      for (int64_t i = 0; i < nv; i++) {
        if (end - q < 4) return FAIL(c, MS_ERR_CORRUPT, "PLAIN byte array length is truncated");
        uint32_t l = ld32(q);
        q += 4;
        if (l > (uint64_t)(end - q)) return FAIL(c, MS_ERR_CORRUPT, "PLAIN byte array extends past the page");
        memcpy(dst + at, q, l);
        q += l;
        at += l;
        offs[i + 1] = at;
      }
      data->size = base + at;
      return MS_OK;
    }
    case MS_PQ_ENC_PLAIN_DICTIONARY: case MS_PQ_ENC_RLE_DICTIONARY: {
      uint32_t *ix;
      ms_status st = decode_indices(c, p, len, nv, &ix);
      if (st) return st;
      const int32_t *doff = c->dict.offsets;
      const uint8_t *dv = c->dict.values;
      int64_t total = 0;
      for (int64_t i = 0; i < nv; i++) total += doff[ix[i] + 1] - doff[ix[i]];
      if (ms_buffer_reserve(data, base + total) != MS_OK) return NOMEM(c);
      uint8_t *dst = data->data + base;
      int64_t at = 0;
      for (int64_t i = 0; i < nv; i++) {
        int32_t s = doff[ix[i]], l = doff[ix[i] + 1] - s;
        memcpy(dst + at, dv + s, (size_t)l);
        at += l;
        offs[i + 1] = at;
      }
      data->size = base + at;
      return MS_OK;
    }
    case MS_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: {
      int64_t used;
      ms_status st = ms_pq_delta_length_decode(p, len, nv, offs, data, &used, c->err);
      if (st) ms_error_set_byte_offset(c->err, c->page_pos);
      return st;
    }
    case MS_PQ_ENC_DELTA_BYTE_ARRAY: {
      ms_status st = ms_pq_delta_byte_array_decode(p, len, nv, offs, data, c->err);
      if (st) ms_error_set_byte_offset(c->err, c->page_pos);
      return st;
    }
    default: {
      char msg[80];
      snprintf(msg, sizeof msg, "value encoding %d is not supported for byte arrays", (int)enc);
      return FAIL(c, MS_ERR_UNSUPPORTED, msg);
    }
  }
}

static ms_status values_bytes(chunk_ctx *c, ms_pq_encoding enc, const uint8_t *p, int64_t len,
                              int64_t nv, int64_t r0, int64_t n) {
  int64_t *offs = ms_pq__scratch(&c->w->offs, (nv + 1) * 8);
  if (!offs) return NOMEM(c);
  const uint8_t *valid = c->out->valid;
  if (c->col->conv == PQ_CONV_BYTES_DEC) {
    /* Decode into a temporary buffer, then convert to 16-byte decimals. */
    ms_buffer *tmp = ms_buffer_create(len);
    if (!tmp) return NOMEM(c);
    ms_status st = dense_bytes(c, enc, p, len, nv, tmp, offs);
    if (st) { ms_buffer_release(tmp); return st; }
    uint8_t *out = c->out->values + (c->out->row0 + r0) * 16;
    for (int64_t i = 0, j = 0; i < n; i++) {
      if (nv == n || ms_bit_get(valid, r0 + i)) {
        int64_t l = offs[j + 1] - offs[j];
        if (l > 16) { ms_buffer_release(tmp); return FAIL(c, MS_ERR_CORRUPT, "decimal byte array longer than 16 bytes"); }
        put_dec_be(out + i * 16, tmp->data + offs[j], l);
        j++;
      } else {
        memset(out + i * 16, 0, 16);
      }
    }
    ms_buffer_release(tmp);
    return MS_OK;
  }
  ms_buffer *data = c->out->data;
  int64_t base = data->size;
  ms_status st = dense_bytes(c, enc, p, len, nv, data, offs);
  if (st) return st;
  if (data->size > INT32_MAX)
    return FAIL(c, MS_ERR_LIMIT, "more than 2 GiB of byte-array data in one column chunk");
  int32_t *ends = c->out->ends + c->out->row0 + r0 + 1;
  if (nv == n) {
    for (int64_t i = 0; i < n; i++) ends[i] = (int32_t)(base + offs[i + 1]);
  } else {
    int32_t cur = (int32_t)base;
    for (int64_t i = 0, j = 0; i < n; i++) {
      if (ms_bit_get(valid, r0 + i)) cur = (int32_t)(base + offs[++j]);
      ends[i] = cur;
    }
  }
  return MS_OK;
}

/* ---------------- pages ---------------- */

static ms_status read_dictionary(chunk_ctx *c, const ms_pq_page_header *h, const uint8_t *page,
                                 int32_t codec) {
  if (c->dict.present) return FAIL(c, MS_ERR_CORRUPT, "second dictionary page in a column chunk");
  if (!h->has_dictionary_page_header) return FAIL(c, MS_ERR_CORRUPT, "dictionary page without its header");
  const ms_pq_dictionary_page_header *dh = &h->dictionary_page_header;
  if (dh->encoding != MS_PQ_ENC_PLAIN && dh->encoding != MS_PQ_ENC_PLAIN_DICTIONARY)
    return FAIL(c, MS_ERR_UNSUPPORTED, "dictionary page encoding other than PLAIN");
  int64_t n = dh->num_values, len = h->uncompressed_page_size;
  if (n < 0) return FAIL(c, MS_ERR_CORRUPT, "negative dictionary size");
  const uint8_t *p = page;
  if (codec != MS_CODEC_UNCOMPRESSED) {
    uint8_t *buf = ms_pq__scratch(&c->w->dict_raw, len);
    if (!buf) return NOMEM(c);
    ms_status st = ms_decompress((ms_codec)codec, page, h->compressed_page_size, buf, len, c->err);
    if (st) { ms_error_set_byte_offset(c->err, c->page_pos); return st; }
    p = buf;
  } else {
    len = h->compressed_page_size < len ? h->compressed_page_size : len;
  }
  const pq_column *col = c->col;
  if (col->phys == MS_PQ_BOOLEAN) return FAIL(c, MS_ERR_CORRUPT, "dictionary page on a boolean column");
  if (col->phys == MS_PQ_BYTE_ARRAY) {
    if (n > len / 4) return FAIL(c, MS_ERR_CORRUPT, "dictionary has more values than bytes");
    int32_t *offs = ms_pq__scratch(&c->w->dict, (n + 1) * 4);
    if (!offs) return NOMEM(c);
    /* The values are copied without their length prefixes so that value i is
     * vals[offs[i] .. offs[i + 1]) and gathers are plain memcpys. */
    uint8_t *vals = ms_pq__scratch(&c->w->dict_vals, len);
    if (!vals) return NOMEM(c);
    const uint8_t *q = p, *end = p + len;
    int32_t at = 0;
    offs[0] = 0;
    for (int64_t i = 0; i < n; i++) {
      if (end - q < 4) return FAIL(c, MS_ERR_CORRUPT, "dictionary value length is truncated");
      uint32_t l = ld32(q);
      q += 4;
      if (l > (uint64_t)(end - q)) return FAIL(c, MS_ERR_CORRUPT, "dictionary value extends past the page");
      memcpy(vals + at, q, l);
      q += l;
      at += (int32_t)l;
      offs[i + 1] = at;
    }
    c->dict.offsets = offs;
    c->dict.values = vals;
    /* Size the chunk's string buffer from the dictionary's mean length so that gathers
     * rarely regrow it (each regrowth copies everything decoded so far). */
    ms_buffer *data = c->out->data;
    if (data && n > 0) {
      int64_t want = data->size + c->out->rows * ((int64_t)at / n + 1);
      if (want > ((int64_t)256 << 20)) want = (int64_t)256 << 20; /* a hint, not a promise */
      if (want > data->capacity) ms_buffer_reserve(data, want);
    }
  } else {
    if (n > len / col->phys_width) return FAIL(c, MS_ERR_CORRUPT, "dictionary has more values than bytes");
    c->dict.values = p;
  }
  c->dict.n = n;
  c->dict.present = true;
  return MS_OK;
}

/* Values of a page: dispatch on the column kind. r0 = first local row, n = rows in page,
 * nv = non-null values. */
static ms_status page_values(chunk_ctx *c, ms_pq_encoding enc, const uint8_t *p, int64_t len,
                             int64_t nv, int64_t r0, int64_t n) {
  const pq_column *col = c->col;
  if (col->conv == PQ_CONV_BOOL) return values_bool(c, enc, p, len, nv, r0, n);
  if (col->phys == MS_PQ_BYTE_ARRAY) return values_bytes(c, enc, p, len, nv, r0, n);
  uint8_t *hint = NULL;
  if (nv == n && col->conv == PQ_CONV_COPY) hint = c->out->values + (c->out->row0 + r0) * col->out_width;
  const uint8_t *src;
  ms_status st = dense_fixed(c, enc, p, len, nv, hint, &src);
  if (st) return st;
  emit_fixed(c, src, nv, r0, n);
  return MS_OK;
}

/* True when a page's decompressed values are byte for byte its output slice. */
static bool direct_ok(const pq_column *col, ms_pq_encoding enc, int64_t n, int64_t nv, int64_t bytes) {
  return enc == MS_PQ_ENC_PLAIN && nv == n && col->conv == PQ_CONV_COPY && col->phys_width > 0 &&
         bytes == n * col->phys_width;
}

ms_status ms_pq__decode_chunk(ms_pq_file *f, int rg, const pq_column *col, pq_worker *w,
                              pq_chunk_out *out, ms_error *err) {
  const ms_pq_column_chunk *cc = &f->md.row_groups[rg].columns[col->leaf];
  chunk_ctx c = {f, col, w, out, err, -1, {0}};
  if (!cc->has_meta_data) return FAIL(&c, MS_ERR_CORRUPT, "column chunk without metadata");
  if (cc->file_path) return FAIL(&c, MS_ERR_UNSUPPORTED, "column chunk stored in another file");
  const ms_pq_column_meta *m = &cc->meta_data;
  if (m->type != col->phys) return FAIL(&c, MS_ERR_CORRUPT, "column chunk type differs from the schema");
  int32_t codec = m->codec;
  if (codec < 0 || codec > MS_CODEC_LZ4_RAW) return FAIL(&c, MS_ERR_CORRUPT, "unknown compression codec");
  if (codec == MS_CODEC_LZO) return FAIL(&c, MS_ERR_UNSUPPORTED, "LZO compression is not supported");
  int64_t start = m->data_page_offset;
  if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0 && m->dictionary_page_offset < start)
    start = m->dictionary_page_offset;
  int64_t clen = m->total_compressed_size;
  c.page_pos = start;
  if (start < 4 || clen < 0 || start > f->size || clen > f->size - start)
    return FAIL(&c, MS_ERR_CORRUPT, "column chunk lies outside the file");
  const uint8_t *base;
  if (f->data) {
    base = f->data + start;
  } else {
    uint8_t *buf = ms_pq__scratch(&w->chunk, clen);
    if (!buf) return NOMEM(&c);
    ms_status st = ms_file_read_at(f->file, start, clen, buf, err);
    if (st) { ms_error_set_byte_offset(err, start); return st; }
    base = buf;
  }
  out->bytes_read += clen;
  int64_t rows = out->rows, done = 0, pos = 0;
  int64_t max_usize = m->total_uncompressed_size;
  while (done < rows) {
    c.page_pos = start + pos;
    if (pos >= clen) {
      char msg[128];
      snprintf(msg, sizeof msg, "column chunk ends after %lld of %lld values", (long long)done, (long long)rows);
      return FAIL(&c, MS_ERR_CORRUPT, msg);
    }
    ms_pq_page_header h;
    int64_t hl;
    ms_status st = ms_pq_page_header_decode(base + pos, clen - pos, &h, &hl, err);
    if (st) { if (err) err->byte_offset = err->byte_offset >= 0 ? err->byte_offset + start + pos : start + pos; return st; }
    pos += hl;
    c.page_pos = start + pos;
    int64_t comp = h.compressed_page_size, usize = h.uncompressed_page_size;
    if (comp > clen - pos) return FAIL(&c, MS_ERR_CORRUPT, "page is larger than the rest of its column chunk");
    /* Uncompressed sizes are bounded by what the chunk declares and by a generous
     * maximum compression ratio, before any allocation. */
    if ((max_usize > 0 && usize > max_usize) || usize > comp * 40000 + (1 << 20))
      return FAIL(&c, MS_ERR_CORRUPT, "page claims an uncompressed size larger than its column chunk");
    const uint8_t *page = base + pos;
    pos += comp;
    if (h.type == MS_PQ_PAGE_DICTIONARY) {
      st = read_dictionary(&c, &h, page, codec);
      if (st) return st;
      continue;
    }
    if (h.type != MS_PQ_PAGE_DATA && h.type != MS_PQ_PAGE_DATA_V2) continue; /* index pages */
    int64_t n, nv;
    ms_pq_encoding enc;
    const uint8_t *vals;
    int64_t vlen;
    if (h.type == MS_PQ_PAGE_DATA) {
      if (!h.has_data_page_header) return FAIL(&c, MS_ERR_CORRUPT, "data page without its header");
      const ms_pq_data_page_header *dh = &h.data_page_header;
      n = dh->num_values;
      enc = dh->encoding;
      if (n < 0 || n > rows - done) return FAIL(&c, MS_ERR_CORRUPT, "data page holds more values than rows remain");
      const uint8_t *pp = page;
      int64_t pl = comp;
      if (codec != MS_CODEC_UNCOMPRESSED && col->max_def == 0 && direct_ok(col, enc, n, n, usize)) {
        st = ms_decompress((ms_codec)codec, page, comp, out->values + (out->row0 + done) * col->out_width,
                           usize, err);
        if (st) { ms_error_set_byte_offset(err, c.page_pos); return st; }
        done += n;
        continue;
      }
      if (codec != MS_CODEC_UNCOMPRESSED) {
        uint8_t *buf = ms_pq__scratch(&w->page, usize);
        if (!buf) return NOMEM(&c);
        st = ms_decompress((ms_codec)codec, page, comp, buf, usize, err);
        if (st) { ms_error_set_byte_offset(err, c.page_pos); return st; }
        pp = buf;
        pl = usize;
      }
      if (col->max_def > 0) {
        if (dh->definition_level_encoding == MS_PQ_ENC_RLE) {
          if (pl < 4) return FAIL(&c, MS_ERR_CORRUPT, "definition levels without a length");
          uint32_t l = ld32(pp);
          if (l > pl - 4) return FAIL(&c, MS_ERR_CORRUPT, "definition levels extend past the page");
          st = decode_levels(&c, pp + 4, l, true, done, n, &nv);
          pp += 4 + (int64_t)l;
          pl -= 4 + (int64_t)l;
        } else if (dh->definition_level_encoding == MS_PQ_ENC_BIT_PACKED) {
          int64_t l = (n + 7) / 8;
          st = decode_levels(&c, pp, pl, false, done, n, &nv);
          pp += l;
          pl -= l;
        } else {
          return FAIL(&c, MS_ERR_UNSUPPORTED, "definition level encoding other than RLE or BIT_PACKED");
        }
        if (st) return st;
      } else {
        nv = n;
      }
      vals = pp;
      vlen = pl;
    } else {
      if (!h.has_data_page_header_v2) return FAIL(&c, MS_ERR_CORRUPT, "data page v2 without its header");
      const ms_pq_data_page_header_v2 *dh = &h.data_page_header_v2;
      n = dh->num_values;
      enc = dh->encoding;
      if (n < 0 || n > rows - done) return FAIL(&c, MS_ERR_CORRUPT, "data page holds more values than rows remain");
      int64_t rl = dh->repetition_levels_byte_length, dl = dh->definition_levels_byte_length;
      if (rl < 0 || dl < 0 || rl + dl > comp || rl + dl > usize)
        return FAIL(&c, MS_ERR_CORRUPT, "level lengths exceed the page");
      if (rl != 0) return FAIL(&c, MS_ERR_CORRUPT, "repetition levels in a flat column");
      if (col->max_def > 0) {
        st = decode_levels(&c, page, dl, true, done, n, &nv);
        if (st) return st;
      } else {
        nv = n;
      }
      vals = page + rl + dl;
      vlen = comp - rl - dl;
      if (dh->is_compressed && codec != MS_CODEC_UNCOMPRESSED && direct_ok(col, enc, n, nv, usize - rl - dl)) {
        /* The values are exactly the output slice: decompress straight into it. */
        st = ms_decompress((ms_codec)codec, vals, vlen, out->values + (out->row0 + done) * col->out_width,
                           usize - rl - dl, err);
        if (st) { ms_error_set_byte_offset(err, c.page_pos); return st; }
        if (col->max_def > 0) out->null_count += n - nv;
        done += n;
        continue;
      }
      if (dh->is_compressed && codec != MS_CODEC_UNCOMPRESSED) {
        int64_t ul = usize - rl - dl;
        uint8_t *buf = ms_pq__scratch(&w->page, ul);
        if (!buf) return NOMEM(&c);
        st = ms_decompress((ms_codec)codec, vals, vlen, buf, ul, err);
        if (st) { ms_error_set_byte_offset(err, c.page_pos); return st; }
        vals = buf;
        vlen = ul;
      }
    }
    st = page_values(&c, enc, vals, vlen, nv, done, n);
    if (st) return st;
    if (col->max_def > 0) out->null_count += n - nv;
    done += n;
  }
  return MS_OK;
}
