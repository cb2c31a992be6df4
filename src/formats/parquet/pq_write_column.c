/* Parquet column-chunk encoder: turns rows [off, off + n) of one core column into the bytes
 * of a column chunk (an optional dictionary page followed by data pages), plus the facts
 * the footer needs (sizes, encodings, statistics). One call runs on one worker thread and
 * touches nothing shared, so the writer can encode the columns of a row group in parallel.
 *
 * Type mapping (ms_pq_wcol_plan): bool -> BOOLEAN; int8/16/32 -> INT32 + INTEGER(bits,
 * signed); uint8/16/32 -> INT32 + INTEGER(bits, unsigned) (uint32 keeps its bit pattern);
 * int64 -> INT64; uint64 -> INT64 + INTEGER(64, unsigned); float32/64 -> FLOAT/DOUBLE;
 * utf8 -> BYTE_ARRAY + STRING; binary -> BYTE_ARRAY; date32 -> INT32 + DATE; timestamp ->
 * INT64 + TIMESTAMP(unit, isAdjustedToUTC = tz non-empty). Parquet has no seconds unit, so
 * timestamp[s] is written as MILLIS with values multiplied by 1000 (a reader gets
 * timestamp[ms]; the original unit is not recorded). decimal128(p, s) -> INT32 (p <= 9),
 * INT64 (p <= 18) or FIXED_LEN_BYTE_ARRAY of the fewest big-endian bytes that hold p
 * digits, + DECIMAL; fixed_binary(n) -> FIXED_LEN_BYTE_ARRAY(n); the null type -> INT32 +
 * UNKNOWN, all values null. Legacy converted types are set where one exists (UTC timestamps
 * only, as Arrow does, since old readers take TIMESTAMP_* as UTC).
 *
 * Method. Non-null values are first gathered into PLAIN physical form (a pointer into the
 * column when the layout already matches and there are no nulls). With dictionary encoding
 * on, values are hashed into a dictionary (open addressing; xxh3 for byte strings, a
 * multiplicative hash for 4/8-byte values) producing one index per value; no allocation per
 * value. After a sample the dictionary is dropped when most values are distinct (it would
 * not pay); when its PLAIN size would pass dictionary_limit, the rows before that value are
 * written as RLE_DICTIONARY pages and the rest of the chunk falls back to PLAIN pages.
 * Pages are cut by page_bytes at multiples of 8 rows. Definition levels (optional columns)
 * are RLE/bit-packed straight from the validity bitmap; dictionary indices use the same
 * hybrid with runs detected. Bodies are compressed with the chosen codec; v2 pages keep
 * levels uncompressed. Statistics follow the column's sort order: signed or unsigned
 * integers, floats without NaN and with a zero min written as -0.0 and a zero max as +0.0,
 * byte strings by unsigned bytes, FLBA decimals signed. */
#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "formats/compress.h"
#include "formats/parquet/pq_write.h"

/* ---------------- type mapping ---------------- */

static int32_t decimal_flba_width(int32_t precision) {
  /* fewest bytes n with 10^p - 1 <= 2^(8n - 1) - 1 */
  double need = (double)precision * 3.321928094887362 + 1.0; /* bits incl. sign */
  int32_t n = (int32_t)ceil(need / 8.0);
  return n < 1 ? 1 : (n > 16 ? 16 : n);
}

