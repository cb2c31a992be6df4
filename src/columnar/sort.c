/* Sort indices: the stable permutation that orders a table by one or more keys.
 *
 * Rules. The result is stable: rows whose keys are all equal keep their input order.
 * Each key sorts ascending or descending; its nulls go first or last (nulls_first) in
 * either direction. For float keys NaN sorts after every number in both directions (as
 * Arrow does), and all NaNs are equal; -0.0 equals 0.0. Strings and binary compare as
 * unsigned bytes, a proper prefix first; fixed_binary by memcmp; decimal128 as signed
 * 128-bit integers; bool false < true; the null type is all nulls.
 *
 * Method. Keys are applied least significant first, each with a stable single-key sort
 * of the current permutation (LSD over keys: after the pass for key k the order is
 * correct for keys k..n-1, because a stable sort on key k keeps the order of rows that
 * tie on it). A pass first partitions the permutation stably into nulls, values and NaNs,
 * laid out as the key asks, then sorts the values:
 *  - bool, integers, date32, timestamp and floats map each value to an order-preserving
 *    uint64 (sign bit flipped for signed integers, IEEE bits mirrored for floats, all bits
 *    inverted for descending) and run an LSD radix sort on (key, row) pairs, 8 bits per
 *    pass, skipping the byte positions where all keys agree (timestamps in a narrow range
 *    need only a few passes);
 *  - strings, binary, fixed_binary and decimal128 use a bottom-up merge sort of
 *    (pointer, length, row) items with insertion-sorted runs of 16. */
#include <string.h>

#include "columnar/column.h"

/* Scratch allocation with a huge-page hint (fresh pages are costly on VMs). */
static void *scratch(int64_t bytes) {
  void *p = ms_malloc((size_t)(bytes > 0 ? bytes : 1));
  if (p) ms_mem_advise_huge(p, bytes);
  return p;
}

typedef struct kv {
  uint64_t key;
  int64_t row;
} kv;

typedef struct item {
  uint64_t prefix; /* first 8 bytes, big-endian, zero-padded (strings and binary) */
  const uint8_t *p;
  int64_t len;
  int64_t row;
} item;

static bool radix_type(ms_type_id id) {
  return id == MS_TYPE_BOOL || (id >= MS_TYPE_INT8 && id <= MS_TYPE_FLOAT64) ||
         id == MS_TYPE_DATE32 || id == MS_TYPE_TIMESTAMP;
}

static inline uint64_t f64_key(double d) {
  if (d == 0) d = 0; /* -0.0 -> 0.0 */
  uint64_t u;
  memcpy(&u, &d, 8);
  return (u >> 63) ? ~u : (u | ((uint64_t)1 << 63));
}

/* Fills keys for rows[0..n) of col (no nulls, no NaNs among them). */
static void encode_keys(const ms_column *col, const int64_t *rows, int64_t n, bool desc, kv *out) {
  const uint8_t *v = col->values->data;
  const uint64_t flip = (uint64_t)1 << 63;
#define ENC(expr)                                                       \
  for (int64_t i = 0; i < n; i++) {                                     \
    int64_t r = rows[i];                                                \
    out[i].key = (expr);                                                \
    out[i].row = r;                                                     \
  }                                                                     \
  break
  switch (col->type.id) {
    case MS_TYPE_BOOL: ENC((uint64_t)ms_bit_get(v, r));
    case MS_TYPE_INT8: ENC((uint64_t)(int64_t)((const int8_t *)v)[r] ^ flip);
    case MS_TYPE_INT16: ENC((uint64_t)(int64_t)((const int16_t *)v)[r] ^ flip);
    case MS_TYPE_INT32: case MS_TYPE_DATE32: ENC((uint64_t)(int64_t)((const int32_t *)v)[r] ^ flip);
    case MS_TYPE_INT64: case MS_TYPE_TIMESTAMP: ENC((uint64_t)((const int64_t *)v)[r] ^ flip);
    case MS_TYPE_UINT8: ENC(((const uint8_t *)v)[r]);
    case MS_TYPE_UINT16: ENC(((const uint16_t *)v)[r]);
    case MS_TYPE_UINT32: ENC(((const uint32_t *)v)[r]);
    case MS_TYPE_UINT64: ENC(((const uint64_t *)v)[r]);
    case MS_TYPE_FLOAT32: ENC(f64_key((double)((const float *)v)[r]));
    case MS_TYPE_FLOAT64: ENC(f64_key(((const double *)v)[r]));
    default: ENC(0);
  }
#undef ENC
  if (desc)
    for (int64_t i = 0; i < n; i++) out[i].key = ~out[i].key;
}