ms_status ms_pq_wcol_plan(const ms_field *f, bool required, ms_pq_wcol *w,
                          ms_pq_schema_element *e, ms_error *err) {
  memset(w, 0, sizeof *w);
  memset(e, 0, sizeof *e);
  w->name = f->name;
  w->type = f->type;
  w->required = required;
  e->name = f->name;
  e->has_type = true;
  e->has_repetition = true;
  e->repetition = required ? MS_PQ_REQUIRED : MS_PQ_OPTIONAL;
  e->converted_type = MS_PQ_CT_NONE;
  ms_pq_logical_type *lt = &e->logical;
  const ms_datatype *t = &f->type;
  switch (t->id) {
    case MS_TYPE_NULL:
      w->phys = MS_PQ_INT32; w->width = 4; w->conv = MS_PQ_CV_NULL; w->sort = MS_PQ_SORT_NONE;
      lt->kind = MS_PQ_LT_UNKNOWN;
      w->required = false;
      e->repetition = MS_PQ_OPTIONAL;
      break;
    case MS_TYPE_BOOL:
      w->phys = MS_PQ_BOOLEAN; w->conv = MS_PQ_CV_BOOL; w->sort = MS_PQ_SORT_BOOL;
      break;
    case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32:
      w->phys = MS_PQ_INT32; w->width = 4; w->sort = MS_PQ_SORT_I32; w->legacy_stats = true;
      w->conv = t->id == MS_TYPE_INT8 ? MS_PQ_CV_I8 : t->id == MS_TYPE_INT16 ? MS_PQ_CV_I16 : MS_PQ_CV_COPY4;
      lt->kind = MS_PQ_LT_INTEGER;
      lt->int_is_signed = true;
      lt->int_bit_width = (int8_t)(t->id == MS_TYPE_INT8 ? 8 : t->id == MS_TYPE_INT16 ? 16 : 32);
      e->converted_type = t->id == MS_TYPE_INT8 ? MS_PQ_CT_INT_8 : t->id == MS_TYPE_INT16 ? MS_PQ_CT_INT_16 : MS_PQ_CT_INT_32;
      break;
    case MS_TYPE_UINT8: case MS_TYPE_UINT16: case MS_TYPE_UINT32:
      w->phys = MS_PQ_INT32; w->width = 4; w->sort = MS_PQ_SORT_U32;
      w->conv = t->id == MS_TYPE_UINT8 ? MS_PQ_CV_U8 : t->id == MS_TYPE_UINT16 ? MS_PQ_CV_U16 : MS_PQ_CV_COPY4;
      lt->kind = MS_PQ_LT_INTEGER;
      lt->int_is_signed = false;
      lt->int_bit_width = (int8_t)(t->id == MS_TYPE_UINT8 ? 8 : t->id == MS_TYPE_UINT16 ? 16 : 32);
      e->converted_type = t->id == MS_TYPE_UINT8 ? MS_PQ_CT_UINT_8 : t->id == MS_TYPE_UINT16 ? MS_PQ_CT_UINT_16 : MS_PQ_CT_UINT_32;
      break;
    case MS_TYPE_INT64:
      w->phys = MS_PQ_INT64; w->width = 8; w->conv = MS_PQ_CV_COPY8; w->sort = MS_PQ_SORT_I64;
      w->legacy_stats = true;
      break;
    case MS_TYPE_UINT64:
      w->phys = MS_PQ_INT64; w->width = 8; w->conv = MS_PQ_CV_COPY8; w->sort = MS_PQ_SORT_U64;
      lt->kind = MS_PQ_LT_INTEGER;
      lt->int_bit_width = 64;
      lt->int_is_signed = false;
      e->converted_type = MS_PQ_CT_UINT_64;
      break;
    case MS_TYPE_FLOAT32:
      w->phys = MS_PQ_FLOAT; w->width = 4; w->conv = MS_PQ_CV_COPY4; w->sort = MS_PQ_SORT_F32;
      w->legacy_stats = true;
      break;
    case MS_TYPE_FLOAT64:
      w->phys = MS_PQ_DOUBLE; w->width = 8; w->conv = MS_PQ_CV_COPY8; w->sort = MS_PQ_SORT_F64;
      w->legacy_stats = true;
      break;
    case MS_TYPE_UTF8: case MS_TYPE_LARGE_UTF8:
    case MS_TYPE_BINARY: case MS_TYPE_LARGE_BINARY:
      w->phys = MS_PQ_BYTE_ARRAY; w->sort = MS_PQ_SORT_BYTES;
      w->conv = ms_type_is_large(t) ? MS_PQ_CV_LBYTES : MS_PQ_CV_BYTES;
      if (ms_type_is_string(t)) {
        lt->kind = MS_PQ_LT_STRING;
        e->converted_type = MS_PQ_CT_UTF8;
      }
      break;
    case MS_TYPE_DATE32:
      w->phys = MS_PQ_INT32; w->width = 4; w->conv = MS_PQ_CV_COPY4; w->sort = MS_PQ_SORT_I32;
      w->legacy_stats = true;
      lt->kind = MS_PQ_LT_DATE;
      e->converted_type = MS_PQ_CT_DATE;
      break;
    case MS_TYPE_TIMESTAMP:
      w->phys = MS_PQ_INT64; w->width = 8; w->sort = MS_PQ_SORT_I64; w->legacy_stats = true;
      w->conv = t->unit == MS_UNIT_SECOND ? MS_PQ_CV_TS_SECONDS : MS_PQ_CV_COPY8;
      lt->kind = MS_PQ_LT_TIMESTAMP;
      lt->is_adjusted_to_utc = t->tz[0] != '\0';
      lt->unit = t->unit == MS_UNIT_MICRO ? MS_PQ_TU_MICROS
               : t->unit == MS_UNIT_NANO ? MS_PQ_TU_NANOS : MS_PQ_TU_MILLIS;
      if (lt->is_adjusted_to_utc && lt->unit == MS_PQ_TU_MILLIS) e->converted_type = MS_PQ_CT_TIMESTAMP_MILLIS;
      if (lt->is_adjusted_to_utc && lt->unit == MS_PQ_TU_MICROS) e->converted_type = MS_PQ_CT_TIMESTAMP_MICROS;
      break;
    case MS_TYPE_DECIMAL128:
      if (t->precision < 1 || t->precision > 38 || t->scale < 0 || t->scale > t->precision)
        return ms_error_set(err, MS_ERR_INVALID, "column '%s': decimal128(%d, %d) cannot be written to Parquet",
                            f->name, t->precision, t->scale);
      if (t->precision <= 9) {
        w->phys = MS_PQ_INT32; w->width = 4; w->conv = MS_PQ_CV_DEC32; w->sort = MS_PQ_SORT_I32;
      } else if (t->precision <= 18) {
        w->phys = MS_PQ_INT64; w->width = 8; w->conv = MS_PQ_CV_DEC64; w->sort = MS_PQ_SORT_I64;
      } else {
        w->phys = MS_PQ_FIXED_LEN_BYTE_ARRAY; w->width = decimal_flba_width(t->precision);
        w->conv = MS_PQ_CV_DEC_FLBA; w->sort = MS_PQ_SORT_FLBA_SIGNED;
        e->type_length = w->width;
      }
      lt->kind = MS_PQ_LT_DECIMAL;
      lt->decimal_precision = t->precision;
      lt->decimal_scale = t->scale;
      e->converted_type = MS_PQ_CT_DECIMAL;
      e->precision = t->precision;
      e->scale = t->scale;
      break;
    case MS_TYPE_FIXED_BINARY:
      if (t->byte_width <= 0)
        return ms_error_set(err, MS_ERR_INVALID, "column '%s': fixed_binary(%d) cannot be written to Parquet",
                            f->name, t->byte_width);
      w->phys = MS_PQ_FIXED_LEN_BYTE_ARRAY; w->width = t->byte_width; w->conv = MS_PQ_CV_FLBA;
      w->sort = MS_PQ_SORT_BYTES;
      e->type_length = t->byte_width;
      break;
    default:
      return ms_error_set(err, MS_ERR_UNSUPPORTED, "column '%s': type %d cannot be written to Parquet",
                          f->name, (int)t->id);
  }
  e->type = w->phys;
  return MS_OK;
}

/* ---------------- small helpers ---------------- */

static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Set bits of bits[start, start + n). */
static int64_t count_range(const uint8_t *bits, int64_t start, int64_t n) {
  int64_t c = 0, i = start, end = start + n;
  while (i < end && (i & 7)) c += ms_bit_get(bits, i++);
  for (; i + 64 <= end; i += 64) c += __builtin_popcountll(ld64(bits + i / 8));
  for (; i + 8 <= end; i += 8) c += __builtin_popcount(bits[i / 8]);
  while (i < end) c += ms_bit_get(bits, i++);
  return c;
}

/* 8 bits of src starting at bit pos (bits past `end` read as 0). */
static inline uint8_t get_byte(const uint8_t *src, int64_t pos, int64_t end) {
  int64_t b = pos >> 3;
  int sh = (int)(pos & 7);
  unsigned v = src[b] >> sh;
  if (sh && pos + 8 - sh < end) v |= (unsigned)src[b + 1] << (8 - sh);
  int64_t avail = end - pos;
  if (avail < 8) v &= (1u << avail) - 1;
  return (uint8_t)v;
}

/* dst (byte aligned, zero padded) = src bits [pos, pos + n). */
static void copy_bits(uint8_t *dst, const uint8_t *src, int64_t pos, int64_t n) {
  int64_t nbytes = (n + 7) / 8;
  if ((pos & 7) == 0) {
    memcpy(dst, src + pos / 8, (size_t)nbytes);
    if (n & 7) dst[nbytes - 1] &= (uint8_t)((1u << (n & 7)) - 1);
    return;
  }
  for (int64_t i = 0; i < nbytes; i++) dst[i] = get_byte(src, pos + i * 8, pos + n);
}

static uint8_t *put_uvarint(uint8_t *p, uint64_t v) {
  while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
  *p++ = (uint8_t)v;
  return p;
}

static int bit_width32(uint32_t v) { return v ? 32 - __builtin_clz(v) : 0; }

/* ---------------- level and index encodings (RLE / bit-packing hybrid) ---------------- */

/* Definition levels (bit width 1) of rows [start, start + n) straight from the validity
 * bitmap: runs of >= 16 equal bits become RLE runs, the rest bit-packed bytes (at most 63
 * groups per run, as other writers do). Output is at most n/8 + n/64 + 32 bytes. */
static ms_status enc_def_levels(const uint8_t *validity, int64_t start, int64_t n,
                                int64_t nulls, ms_buffer *out) {
  ms_status st = ms_buffer_reserve(out, out->size + n / 8 + n / 64 + 32);
  if (st) return st;
  uint8_t *p = out->data + out->size;
  if (nulls == 0 || nulls == n) {
    p = put_uvarint(p, (uint64_t)n << 1);
    *p++ = nulls == 0 ? 1 : 0;
    out->size = p - out->data;
    return MS_OK;
  }
  int64_t end = start + n, nbytes = (n + 7) / 8, j = 0;
  uint8_t lit[63];
  int nlit = 0;
  while (j < nbytes) {
    uint8_t b = get_byte(validity, start + j * 8, end);
    bool full = j * 8 + 8 <= n;
    if (full && (b == 0 || b == 0xFF)) {
      int64_t k = j + 1;
      while (k < nbytes && (k * 8 + 8 <= n) && get_byte(validity, start + k * 8, end) == b) k++;
      if (k - j >= 2) {
        if (nlit) {
          p = put_uvarint(p, ((uint64_t)nlit << 1) | 1);
          memcpy(p, lit, (size_t)nlit);
          p += nlit;
          nlit = 0;
        }
        p = put_uvarint(p, (uint64_t)((k - j) * 8) << 1);
        *p++ = b ? 1 : 0;
        j = k;
        continue;
      }
    }
    lit[nlit++] = b;
    if (nlit == 63) {
      p = put_uvarint(p, ((uint64_t)nlit << 1) | 1);
      memcpy(p, lit, (size_t)nlit);
      p += nlit;
      nlit = 0;
    }
    j++;
  }
  if (nlit) {
    p = put_uvarint(p, ((uint64_t)nlit << 1) | 1);
    memcpy(p, lit, (size_t)nlit);
    p += nlit;
  }
  out->size = p - out->data;
  return MS_OK;
}

/* Bit-packs count values (count a multiple of 8, v may be read up to count) LSB first. */
static uint8_t *pack_bits(uint8_t *p, const uint32_t *v, int64_t count, int bw) {
  uint64_t acc = 0;
  int bits = 0;
  for (int64_t i = 0; i < count; i++) {
    acc |= (uint64_t)v[i] << bits;
    bits += bw;
    while (bits >= 8) { *p++ = (uint8_t)acc; acc >>= 8; bits -= 8; }
  }
  return p;
}

static uint8_t *emit_literal(uint8_t *p, const uint32_t *v, int64_t count, int64_t avail, int bw) {
  /* count values from v, of which only `avail` exist; runs of at most 504 values */
  uint32_t tail[8];
  while (count > 0) {
    int64_t take = count > 504 ? 504 : count;
    int64_t groups = (take + 7) / 8;
    p = put_uvarint(p, ((uint64_t)groups << 1) | 1);
    int64_t full = avail >= groups * 8 ? groups * 8 : (avail / 8) * 8;
    p = pack_bits(p, v, full, bw);
    if (full < groups * 8) {
      memset(tail, 0, sizeof tail);
      for (int64_t i = full; i < avail && i < groups * 8; i++) tail[i - full] = v[i];
      p = pack_bits(p, tail, 8, bw);
    }
    v += take;
    avail -= take;
    count -= take;
  }
  return p;
}

/* Dictionary indices as the hybrid encoding with bit width bw (without the width byte). */
static ms_status enc_indices(const uint32_t *v, int64_t n, int bw, ms_buffer *out) {
  int64_t bound = n * bw / 8 + (n / 8 + 2) * 12 + 64 + bw;
  ms_status st = ms_buffer_reserve(out, out->size + bound);
  if (st) return st;
  uint8_t *p = out->data + out->size;
  int vbytes = (bw + 7) / 8;
  int64_t pos = 0, lit = 0;
  while (pos < n) {
    int64_t e = pos + 1;
    uint32_t x = v[pos];
    while (e < n && v[e] == x) e++;
    int64_t run = e - pos;
    if (run >= 8) {
      /* pad the pending literals to a whole group with values of this run */
      int64_t nl = pos - lit, pad = (8 - nl % 8) % 8;
      if (nl > 0) {
        if (pad > run) pad = run;
        p = emit_literal(p, v + lit, nl + pad, nl + pad, bw);
        pos += pad;
        run -= pad;
      }
      if (run > 0) {
        p = put_uvarint(p, (uint64_t)run << 1);
        for (int b = 0; b < vbytes; b++) *p++ = (uint8_t)(x >> (8 * b));
      }
      pos = e;
      lit = e;
    } else {
      pos = e;
    }
  }
  if (lit < n) p = emit_literal(p, v + lit, n - lit, n - lit, bw);
  out->size = p - out->data;
  return MS_OK;
}

/* ---------------- gathering PLAIN values ---------------- */

static inline void conv_one(const ms_pq_wcol *wc, const uint8_t *src, int64_t row, uint8_t *dst,
                            bool *overflow) {
  switch (wc->conv) {
    case MS_PQ_CV_COPY4: memcpy(dst, src + row * 4, 4); break;
    case MS_PQ_CV_COPY8: memcpy(dst, src + row * 8, 8); break;
    case MS_PQ_CV_I8: { int32_t x = ((const int8_t *)src)[row]; memcpy(dst, &x, 4); break; }
    case MS_PQ_CV_I16: { int16_t s; memcpy(&s, src + row * 2, 2); int32_t x = s; memcpy(dst, &x, 4); break; }
    case MS_PQ_CV_U8: { int32_t x = src[row]; memcpy(dst, &x, 4); break; }
    case MS_PQ_CV_U16: { uint16_t s; memcpy(&s, src + row * 2, 2); int32_t x = s; memcpy(dst, &x, 4); break; }
    case MS_PQ_CV_TS_SECONDS: {
      int64_t s, x;
      memcpy(&s, src + row * 8, 8);
      if (__builtin_mul_overflow(s, (int64_t)1000, &x)) *overflow = true;
      memcpy(dst, &x, 8);
      break;
    }
    case MS_PQ_CV_DEC32: memcpy(dst, src + row * 16, 4); break; /* little-endian low bytes */
    case MS_PQ_CV_DEC64: memcpy(dst, src + row * 16, 8); break;
    case MS_PQ_CV_DEC_FLBA: {
      const uint8_t *s = src + row * 16;
      for (int i = 0; i < wc->width; i++) dst[i] = s[wc->width - 1 - i];
      break;
    }
    case MS_PQ_CV_FLBA: memcpy(dst, src + row * wc->width, (size_t)wc->width); break;
    default: break;
  }
}

/* ---------------- dictionary ---------------- */

typedef struct dict {
  uint32_t *slots;      /* entry index + 1, 0 = empty */
  uint64_t mask;        /* slots in use - 1 (0 before the first grow) */
  uint64_t slots_cap;
  uint64_t *hashes;     /* per entry (byte strings, FLBA) */
  int64_t *offs;        /* start of entry i's bytes in vals */
  int64_t ent_cap;
  ms_buffer *vals;      /* PLAIN encoding of the entries (the dictionary page body) */
  uint32_t count;
} dict;

/* Per-worker scratch, reused from chunk to chunk so that steady-state encoding allocates
 * (and page-faults) nothing. */
struct ms_pq_wscratch {
  ms_buffer *body, *lev, *cbuf;
  uint32_t *idx;
  int64_t idx_cap;
  uint8_t *pv;
  int64_t pv_cap;
  dict d;
};