/* Stable LSD radix sort of a[0..n) using tmp; returns the array holding the result. */
static kv *radix_sort(kv *a, kv *tmp, int64_t n) {
  static const int k_bytes = 8;
  int64_t (*hist)[256] = ms_calloc(8, sizeof *hist);
  if (!hist) return NULL;
  for (int64_t i = 0; i < n; i++) {
    uint64_t k = a[i].key;
    for (int b = 0; b < k_bytes; b++) hist[b][(k >> (8 * b)) & 0xff]++;
  }
  for (int b = 0; b < k_bytes; b++) {
    int64_t *h = hist[b];
    if (h[(a[0].key >> (8 * b)) & 0xff] == n) continue; /* all keys share this byte */
    int64_t sum = 0;
    for (int d = 0; d < 256; d++) { int64_t c = h[d]; h[d] = sum; sum += c; }
    for (int64_t i = 0; i < n; i++) tmp[h[(a[i].key >> (8 * b)) & 0xff]++] = a[i];
    kv *s = a; a = tmp; tmp = s;
  }
  ms_free(hist);
  return a;
}

/* ---- comparison sort ---- */

typedef int (*item_cmp)(const item *x, const item *y);

/* Zero padding keeps prefix order consistent with byte order: when two padded prefixes
 * differ, the first difference is a real byte in both or a real non-zero byte against
 * the end of the shorter string, which is the true order either way; equal prefixes fall
 * back to the full comparison. */
static inline uint64_t prefix_of(const uint8_t *p, int64_t len) {
  uint8_t b[8] = {0};
  memcpy(b, p, (size_t)(len < 8 ? len : 8));
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
  return v;
}