ms_pq_wscratch *ms_pq_wscratch_create(void) {
  ms_pq_wscratch *s = ms_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->body = ms_buffer_create(1 << 16);
  s->lev = ms_buffer_create(1 << 12);
  s->cbuf = ms_buffer_create(1 << 16);
  s->d.vals = ms_buffer_create(1 << 14);
  if (!s->body || !s->lev || !s->cbuf || !s->d.vals) {
    ms_pq_wscratch_destroy(s);
    return NULL;
  }
  return s;
}

void ms_pq_wscratch_destroy(ms_pq_wscratch *s) {
  if (!s) return;
  ms_buffer_release(s->body);
  ms_buffer_release(s->lev);
  ms_buffer_release(s->cbuf);
  ms_buffer_release(s->d.vals);
  ms_free(s->d.slots);
  ms_free(s->d.hashes);
  ms_free(s->d.offs);
  ms_free(s->idx);
  ms_free(s->pv);
  ms_free(s);
}

/* Makes *p hold at least need elements; contents are not kept. */
static bool ensure(void **p, int64_t *cap, int64_t need, size_t elem) {
  if (need <= *cap) return true;
  int64_t nc = need + need / 4 + 64;
  void *np = ms_malloc((size_t)nc * elem);
  if (!np) return false;
  ms_free(*p);
  *p = np;
  *cap = nc;
  return true;
}

static inline uint64_t hash64(uint64_t x) {
  x *= 0x9E3779B97F4A7C15ull;
  return x ^ (x >> 29);
}

static uint64_t entry_hash(const dict *d, int width, uint32_t i) {
  if (width == 8) return hash64(ld64(d->vals->data + (int64_t)i * 8));
  if (width == 4) return hash64(ld32(d->vals->data + (int64_t)i * 4));
  return d->hashes[i];
}

static void dict_reset(dict *d) {
  d->mask = 0;
  d->count = 0;
  d->vals->size = 0;
}

/* Doubles the slot table (1024 slots at first) and reinserts the entries. */
static ms_status dict_grow(dict *d, int width) {
  uint64_t ncap = d->mask ? (d->mask + 1) * 2 : 1024;
  if (ncap > d->slots_cap) {
    uint32_t *ns = ms_malloc(ncap * sizeof *ns);
    if (!ns) return MS_ERR_NOMEM;
    ms_free(d->slots);
    d->slots = ns;
    d->slots_cap = ncap;
  }
  memset(d->slots, 0, ncap * sizeof *d->slots);
  if (width != 4 && width != 8) {
    int64_t need = (int64_t)(ncap / 2) + 1;
    if (need > d->ent_cap) {
      uint64_t *nh = ms_realloc(d->hashes, (size_t)need * sizeof *nh);
      if (!nh) return MS_ERR_NOMEM;
      d->hashes = nh;
      int64_t *no = ms_realloc(d->offs, (size_t)need * sizeof *no);
      if (!no) return MS_ERR_NOMEM;
      d->offs = no;
      d->ent_cap = need;
    }
  }
  for (uint32_t i = 0; i < d->count; i++) {
    uint64_t s = entry_hash(d, width, i) & (ncap - 1);
    while (d->slots[s]) s = (s + 1) & (ncap - 1);
    d->slots[s] = i + 1;
  }
  d->mask = ncap - 1;
  return MS_OK;
}

/* Encoding state of one chunk. */
typedef struct enc {
  const ms_pq_wcol *wc;
  const ms_pq_wopts *o;
  const ms_column *col;
  int64_t off, n;             /* row range in col */
  const uint8_t *validity;    /* NULL when the range has no nulls */
  int64_t nulls, n_valid;
  const uint8_t *pv;          /* PLAIN values of fixed-width types / bool bits */
  const uint8_t *bdata;       /* byte strings: data, offsets */
  const void *boffs;
  bool large;
  uint32_t *idx;              /* dictionary indices of values [0, k) */
  int64_t k;                  /* values dictionary-encoded */
  int64_t row_split;          /* rows before this are dictionary-encoded */
  dict *d;
  ms_pq_wscratch *scr;
  int bw;
  ms_buffer *body, *lev, *cbuf;
  ms_pq_chunk *out;
  ms_error *err;
} enc;

static inline void bytes_at(const enc *e, int64_t row, const uint8_t **p, int64_t *len) {
  int64_t a, b;
  if (e->large) {
    const int64_t *o = e->boffs;
    a = o[row]; b = o[row + 1];
  } else {
    const int32_t *o = e->boffs;
    a = o[row]; b = o[row + 1];
  }
  *p = e->bdata + a;
  *len = b - a;
}

#define DICT_SAMPLE 16384

/* Builds the dictionary over values in order; sets e->k (values encoded) or leaves 0 when
 * the dictionary does not pay. */
static ms_status build_dict(enc *e) {
  const ms_pq_wcol *wc = e->wc;
  int width = wc->phys == MS_PQ_BYTE_ARRAY ? 0 : wc->width;
  int64_t limit = e->o->dictionary_limit;
  dict *d = e->d;
  dict_reset(d);
  if (!ensure((void **)&e->scr->idx, &e->scr->idx_cap, e->n_valid, sizeof *e->idx)) return MS_ERR_NOMEM;
  e->idx = e->scr->idx;
  if (dict_grow(d, width)) return MS_ERR_NOMEM;
  int64_t sample = e->n_valid < DICT_SAMPLE ? e->n_valid : DICT_SAMPLE;
  int64_t k = 0;
  if (width == 4 || width == 8) {
    for (; k < e->n_valid; k++) {
      uint64_t x = width == 8 ? ld64(e->pv + k * 8) : ld32(e->pv + k * 4);
      uint64_t s = hash64(x) & d->mask;
      uint32_t id;
      for (;;) {
        uint32_t sl = d->slots[s];
        if (!sl) {
          if (d->vals->size + width > limit) goto overflow;
          if ((uint64_t)(d->count + 1) * 2 > d->mask + 1) {
            if (dict_grow(d, width)) return MS_ERR_NOMEM;
            s = hash64(x) & d->mask;
            while (d->slots[s]) s = (s + 1) & d->mask;
          }
          if (ms_buffer_append(d->vals, e->pv + k * width, width)) return MS_ERR_NOMEM;
          id = d->count++;
          d->slots[s] = id + 1;
          break;
        }
        const uint8_t *ev = d->vals->data + (int64_t)(sl - 1) * width;
        if (width == 8 ? ld64(ev) == x : ld32(ev) == (uint32_t)x) { id = sl - 1; break; }
        s = (s + 1) & d->mask;
      }
      e->idx[k] = id;
      if (k + 1 == sample && sample == DICT_SAMPLE && d->count > sample / 2) { e->k = 0; return MS_OK; }
    }
  } else {
    int64_t row = e->off;
    for (; k < e->n_valid; k++, row++) {
      const uint8_t *p;
      int64_t len;
      if (width) {
        p = e->pv + k * width;
        len = width;
      } else {
        if (e->validity)
          while (!ms_bit_get(e->validity, row)) row++;
        bytes_at(e, row, &p, &len);
      }
      uint64_t h = XXH3_64bits(p, (size_t)len);
      uint64_t s = h & d->mask;
      uint32_t id;
      for (;;) {
        uint32_t sl = d->slots[s];
        if (!sl) {
          int64_t esz = width ? width : 4 + len;
          if (d->vals->size + esz > limit) goto overflow;
          if ((uint64_t)(d->count + 1) * 2 > d->mask + 1) {
            if (dict_grow(d, width)) return MS_ERR_NOMEM;
            s = h & d->mask;
            while (d->slots[s]) s = (s + 1) & d->mask;
          }
          if (!width) {
            uint32_t l32 = (uint32_t)len;
            if (ms_buffer_append(d->vals, &l32, 4)) return MS_ERR_NOMEM;
          }
          id = d->count++;
          d->offs[id] = d->vals->size;
          d->hashes[id] = h;
          if (ms_buffer_append(d->vals, p, len)) return MS_ERR_NOMEM;
          d->slots[s] = id + 1;
          break;
        }
        uint32_t cand = sl - 1;
        if (d->hashes[cand] == h) {
          int64_t clen = width ? width : (int64_t)ld32(d->vals->data + d->offs[cand] - 4);
          if (clen == len && memcmp(d->vals->data + d->offs[cand], p, (size_t)len) == 0) {
            id = cand;
            break;
          }
        }
        s = (s + 1) & d->mask;
      }
      e->idx[k] = id;
      if (k + 1 == sample && sample == DICT_SAMPLE && d->count > sample / 2) { e->k = 0; return MS_OK; }
    }
  }
overflow:
  /* a tiny dictionary that already overflowed (huge values) is not worth a page */
  e->k = d->count > 0 ? k : 0;
  return MS_OK;
}

/* ---------------- pages ---------------- */

static ms_status put_page(enc *e, ms_pq_page_header *ph, const uint8_t *lev, int64_t lev_len,
                          const uint8_t *body, int64_t body_len, bool v2) {
  ms_pq_chunk *c = e->out;
  const ms_pq_wopts *o = e->o;
  const uint8_t *payload = body;
  int64_t payload_len = body_len;
  if (o->codec != MS_CODEC_UNCOMPRESSED) {
    int64_t bound = ms_compress_bound(o->codec, body_len);
    if (bound < 0 || ms_buffer_reserve(e->cbuf, bound)) return ms_error_set(e->err, MS_ERR_NOMEM, "out of memory compressing a page");
    ms_status st = ms_compress(o->codec, o->level, body, body_len, e->cbuf->data, e->cbuf->capacity,
                               &payload_len, e->err);
    if (st) return st;
    payload = e->cbuf->data;
  }
  if (lev_len + body_len > INT32_MAX || lev_len + payload_len > INT32_MAX)
    return ms_error_set(e->err, MS_ERR_LIMIT, "page larger than 2 GiB");
  ph->uncompressed_page_size = (int32_t)(lev_len + body_len);
  ph->compressed_page_size = (int32_t)(lev_len + payload_len);
  if (v2) ph->data_page_header_v2.is_compressed = o->codec != MS_CODEC_UNCOMPRESSED;
  int64_t before = c->bytes->size;
  if (ms_pq_page_header_encode(ph, c->bytes) ||
      (lev_len && ms_buffer_append(c->bytes, lev, lev_len)) ||
      ms_buffer_append(c->bytes, payload, payload_len))
    return ms_error_set(e->err, MS_ERR_NOMEM, "out of memory writing a page");
  int64_t header_len = c->bytes->size - before - lev_len - payload_len;
  c->uncompressed_size += header_len + lev_len + body_len;
  return MS_OK;
}

static ms_status write_dict_page(enc *e) {
  ms_pq_page_header ph;
  memset(&ph, 0, sizeof ph);
  ph.type = MS_PQ_PAGE_DICTIONARY;
  ph.has_dictionary_page_header = true;
  ph.dictionary_page_header.num_values = (int32_t)e->d->count;
  ph.dictionary_page_header.encoding = MS_PQ_ENC_PLAIN;
  e->out->has_dictionary = true;
  e->out->encodings |= 1u << MS_PQ_ENC_PLAIN;
  return put_page(e, &ph, NULL, 0, e->d->vals->data, e->d->vals->size, false);
}

/* PLAIN values [v0, v0 + nv) of rows [r0, r0 + nr) appended to buf. */
static ms_status plain_values(enc *e, int64_t r0, int64_t nr, int64_t v0, int64_t nv, ms_buffer *buf) {
  const ms_pq_wcol *wc = e->wc;
  if (wc->conv == MS_PQ_CV_NULL) return MS_OK;
  if (wc->phys == MS_PQ_BOOLEAN) {
    int64_t nb = (nv + 7) / 8;
    if (ms_buffer_reserve(buf, buf->size + nb + 8)) return MS_ERR_NOMEM;
    copy_bits(buf->data + buf->size, e->pv, v0, nv);
    buf->size += nb;
    return MS_OK;
  }
  if (wc->phys != MS_PQ_BYTE_ARRAY) return ms_buffer_append(buf, e->pv + v0 * wc->width, nv * wc->width);
  /* byte strings: 4-byte length + bytes */
  const uint8_t *p;
  int64_t len, total = 0, a, b;
  if (e->large) { a = ((const int64_t *)e->boffs)[r0]; b = ((const int64_t *)e->boffs)[r0 + nr]; }
  else { a = ((const int32_t *)e->boffs)[r0]; b = ((const int32_t *)e->boffs)[r0 + nr]; }
  total = (b - a) + 4 * nv;
  if (ms_buffer_reserve(buf, buf->size + total)) return MS_ERR_NOMEM;
  uint8_t *q = buf->data + buf->size;
  for (int64_t r = r0; r < r0 + nr; r++) {
    if (e->validity && !ms_bit_get(e->validity, r)) continue;
    bytes_at(e, r, &p, &len);
    uint32_t l32 = (uint32_t)len;
    memcpy(q, &l32, 4);
    memcpy(q + 4, p, (size_t)len);
    q += 4 + len;
  }
  buf->size = q - buf->data;
  return MS_OK;
}