static int cmp_bytes_prefixed(const item *x, const item *y) {
  if (x->prefix != y->prefix) return x->prefix < y->prefix ? -1 : 1;
  if (x->len <= 8 && y->len <= 8) return (x->len > y->len) - (x->len < y->len);
  int64_t m = x->len < y->len ? x->len : y->len;
  int c = m > 8 ? memcmp(x->p + 8, y->p + 8, (size_t)(m - 8)) : 0;
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

static int cmp_bytes(const item *x, const item *y) {
  int64_t m = x->len < y->len ? x->len : y->len;
  int c = m ? memcmp(x->p, y->p, (size_t)m) : 0;
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

static int cmp_decimal(const item *x, const item *y) {
  int64_t xh, yh;
  uint64_t xl, yl;
  memcpy(&xl, x->p, 8); memcpy(&xh, x->p + 8, 8);
  memcpy(&yl, y->p, 8); memcpy(&yh, y->p + 8, 8);
  if (xh != yh) return xh < yh ? -1 : 1;
  return (xl > yl) - (xl < yl);
}

/* Stable merge sort of a[0..n) (tmp has n slots); returns the array holding the result. */
static item *merge_sort(item *a, item *tmp, int64_t n, item_cmp cmp, bool desc) {
  const int64_t run = 16;
  int sign = desc ? -1 : 1;
  for (int64_t lo = 0; lo < n; lo += run) {
    int64_t hi = lo + run < n ? lo + run : n;
    for (int64_t i = lo + 1; i < hi; i++) {
      item x = a[i];
      int64_t j = i;
      while (j > lo && sign * cmp(&a[j - 1], &x) > 0) { a[j] = a[j - 1]; j--; }
      a[j] = x;
    }
  }
  for (int64_t width = run; width < n; width *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * width) {
      int64_t mid = lo + width < n ? lo + width : n;
      int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      int64_t i = lo, j = mid, k = lo;
      if (mid < hi && sign * cmp(&a[mid - 1], &a[mid]) <= 0) {
        memcpy(tmp + lo, a + lo, (size_t)(hi - lo) * sizeof *a); /* already in order */
        continue;
      }
      while (i < mid && j < hi) tmp[k++] = sign * cmp(&a[j], &a[i]) < 0 ? a[j++] : a[i++];
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
    }
    item *s = a; a = tmp; tmp = s;
  }
  return a;
}

/* ---- one pass ---- */

static inline bool is_nan_row(const ms_column *col, int64_t r) {
  if (col->type.id == MS_TYPE_FLOAT64) { double d = ((const double *)col->values->data)[r]; return d != d; }
  float f = ((const float *)col->values->data)[r];
  return f != f;
}

/* Stably sorts perm[0..n) by one key; tmp is n int64 scratch. */
static ms_status sort_pass(const ms_column *col, const ms_sort_key *key, int64_t *perm,
                           int64_t *tmp, int64_t n) {
  const ms_datatype *t = &col->type;
  if (t->id == MS_TYPE_NULL) return MS_OK; /* all rows tie */
  bool is_float = ms_type_is_float(t);
  /* Partition: nulls, NaNs and values keep their relative order. */
  int64_t n_null = 0, n_nan = 0;
  if (col->validity || is_float) {
    for (int64_t i = 0; i < n; i++) {
      int64_t r = perm[i];
      if (!ms_column_valid(col, r)) n_null++;
      else if (is_float && is_nan_row(col, r)) n_nan++;
    }
  }
  int64_t n_val = n - n_null - n_nan;
  int64_t null_at = key->nulls_first ? 0 : n_val + n_nan;
  int64_t val_at = key->nulls_first ? n_null : 0;
  int64_t nan_at = val_at + n_val;
  bool partitioned = n_null || n_nan;
  int64_t *vals = partitioned ? tmp + val_at : perm; /* sorted in place when all are values */
  if (partitioned) {
    int64_t a = null_at, b = val_at, c = nan_at;
    for (int64_t i = 0; i < n; i++) {
      int64_t r = perm[i];
      if (!ms_column_valid(col, r)) tmp[a++] = r;
      else if (is_float && is_nan_row(col, r)) tmp[c++] = r;
      else tmp[b++] = r;
    }
  }
  if (n_val > 1) {
    if (radix_type(t->id)) {
      kv *a = scratch(n_val * (int64_t)sizeof *a), *b = scratch(n_val * (int64_t)sizeof *b);
      if (!a || !b) { ms_free(a); ms_free(b); return MS_ERR_NOMEM; }
      encode_keys(col, vals, n_val, key->descending, a);
      kv *r = radix_sort(a, b, n_val);
      if (r) for (int64_t i = 0; i < n_val; i++) vals[i] = r[i].row;
      ms_free(a);
      ms_free(b);
      if (!r) return MS_ERR_NOMEM;
    } else {
      item *a = scratch(n_val * (int64_t)sizeof *a), *b = scratch(n_val * (int64_t)sizeof *b);
      if (!a || !b) { ms_free(a); ms_free(b); return MS_ERR_NOMEM; }
      item_cmp cmp = t->id == MS_TYPE_DECIMAL128 ? cmp_decimal
                     : ms_type_is_varlen(t)       ? cmp_bytes_prefixed
                                                  : cmp_bytes;
      if (ms_type_is_varlen(t)) {
        const uint8_t *d = col->data ? col->data->data : (const uint8_t *)"";
        if (ms_type_is_large(t)) {
          const int64_t *o = (const int64_t *)col->values->data;
          for (int64_t i = 0; i < n_val; i++) {
            int64_t r = vals[i];
            a[i] = (item){prefix_of(d + o[r], o[r + 1] - o[r]), d + o[r], o[r + 1] - o[r], r};
          }
        } else {
          const int32_t *o = (const int32_t *)col->values->data;
          for (int64_t i = 0; i < n_val; i++) {
            int64_t r = vals[i];
            a[i] = (item){prefix_of(d + o[r], (int64_t)o[r + 1] - o[r]), d + o[r], (int64_t)o[r + 1] - o[r], r};
          }
        }
      } else {
        int64_t w = ms_type_bit_width(t) / 8;
        for (int64_t i = 0; i < n_val; i++) {
          int64_t r = vals[i];
          a[i] = (item){0, col->values->data + r * w, w, r};
        }
      }
      item *r = merge_sort(a, b, n_val, cmp, key->descending);
      for (int64_t i = 0; i < n_val; i++) vals[i] = r[i].row;
      ms_free(a);
      ms_free(b);
    }
  }
  if (partitioned) memcpy(perm, tmp, (size_t)n * sizeof *perm);
  return MS_OK;
}

ms_status ms_table_sort_indices(const ms_table *table, const ms_sort_key *keys, int n_keys,
                                int64_t **out_indices, ms_error *err) {
  *out_indices = NULL;
  if (n_keys < 0) return ms_error_set(err, MS_ERR_INVALID, "negative sort key count");
  for (int k = 0; k < n_keys; k++)
    if (keys[k].column < 0 || keys[k].column >= table->n_columns)
      return ms_error_set(err, MS_ERR_INVALID, "sort key %d names column %d of a %d-column table",
                          k, keys[k].column, table->n_columns);
  int64_t n = table->n_rows;
  int64_t *perm = scratch(n * (int64_t)sizeof *perm);
  int64_t *tmp = scratch(n * (int64_t)sizeof *tmp);
  if (!perm || !tmp) {
    ms_free(perm);
    ms_free(tmp);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  for (int k = n_keys - 1; k >= 0; k--) {
    if (sort_pass(table->columns[keys[k].column], &keys[k], perm, tmp, n) != MS_OK) {
      ms_free(perm);
      ms_free(tmp);
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory while sorting");
    }
  }
  ms_free(tmp);
  *out_indices = perm;
  return MS_OK;
}