/* One data page of rows [r0, r0 + nr) (absolute rows in col) holding values [v0, v0 + nv). */
static ms_status write_data_page(enc *e, int64_t r0, int64_t nr, int64_t v0, int64_t nv, bool use_dict) {
  const ms_pq_wopts *o = e->o;
  bool v2 = o->page_version == 2;
  ms_buffer *body = e->body, *lev = e->lev;
  body->size = 0;
  lev->size = 0;
  ms_status st = MS_OK;
  int64_t nulls = nr - nv;
  if (!e->wc->required) {
    st = enc_def_levels(e->validity, r0, nr, nulls, lev);
    if (st) return ms_error_set(e->err, st, "out of memory encoding levels");
    e->out->encodings |= 1u << MS_PQ_ENC_RLE;
    if (!v2) {
      uint32_t l32 = (uint32_t)lev->size;
      if (ms_buffer_append(body, &l32, 4) || ms_buffer_append(body, lev->data, lev->size))
        return ms_error_set(e->err, MS_ERR_NOMEM, "out of memory");
    }
  }
  const ms_pq_wcol *wc = e->wc;
  bool direct = !use_dict && (wc->required || v2) && wc->width > 0 && wc->conv != MS_PQ_CV_NULL &&
                wc->phys != MS_PQ_BOOLEAN;
  if (direct) {
    /* the body is exactly the gathered values: compress them where they are */
  } else if (use_dict) {
    uint8_t bwb = (uint8_t)e->bw;
    if (ms_buffer_append(body, &bwb, 1) || enc_indices(e->idx + v0, nv, e->bw, body))
      return ms_error_set(e->err, MS_ERR_NOMEM, "out of memory encoding indices");
  } else if (plain_values(e, r0, nr, v0, nv, body)) {
    return ms_error_set(e->err, MS_ERR_NOMEM, "out of memory encoding values");
  }
  ms_pq_encoding enc_kind = use_dict ? MS_PQ_ENC_RLE_DICTIONARY : MS_PQ_ENC_PLAIN;
  e->out->encodings |= 1u << enc_kind;
  ms_pq_page_header ph;
  memset(&ph, 0, sizeof ph);
  if (e->out->data_page_rel < 0) e->out->data_page_rel = e->out->bytes->size;
  if (v2) {
    ph.type = MS_PQ_PAGE_DATA_V2;
    ph.has_data_page_header_v2 = true;
    ms_pq_data_page_header_v2 *h = &ph.data_page_header_v2;
    h->num_values = (int32_t)nr;
    h->num_nulls = (int32_t)nulls;
    h->num_rows = (int32_t)nr;
    h->encoding = enc_kind;
    h->definition_levels_byte_length = (int32_t)lev->size;
    if (direct) return put_page(e, &ph, lev->data, lev->size, e->pv + v0 * wc->width, nv * wc->width, true);
    return put_page(e, &ph, lev->data, lev->size, body->data, body->size, true);
  }
  ph.type = MS_PQ_PAGE_DATA;
  ph.has_data_page_header = true;
  ph.data_page_header.num_values = (int32_t)nr;
  ph.data_page_header.encoding = enc_kind;
  ph.data_page_header.definition_level_encoding = MS_PQ_ENC_RLE;
  ph.data_page_header.repetition_level_encoding = MS_PQ_ENC_RLE;
  if (direct) return put_page(e, &ph, NULL, 0, e->pv + v0 * wc->width, nv * wc->width, false);
  return put_page(e, &ph, NULL, 0, body->data, body->size, false);
}

/* Pages over rows [ra, rb) (absolute) starting at value index v. */
static ms_status write_pages(enc *e, int64_t ra, int64_t rb, int64_t v, bool use_dict) {
  const ms_pq_wcol *wc = e->wc;
  int64_t pb = e->o->page_bytes > 0 ? e->o->page_bytes : 1 << 20;
  int64_t fixed_rows = 0;
  if (use_dict) fixed_rows = pb * 8 / (e->bw > 0 ? e->bw : 1);
  else if (wc->phys == MS_PQ_BOOLEAN) fixed_rows = pb * 8;
  else if (wc->phys != MS_PQ_BYTE_ARRAY) fixed_rows = pb / wc->width;
  if (wc->conv == MS_PQ_CV_NULL) fixed_rows = pb * 8;
  if (fixed_rows > (1 << 30)) fixed_rows = 1 << 30;
  fixed_rows &= ~(int64_t)7;
  if (fixed_rows < 8) fixed_rows = 8;
  int64_t r = ra;
  while (r < rb) {
    int64_t nr;
    if (fixed_rows && (use_dict || wc->phys != MS_PQ_BYTE_ARRAY)) {
      nr = fixed_rows;
    } else {
      int64_t bytes = 0, q = r;
      const uint8_t *p;
      int64_t len;
      while (q < rb && bytes < pb) {
        if (!e->validity || ms_bit_get(e->validity, q)) {
          bytes_at(e, q, &p, &len);
          bytes += 4 + len;
        }
        q++;
      }
      nr = q - r;
      nr = (nr + 7) & ~(int64_t)7;
    }
    if (nr > rb - r) nr = rb - r;
    int64_t nv = e->validity ? count_range(e->validity, r, nr) : nr;
    if (wc->conv == MS_PQ_CV_NULL) nv = 0;
    ms_status st = write_data_page(e, r, nr, v, nv, use_dict);
    if (st) return st;
    r += nr;
    v += nv;
  }
  return MS_OK;
}

/* ---------------- statistics ---------------- */

typedef struct stat_acc {
  bool any;
  uint8_t min[16], max[16]; /* fixed-width PLAIN bytes */
  const uint8_t *bmin, *bmax; /* byte strings: point into the column or the dictionary */
  int64_t bmin_len, bmax_len;
} stat_acc;

static int cmp_bytes(const uint8_t *a, int64_t al, const uint8_t *b, int64_t bl) {
  int64_t m = al < bl ? al : bl;
  int c = m ? memcmp(a, b, (size_t)m) : 0;
  if (c) return c;
  return al < bl ? -1 : al > bl;
}

static int cmp_flba_signed(const uint8_t *a, const uint8_t *b, int w) {
  int sa = (int8_t)a[0], sb = (int8_t)b[0];
  if (sa != sb) return sa < sb ? -1 : 1;
  return w > 1 ? memcmp(a + 1, b + 1, (size_t)w - 1) : 0;
}

static void stat_bytes(stat_acc *s, const uint8_t *p, int64_t len) {
  if (!s->any) {
    s->any = true;
    s->bmin = s->bmax = p;
    s->bmin_len = s->bmax_len = len;
    return;
  }
  if (cmp_bytes(p, len, s->bmin, s->bmin_len) < 0) { s->bmin = p; s->bmin_len = len; }
  if (cmp_bytes(p, len, s->bmax, s->bmax_len) > 0) { s->bmax = p; s->bmax_len = len; }
}

#define MINMAX_LOOP(T, LOAD)                                              \
  do {                                                                    \
    T mn = LOAD(0), mx = mn;                                              \
    for (int64_t i = 1; i < cnt; i++) {                                   \
      T x = LOAD(i);                                                      \
      mn = x < mn ? x : mn;                                               \
      mx = x > mx ? x : mx;                                               \
    }                                                                     \
    memcpy(s->min, &mn, sizeof mn);                                       \
    memcpy(s->max, &mx, sizeof mx);                                       \
    s->any = true;                                                        \
  } while (0)

/* Min/max of cnt fixed-width PLAIN values at vals. */
static void stat_fixed(const ms_pq_wcol *wc, const uint8_t *vals, int64_t cnt, stat_acc *s) {
  if (cnt <= 0) return;
  switch (wc->sort) {
#define L_I32(i) ((const int32_t *)(const void *)vals)[i]
#define L_U32(i) ((const uint32_t *)(const void *)vals)[i]
#define L_I64(i) ((const int64_t *)(const void *)vals)[i]
#define L_U64(i) ((const uint64_t *)(const void *)vals)[i]
    case MS_PQ_SORT_I32: MINMAX_LOOP(int32_t, L_I32); break;
    case MS_PQ_SORT_U32: MINMAX_LOOP(uint32_t, L_U32); break;
    case MS_PQ_SORT_I64: MINMAX_LOOP(int64_t, L_I64); break;
    case MS_PQ_SORT_U64: MINMAX_LOOP(uint64_t, L_U64); break;
    case MS_PQ_SORT_F32: case MS_PQ_SORT_F64: {
      bool f32 = wc->sort == MS_PQ_SORT_F32;
      double mn = INFINITY, mx = -INFINITY;
      bool any = false;
      for (int64_t i = 0; i < cnt; i++) {
        double x;
        if (f32) { float f; memcpy(&f, vals + i * 4, 4); x = f; }
        else memcpy(&x, vals + i * 8, 8);
        if (isnan(x)) continue;
        any = true;
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
      }
      if (!any) return; /* all NaN: no min/max */
      if (mn == 0) mn = -0.0;
      if (mx == 0) mx = 0.0;
      if (f32) { float a = (float)mn, b = (float)mx; memcpy(s->min, &a, 4); memcpy(s->max, &b, 4); }
      else { memcpy(s->min, &mn, 8); memcpy(s->max, &mx, 8); }
      s->any = true;
      break;
    }
    case MS_PQ_SORT_FLBA_SIGNED: case MS_PQ_SORT_BYTES: {
      int w = wc->width;
      const uint8_t *mn = vals, *mx = vals;
      bool sg = wc->sort == MS_PQ_SORT_FLBA_SIGNED;
      for (int64_t i = 1; i < cnt; i++) {
        const uint8_t *x = vals + i * w;
        if ((sg ? cmp_flba_signed(x, mn, w) : memcmp(x, mn, (size_t)w)) < 0) mn = x;
        if ((sg ? cmp_flba_signed(x, mx, w) : memcmp(x, mx, (size_t)w)) > 0) mx = x;
      }
      s->bmin = mn; s->bmax = mx;
      s->bmin_len = s->bmax_len = w;
      s->any = true;
      break;
    }
    default: break;
  }
#undef L_I32
#undef L_U32
#undef L_I64
#undef L_U64
}

static ms_status compute_stats(enc *e) {
  ms_pq_chunk *c = e->out;
  const ms_pq_wcol *wc = e->wc;
  c->has_statistics = true;
  c->stats.has_null_count = true;
  c->stats.null_count = e->nulls;
  stat_acc s;
  memset(&s, 0, sizeof s);
  int64_t len_fixed = wc->width;
  if (wc->sort == MS_PQ_SORT_NONE || e->n_valid == 0) return MS_OK;
  if (wc->sort == MS_PQ_SORT_BOOL) {
    int64_t ones = count_range(e->pv, 0, e->n_valid);
    s.min[0] = ones == e->n_valid;
    s.max[0] = ones > 0;
    s.any = true;
    len_fixed = 1;
  } else if (wc->phys == MS_PQ_BYTE_ARRAY) {
    int64_t row = e->off, end = e->off + e->n;
    if (e->k > 0) { /* dictionary entries stand for values [0, k) */
      for (uint32_t i = 0; i < e->d->count; i++)
        stat_bytes(&s, e->d->vals->data + e->d->offs[i], ld32(e->d->vals->data + e->d->offs[i] - 4));
      row = e->row_split;
    }
    for (; row < end; row++) {
      if (e->validity && !ms_bit_get(e->validity, row)) continue;
      const uint8_t *p;
      int64_t len;
      bytes_at(e, row, &p, &len);
      stat_bytes(&s, p, len);
    }
  } else if (e->k > 0 && e->k < e->n_valid) {
    stat_acc a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    stat_fixed(wc, e->d->vals->data, e->d->count, &a);
    stat_fixed(wc, e->pv + e->k * wc->width, e->n_valid - e->k, &b);
    /* merge: feed the four candidates through the same comparison */
    _Alignas(16) uint8_t tmp[64];
    int w = wc->width, m = 0;
    const stat_acc *parts[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
      if (!parts[i]->any) continue;
      const uint8_t *mn = parts[i]->bmin ? parts[i]->bmin : parts[i]->min;
      const uint8_t *mx = parts[i]->bmax ? parts[i]->bmax : parts[i]->max;
      if (w <= 16) {
        memcpy(tmp + m * w, mn, (size_t)w); m++;
        memcpy(tmp + m * w, mx, (size_t)w); m++;
      }
    }
    stat_fixed(wc, tmp, m, &s);
    if (s.bmin) { /* FLBA: copy out of tmp before it goes */
      memcpy(s.min, s.bmin, (size_t)w);
      memcpy(s.max, s.bmax, (size_t)w);
      s.bmin = s.bmax = NULL;
    }
  } else if (e->k > 0) {
    stat_fixed(wc, e->d->vals->data, e->d->count, &s);
  } else {
    stat_fixed(wc, e->pv, e->n_valid, &s);
  }
  if (!s.any) return MS_OK;
  const uint8_t *mn = s.bmin ? s.bmin : s.min, *mx = s.bmax ? s.bmax : s.max;
  int64_t mnl = s.bmin ? s.bmin_len : len_fixed, mxl = s.bmax ? s.bmax_len : len_fixed;
  if (mnl > 4096 || mxl > 4096) return MS_OK; /* too long to be worth storing */
  c->stat_min = ms_malloc((size_t)(mnl ? mnl : 1));
  c->stat_max = ms_malloc((size_t)(mxl ? mxl : 1));
  if (!c->stat_min || !c->stat_max) return ms_error_set(e->err, MS_ERR_NOMEM, "out of memory");
  memcpy(c->stat_min, mn, (size_t)mnl);
  memcpy(c->stat_max, mx, (size_t)mxl);
  c->stat_len_min = (int32_t)mnl;
  c->stat_len_max = (int32_t)mxl;
  ms_pq_statistics *st = &c->stats;
  st->has_min_value = st->has_max_value = true;
  st->min_value = c->stat_min; st->min_value_len = c->stat_len_min;
  st->max_value = c->stat_max; st->max_value_len = c->stat_len_max;
  if (wc->legacy_stats) {
    st->has_min = st->has_max = true;
    st->min = c->stat_min; st->min_len = c->stat_len_min;
    st->max = c->stat_max; st->max_len = c->stat_len_max;
  }
  return MS_OK;
}

/* ---------------- the chunk ---------------- */

void ms_pq_chunk_reset(ms_pq_chunk *c) {
  ms_free(c->stat_min);
  ms_free(c->stat_max);
  memset(c, 0, sizeof *c);
}

/* Scratch space for gathered values; sets e->pv to it. */
static uint8_t *scratch_pv(enc *e, int64_t bytes) {
  if (!ensure((void **)&e->scr->pv, &e->scr->pv_cap, bytes > 0 ? bytes : 1, 1)) return NULL;
  e->pv = e->scr->pv;
  return e->scr->pv;
}

/* Gathers non-null values into PLAIN form (pv). */
static ms_status gather(enc *e) {
  const ms_pq_wcol *wc = e->wc;
  const ms_column *col = e->col;
  if (wc->conv == MS_PQ_CV_NULL) return MS_OK;
  if (wc->conv == MS_PQ_CV_BYTES || wc->conv == MS_PQ_CV_LBYTES) {
    e->large = wc->conv == MS_PQ_CV_LBYTES;
    e->boffs = col->values->data;
    e->bdata = col->data ? col->data->data : (const uint8_t *)"";
    /* one value must fit a page length field */
    for (int64_t r = e->off; r < e->off + e->n; r++) {
      const uint8_t *p;
      int64_t len;
      bytes_at(e, r, &p, &len);
      if (len > INT32_MAX - 64) {
        ms_error_set_row(e->err, r);
        return ms_error_set(e->err, MS_ERR_LIMIT, "value of %lld bytes is too long for Parquet", (long long)len);
      }
    }
    return MS_OK;
  }
  const uint8_t *src = col->values->data;
  if (wc->conv == MS_PQ_CV_BOOL) {
    if (!e->validity) {
      if ((e->off & 7) == 0) { e->pv = src + e->off / 8; return MS_OK; }
      uint8_t *pv = scratch_pv(e, (e->n + 7) / 8 + 8);
      if (!pv) return ms_error_set(e->err, MS_ERR_NOMEM, "out of memory");
      copy_bits(pv, src, e->off, e->n);
      return MS_OK;
    }
    uint8_t *pv = scratch_pv(e, (e->n_valid + 7) / 8 + 8);
    if (!pv) return ms_error_set(e->err, MS_ERR_NOMEM, "out of memory");
    memset(pv, 0, (size_t)(e->n_valid + 7) / 8 + 8);
    int64_t k = 0;
    for (int64_t r = e->off; r < e->off + e->n; r++)
      if (ms_bit_get(e->validity, r)) { if (ms_bit_get(src, r)) ms_bit_set(pv, k); k++; }
    return MS_OK;
  }
  int w = wc->width;
  if (!e->validity && (wc->conv == MS_PQ_CV_COPY4 || wc->conv == MS_PQ_CV_COPY8)) {
    e->pv = src + e->off * w;
    return MS_OK;
  }
  uint8_t *dst = scratch_pv(e, e->n_valid * w);
  if (!dst) return ms_error_set(e->err, MS_ERR_NOMEM, "out of memory");
  bool overflow = false;
  if (!e->validity) {
    switch (wc->conv) { /* tight loops for the common widenings */
      case MS_PQ_CV_I8: for (int64_t i = 0; i < e->n; i++) ((int32_t *)(void *)dst)[i] = ((const int8_t *)src)[e->off + i]; break;
      case MS_PQ_CV_U8: for (int64_t i = 0; i < e->n; i++) ((int32_t *)(void *)dst)[i] = src[e->off + i]; break;
      case MS_PQ_CV_I16: for (int64_t i = 0; i < e->n; i++) ((int32_t *)(void *)dst)[i] = ((const int16_t *)(const void *)src)[e->off + i]; break;
      case MS_PQ_CV_U16: for (int64_t i = 0; i < e->n; i++) ((int32_t *)(void *)dst)[i] = ((const uint16_t *)(const void *)src)[e->off + i]; break;
      default:
        for (int64_t i = 0; i < e->n; i++) conv_one(wc, src, e->off + i, dst + i * w, &overflow);
    }
  } else {
    for (int64_t r = e->off; r < e->off + e->n; r++)
      if (ms_bit_get(e->validity, r)) { conv_one(wc, src, r, dst, &overflow); dst += w; }
  }
  if (overflow) return ms_error_set(e->err, MS_ERR_INVALID, "timestamp[s] value out of range for milliseconds");
  return MS_OK;
}

ms_status ms_pq_encode_chunk(const ms_pq_wcol *wc, const ms_pq_wopts *o, const ms_column *col,
                             int64_t off, int64_t n, ms_pq_wscratch *scr, ms_buffer *bytes,
                             ms_pq_chunk *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  enc e;
  memset(&e, 0, sizeof e);
  e.wc = wc;
  e.o = o;
  e.col = col;
  e.off = off;
  e.n = n;
  e.out = out;
  e.err = err;
  e.scr = scr;
  e.d = &scr->d;
  e.body = scr->body;
  e.lev = scr->lev;
  e.cbuf = scr->cbuf;
  bytes->size = 0;
  out->bytes = bytes;
  out->data_page_rel = -1;
  out->num_values = n;
  if (col->type.id == MS_TYPE_NULL) e.nulls = n;
  else if (col->validity && col->null_count > 0) e.nulls = n - count_range(col->validity->data, off, n);
  if (e.nulls > 0 && col->type.id != MS_TYPE_NULL) e.validity = col->validity->data;
  e.n_valid = n - e.nulls;
  if (wc->conv == MS_PQ_CV_NULL) e.n_valid = 0;
  ms_status st = MS_OK;
  if (wc->required && e.nulls > 0) {
    st = ms_error_set(err, MS_ERR_INVALID, "column '%s' is not nullable but has %lld nulls", wc->name,
                      (long long)e.nulls);
    goto done;
  }
  if ((st = gather(&e))) goto done;
  {
    /* reserve the output once: an upper bound of the PLAIN size, compressed (virtual
     * memory only until touched; saves regrowing copies) */
    int64_t plain = wc->phys == MS_PQ_BOOLEAN ? (n + 7) / 8 : (int64_t)wc->width * e.n_valid;
    if (wc->phys == MS_PQ_BYTE_ARRAY) {
      int64_t a = e.large ? ((const int64_t *)e.boffs)[off] : ((const int32_t *)e.boffs)[off];
      int64_t b = e.large ? ((const int64_t *)e.boffs)[off + n] : ((const int32_t *)e.boffs)[off + n];
      plain = b - a + 4 * e.n_valid;
    }
    plain += n / 8 + 64;
    int64_t pages = plain / (o->page_bytes > 0 ? o->page_bytes : 1) + 2;
    int64_t bound = o->codec == MS_CODEC_UNCOMPRESSED ? plain : ms_compress_bound(o->codec, plain);
    if (bound > 0 && ms_buffer_reserve(bytes, bound + pages * 128)) {
      st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
      goto done;
    }
  }
  e.row_split = off;
  if (o->dictionary && wc->phys != MS_PQ_BOOLEAN && wc->conv != MS_PQ_CV_NULL && e.n_valid > 0) {
    if (build_dict(&e)) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory building a dictionary"); goto done; }
    if (e.k > 0) {
      /* rows before the first value that did not fit */
      if (e.k == e.n_valid) {
        e.row_split = off + n;
      } else if (!e.validity) {
        e.row_split = off + e.k;
      } else {
        int64_t seen = 0, r = off;
        for (; r < off + n; r++)
          if (ms_bit_get(e.validity, r) && seen++ == e.k) break;
        e.row_split = r;
      }
      e.bw = bit_width32(e.d->count - 1);
      if (e.bw < 1) e.bw = 1;
    }
  }
  if (o->statistics && (st = compute_stats(&e))) goto done;
  if (e.k > 0) {
    if ((st = write_dict_page(&e))) goto done;
    if ((st = write_pages(&e, off, e.row_split, 0, true))) goto done;
  }
  if (e.row_split < off + n && (st = write_pages(&e, e.row_split, off + n, e.k, false))) goto done;
done:
  if (st) {
    ms_error_set_column(err, wc->name);
    ms_pq_chunk_reset(out);
  }
  return st;
}
