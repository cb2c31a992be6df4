/* Column and table kernels: slice, filter, take (gather), concat, equality, select.
 *
 * Rules: kernels never modify their input and return new column references. Values under
 * null slots are unspecified in the input; kernels that create null slots (take with -1)
 * write zero bytes / empty strings there. Variable-length outputs always start their
 * offsets at 0, as the builder does, so consumers may rely on offsets[0] == 0.
 *
 * Method: every kernel switches on the physical layout once per column and then runs a
 * tight loop specialised for the value width (1, 2, 4, 8, 16 bytes, bit-packed bool,
 * arbitrary fixed width, 32/64-bit offsets); no per-row accessor calls. Slices are
 * zero-copy where the layout allows: fixed-width values and byte-aligned bitmaps become
 * views (ms_buffer_wrap over the parent buffer, which keeps a reference on the parent);
 * bitmaps at a non-byte offset are copied, and var-length offsets are rebased into a new
 * buffer while the bytes stay shared. Filter turns the mask into row indices once and uses
 * the gather loops of take; table kernels do that once for all columns. Concat always
 * copies (the Arrow importer relies on that to compact arrays with a non-zero offset). */
#include <string.h>

#include "columnar/column.h"

static ms_status nomem(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

/* An owned buffer whose `size` bytes are in use (contents uninitialised). */
static ms_buffer *buf_new(int64_t size) {
  ms_buffer *b = ms_buffer_create(size);
  if (b) {
    b->size = size; /* ms_buffer_create already asked for huge pages */
  }
  return b;
}

/* A bitmap of n bits, with the padding bits of the last byte cleared. */
static ms_buffer *bitmap_new(int64_t n) {
  int64_t bytes = ms_bitmap_bytes(n);
  ms_buffer *b = buf_new(bytes);
  if (b && bytes > 0) b->data[bytes - 1] = 0;
  return b;
}

static void view_release(void *owner) { ms_buffer_release(owner); }

/* A zero-copy view of parent bytes [off, off+size). Views of views point at the root so
 * chains of slices do not grow. */
static ms_buffer *buf_view(ms_buffer *parent, int64_t off, int64_t size) {
  ms_buffer *root = parent;
  if (root->release_owner == view_release) root = root->owner;
  ms_buffer *v = ms_buffer_wrap(parent->data + off, size, view_release, ms_buffer_retain(root));
  if (!v) ms_buffer_release(root);
  return v;
}

/* Builds a column from buffers the kernel made itself (trusted: no validation pass).
 * Takes the buffer references. null_count < 0 counts the bitmap. */
static ms_status make_column(const ms_datatype *type, int64_t length, int64_t null_count,
                             ms_buffer *validity, ms_buffer *values, ms_buffer *data,
                             ms_column **out, ms_error *err) {
  *out = NULL;
  ms_column *c = ms_calloc(1, sizeof *c);
  if (!c) {
    ms_buffer_release(validity);
    ms_buffer_release(values);
    ms_buffer_release(data);
    return nomem(err);
  }
  atomic_init(&c->refcount, 1);
  c->type = *type;
  c->length = length;
  if (type->id == MS_TYPE_NULL) {
    ms_buffer_release(validity);
    ms_buffer_release(values);
    ms_buffer_release(data);
    validity = values = data = NULL;
    null_count = length;
  } else if (validity) {
    if (null_count < 0) null_count = length - ms_bitmap_count_set(validity->data, length);
    if (null_count == 0) { ms_buffer_release(validity); validity = NULL; }
  } else {
    null_count = 0;
  }
  c->null_count = null_count;
  c->validity = validity;
  c->values = values;
  c->data = data;
  *out = c;
  return MS_OK;
}

/* ---------------- bitmaps ---------------- */

/* Copies n bits from src at bit soff to dst at bit doff; other bits of dst are kept. */
static void bits_copy(uint8_t *dst, int64_t doff, const uint8_t *src, int64_t soff, int64_t n) {
  if (n <= 0) return;
  if (((doff | soff) & 7) == 0) {
    int64_t whole = n >> 3;
    memcpy(dst + (doff >> 3), src + (soff >> 3), (size_t)whole);
    int rem = (int)(n & 7);
    if (rem) {
      unsigned mask = (1u << rem) - 1;
      uint8_t *d = dst + (doff >> 3) + whole;
      *d = (uint8_t)((*d & ~mask) | (src[(soff >> 3) + whole] & mask));
    }
    return;
  }
  /* After the first step the destination is byte-aligned, so this moves 8 bits a step. */
  while (n > 0) {
    int db = (int)(doff & 7);
    int k = 8 - db;
    if (k > n) k = (int)n;
    int sb = (int)(soff & 7);
    unsigned v = (unsigned)src[soff >> 3] >> sb;
    if (sb + k > 8) v |= (unsigned)src[(soff >> 3) + 1] << (8 - sb);
    unsigned mask = (1u << k) - 1;
    uint8_t *d = dst + (doff >> 3);
    *d = (uint8_t)((*d & ~(mask << db)) | ((v & mask) << db));
    doff += k;
    soff += k;
    n -= k;
  }
}

/* Sets bits [off, off+n) of dst to 1. */
static void bits_fill_ones(uint8_t *dst, int64_t off, int64_t n) {
  while (n > 0 && (off & 7)) { ms_bit_set(dst, off); off++; n--; }
  if (n >= 8) { memset(dst + (off >> 3), 0xff, (size_t)(n >> 3)); off += n & ~(int64_t)7; n &= 7; }
  while (n > 0) { ms_bit_set(dst, off); off++; n--; }
}

/* A bitmap holding bits [off, off+n) of src: a view when off is byte-aligned. */
static ms_buffer *bits_slice(ms_buffer *src, int64_t off, int64_t n) {
  if ((off & 7) == 0) return buf_view(src, off >> 3, ms_bitmap_bytes(n));
  ms_buffer *b = bitmap_new(n);
  if (b) bits_copy(b->data, 0, src->data, off, n);
  return b;
}

/* out bit i = src bit idx[i] (0 where idx[i] < 0; src NULL means all valid). */
static void bits_gather(uint8_t *out, const uint8_t *src, const int64_t *idx, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    unsigned byte = 0;
    for (int k = 0; k < 8; k++) {
      int64_t j = idx[i + k];
      unsigned v = j >= 0 ? (src ? ms_bit_get(src, j) : 1u) : 0u;
      byte |= v << k;
    }
    out[i >> 3] = (uint8_t)byte;
  }
  if (i < n) {
    unsigned byte = 0;
    for (int k = 0; i + k < n; k++) {
      int64_t j = idx[i + k];
      unsigned v = j >= 0 ? (src ? ms_bit_get(src, j) : 1u) : 0u;
      byte |= v << k;
    }
    out[i >> 3] = (uint8_t)byte;
  }
}

/* ---------------- slice ---------------- */

ms_status ms_column_slice(const ms_column *col, int64_t offset, int64_t length,
                          ms_column **out, ms_error *err) {
  *out = NULL;
  if (offset < 0 || length < 0 || offset > col->length || length > col->length - offset)
    return ms_error_set(err, MS_ERR_INVALID, "slice [%lld, +%lld) out of range for %lld rows",
                        (long long)offset, (long long)length, (long long)col->length);
  if (offset == 0 && length == col->length) {
    *out = ms_column_retain((ms_column *)col);
    return MS_OK;
  }
  const ms_datatype *t = &col->type;
  if (t->id == MS_TYPE_NULL) return make_column(t, length, length, NULL, NULL, NULL, out, err);
  ms_buffer *validity = NULL, *values = NULL, *data = NULL;
  if (col->validity) {
    validity = bits_slice(col->validity, offset, length);
    if (!validity) return nomem(err);
  }
  if (t->id == MS_TYPE_BOOL) {
    values = bits_slice(col->values, offset, length);
  } else if (ms_type_is_varlen(t)) {
    values = buf_new((length + 1) * (ms_type_is_large(t) ? 8 : 4));
    if (values) {
      int64_t base, end;
      if (ms_type_is_large(t)) {
        const int64_t *o = (const int64_t *)col->values->data + offset;
        int64_t *d = (int64_t *)values->data;
        base = o[0];
        end = o[length];
        for (int64_t i = 0; i <= length; i++) d[i] = o[i] - base;
      } else {
        const int32_t *o = (const int32_t *)col->values->data + offset;
        int32_t *d = (int32_t *)values->data;
        base = o[0];
        end = o[length];
        for (int64_t i = 0; i <= length; i++) d[i] = o[i] - (int32_t)base;
      }
      data = col->data ? buf_view(col->data, base, end - base) : ms_buffer_create(0);
      if (!data) { ms_buffer_release(values); values = NULL; }
    }
  } else {
    int64_t w = ms_type_bit_width(t) / 8;
    values = buf_view(col->values, offset * w, length * w);
  }
  if (!values) {
    ms_buffer_release(validity);
    return nomem(err);
  }
  return make_column(t, length, validity ? -1 : 0, validity, values, data, out, err);
}

/* ---------------- gather (take / filter) ---------------- */

#define GATHER_LOOP(T)                                                        \
  do {                                                                        \
    const T *s_ = (const T *)col->values->data;                               \
    T *d_ = (T *)values->data;                                                \
    if (!has_neg) {                                                           \
      for (int64_t i = 0; i < n; i++) d_[i] = s_[idx[i]];                     \
    } else {                                                                  \
      for (int64_t i = 0; i < n; i++) {                                       \
        int64_t j = idx[i];                                                   \
        d_[i] = j >= 0 ? s_[j] : (T)0;                                        \
      }                                                                       \
    }                                                                         \
  } while (0)

/* Gathers rows idx[0..n) of col; every idx is in [-1, col->length) (checked by callers);
 * has_neg tells whether any is -1. */
static ms_status gather(const ms_column *col, const int64_t *idx, int64_t n, bool has_neg,
                        ms_column **out, ms_error *err) {
  *out = NULL;
  const ms_datatype *t = &col->type;
  if (t->id == MS_TYPE_NULL) return make_column(t, n, n, NULL, NULL, NULL, out, err);
  if (col->length == 0) return ms_column_create_nulls(t, n, out, err); /* all idx are -1 */
  ms_buffer *validity = NULL, *values = NULL, *data = NULL;
  if (col->validity || has_neg) {
    validity = bitmap_new(n);
    if (!validity) return nomem(err);
    bits_gather(validity->data, col->validity ? col->validity->data : NULL, idx, n);
  }
  if (t->id == MS_TYPE_BOOL) {
    values = bitmap_new(n);
    if (values) bits_gather(values->data, col->values->data, idx, n);
  } else if (ms_type_is_varlen(t)) {
    bool large = ms_type_is_large(t);
    values = buf_new((n + 1) * (large ? 8 : 4));
    if (!values) goto oom;
    const uint8_t *src = col->data ? col->data->data : NULL;
    /* Pass 1 reads each source offset pair once (random access) and records the start,
     * so that pass 2 copies from sequential arrays only. */
    int64_t *starts = ms_malloc((size_t)(n ? n : 1) * sizeof *starts);
    if (!starts) goto oom;
    ms_mem_advise_huge(starts, n * (int64_t)sizeof *starts);
    int64_t total = 0;
    if (large) {
      const int64_t *o = (const int64_t *)col->values->data;
      int64_t *d = (int64_t *)values->data;
      d[0] = 0;
      for (int64_t i = 0; i < n; i++) {
        int64_t j = idx[i], a = 0, len = 0;
        if (j >= 0) { a = o[j]; len = o[j + 1] - a; }
        starts[i] = a;
        total += len;
        d[i + 1] = total;
      }
    } else {
      const int32_t *o = (const int32_t *)col->values->data;
      int32_t *d = (int32_t *)values->data;
      d[0] = 0;
      /* Summed in 64 bits; stored offsets are only meaningful when the total fits. */
      for (int64_t i = 0; i < n; i++) {
        int64_t j = idx[i], a = 0, len = 0;
        if (j >= 0) { a = o[j]; len = (int64_t)o[j + 1] - a; }
        starts[i] = a;
        total += len;
        d[i + 1] = (int32_t)(uint32_t)total;
      }
      if (total > INT32_MAX) {
        ms_free(starts);
        ms_buffer_release(validity);
        ms_buffer_release(values);
        return ms_error_set(err, MS_ERR_LIMIT,
                            "take result has %lld bytes, more than 32-bit offsets allow "
                            "(use a large_utf8/large_binary column)", (long long)total);
      }
    }
    data = buf_new(total);
    if (!data) { ms_free(starts); goto oom; }
    if (total > 0) { /* total == 0: src may be NULL */
      uint8_t *dst = data->data;
      if (large) {
        const int64_t *d = (const int64_t *)values->data;
        for (int64_t i = 0; i < n; i++)
          memcpy(dst + d[i], src + starts[i], (size_t)(d[i + 1] - d[i]));
      } else {
        const int32_t *d = (const int32_t *)values->data;
        for (int64_t i = 0; i < n; i++)
          memcpy(dst + d[i], src + starts[i], (size_t)(d[i + 1] - d[i]));
      }
    }
    ms_free(starts);
  } else {
    int64_t w = ms_type_bit_width(t) / 8;
    values = buf_new(n * w);
    if (!values) goto oom;
    switch (w) {
      case 1: GATHER_LOOP(uint8_t); break;
      case 2: GATHER_LOOP(uint16_t); break;
      case 4: GATHER_LOOP(uint32_t); break;
      case 8: GATHER_LOOP(uint64_t); break;
      case 16: {
        const uint64_t *s = (const uint64_t *)col->values->data;
        uint64_t *d = (uint64_t *)values->data;
        for (int64_t i = 0; i < n; i++) {
          int64_t j = idx[i];
          if (j >= 0) { d[2 * i] = s[2 * j]; d[2 * i + 1] = s[2 * j + 1]; }
          else { d[2 * i] = 0; d[2 * i + 1] = 0; }
        }
        break;
      }
      default: {
        const uint8_t *s = col->values->data;
        uint8_t *d = values->data;
        for (int64_t i = 0; i < n; i++) {
          int64_t j = idx[i];
          if (j >= 0) memcpy(d + i * w, s + j * w, (size_t)w);
          else memset(d + i * w, 0, (size_t)w);
        }
      }
    }
  }
  if (!values) goto oom;
  return make_column(t, n, validity ? -1 : 0, validity, values, data, out, err);
oom:
  ms_buffer_release(validity);
  ms_buffer_release(values);
  ms_buffer_release(data);
  return nomem(err);
}

/* Checks every index is in [-1, length); sets *has_neg. */
static ms_status check_indices(const int64_t *idx, int64_t n, int64_t length, bool *has_neg,
                               ms_error *err) {
  uint64_t bad = 0, neg = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t j = idx[i];
    bad |= (uint64_t)(j + 1) > (uint64_t)length;
    neg |= (uint64_t)j >> 63;
  }
  *has_neg = neg != 0;
  if (!bad && n >= 0) return MS_OK;
  if (n < 0) return ms_error_set(err, MS_ERR_INVALID, "negative take count %lld", (long long)n);
  for (int64_t i = 0; i < n; i++)
    if (idx[i] < -1 || idx[i] >= length)
      return ms_error_set(err, MS_ERR_INVALID, "take index %lld at position %lld out of range for %lld rows",
                          (long long)idx[i], (long long)i, (long long)length);
  return ms_error_set(err, MS_ERR_INTERNAL, "index check inconsistent");
}

ms_status ms_column_take(const ms_column *col, const int64_t *indices, int64_t n,
                         ms_column **out, ms_error *err) {
  *out = NULL;
  bool has_neg;
  ms_status st = check_indices(indices, n, col->length, &has_neg, err);
  if (st) return st;
  return gather(col, indices, n, has_neg, out, err);
}

/* Row indices of the non-zero mask bytes; *out is NULL when every row is kept. */
static ms_status mask_to_indices(const uint8_t *mask, int64_t length, int64_t **out,
                                 int64_t *out_n, ms_error *err) {
  *out = NULL;
  int64_t count = 0;
  for (int64_t i = 0; i < length; i++) count += mask[i] != 0;
  *out_n = count;
  if (count == length) return MS_OK;
  int64_t *idx = ms_malloc((size_t)(count ? count : 1) * sizeof *idx);
  if (!idx) return nomem(err);
  int64_t k = 0;
  for (int64_t i = 0; i < length; i++) {
    idx[k] = i;
    k += mask[i] != 0; /* branch-free: the slot is overwritten when the row is dropped */
    if (k == count) break;
  }
  *out = idx;
  return MS_OK;
}

ms_status ms_column_filter(const ms_column *col, const uint8_t *mask, ms_column **out,
                           ms_error *err) {
  *out = NULL;
  int64_t *idx, n;
  ms_status st = mask_to_indices(mask, col->length, &idx, &n, err);
  if (st) return st;
  if (!idx) {
    *out = ms_column_retain((ms_column *)col);
    return MS_OK;
  }
  st = gather(col, idx, n, false, out, err);
  ms_free(idx);
  return st;
}

/* ---------------- concat ---------------- */

ms_status ms_column_concat(ms_column *const *cols, int n, ms_column **out, ms_error *err) {
  *out = NULL;
  if (n < 1) return ms_error_set(err, MS_ERR_INVALID, "concat of zero columns");
  const ms_datatype *t = &cols[0]->type;
  int64_t length = 0, nulls = 0;
  for (int i = 0; i < n; i++) {
    if (!ms_type_equal(t, &cols[i]->type)) {
      char a[96], b[96];
      return ms_error_set(err, MS_ERR_TYPE, "concat of %s and %s columns",
                          ms_type_to_string(t, a, sizeof a),
                          ms_type_to_string(&cols[i]->type, b, sizeof b));
    }
    if (cols[i]->length > INT64_MAX / 2 - length)
      return ms_error_set(err, MS_ERR_LIMIT, "concat result too long");
    length += cols[i]->length;
    nulls += cols[i]->null_count;
  }
  if (t->id == MS_TYPE_NULL) return make_column(t, length, length, NULL, NULL, NULL, out, err);
  ms_buffer *validity = NULL, *values = NULL, *data = NULL;
  if (nulls > 0) {
    validity = bitmap_new(length);
    if (!validity) return nomem(err);
    int64_t pos = 0;
    for (int i = 0; i < n; i++) {
      const ms_column *c = cols[i];
      if (c->validity) bits_copy(validity->data, pos, c->validity->data, 0, c->length);
      else bits_fill_ones(validity->data, pos, c->length);
      pos += c->length;
    }
  }
  if (t->id == MS_TYPE_BOOL) {
    values = bitmap_new(length);
    if (!values) goto oom;
    int64_t pos = 0;
    for (int i = 0; i < n; i++) {
      bits_copy(values->data, pos, cols[i]->values->data, 0, cols[i]->length);
      pos += cols[i]->length;
    }
  } else if (ms_type_is_varlen(t)) {
    bool large = ms_type_is_large(t);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
      const ms_column *c = cols[i];
      int64_t a, b;
      if (large) { a = ((const int64_t *)c->values->data)[0]; b = ((const int64_t *)c->values->data)[c->length]; }
      else { a = ((const int32_t *)c->values->data)[0]; b = ((const int32_t *)c->values->data)[c->length]; }
      total += b - a;
    }
    if (!large && total > INT32_MAX) {
      ms_buffer_release(validity);
      return ms_error_set(err, MS_ERR_LIMIT,
                          "concat result has %lld bytes, more than 32-bit offsets allow "
                          "(use a large_utf8/large_binary column)", (long long)total);
    }
    values = buf_new((length + 1) * (large ? 8 : 4));
    data = buf_new(total);
    if (!values || !data) goto oom;
    int64_t row = 0, pos = 0;
    if (large) ((int64_t *)values->data)[0] = 0;
    else ((int32_t *)values->data)[0] = 0;
    for (int i = 0; i < n; i++) {
      const ms_column *c = cols[i];
      int64_t a, b;
      if (large) {
        const int64_t *o = (const int64_t *)c->values->data;
        int64_t *d = (int64_t *)values->data + row + 1;
        a = o[0];
        b = o[c->length];
        int64_t shift = pos - a;
        for (int64_t k = 0; k < c->length; k++) d[k] = o[k + 1] + shift;
      } else {
        const int32_t *o = (const int32_t *)c->values->data;
        int32_t *d = (int32_t *)values->data + row + 1;
        a = o[0];
        b = o[c->length];
        int32_t shift = (int32_t)(pos - a);
        for (int64_t k = 0; k < c->length; k++) d[k] = o[k + 1] + shift;
      }
      if (b > a) memcpy(data->data + pos, c->data->data + a, (size_t)(b - a));
      pos += b - a;
      row += c->length;
    }
  } else {
    int64_t w = ms_type_bit_width(t) / 8;
    values = buf_new(length * w);
    if (!values) goto oom;
    int64_t pos = 0;
    for (int i = 0; i < n; i++) {
      int64_t bytes = cols[i]->length * w;
      if (bytes) memcpy(values->data + pos, cols[i]->values->data, (size_t)bytes);
      pos += bytes;
    }
  }
  return make_column(t, length, nulls, validity, values, data, out, err);
oom:
  ms_buffer_release(validity);
  ms_buffer_release(values);
  ms_buffer_release(data);
  return nomem(err);
}

/* ---------------- equality ---------------- */

static bool f64_same(double x, double y) {
  if (x != x && y != y) return true;
  uint64_t a, b;
  memcpy(&a, &x, 8);
  memcpy(&b, &y, 8);
  return a == b;
}

bool ms_column_equal(const ms_column *a, const ms_column *b) {
  if (a == b) return true;
  if (!ms_type_equal(&a->type, &b->type) || a->length != b->length ||
      a->null_count != b->null_count)
    return false;
  const ms_datatype *t = &a->type;
  int64_t n = a->length;
  if (t->id == MS_TYPE_NULL) return true;
  const uint8_t *va = a->validity ? a->validity->data : NULL;
  const uint8_t *vb = b->validity ? b->validity->data : NULL;
  if (va && vb) {
    for (int64_t i = 0; i < n; i++)
      if (ms_bit_get(va, i) != ms_bit_get(vb, i)) return false;
  }
  /* Equal null counts: when one side has no bitmap both are all valid. */
  const uint8_t *valid = va ? va : NULL;
#define VALID(i) (!valid || ms_bit_get(valid, (i)))
  if (t->id == MS_TYPE_BOOL) {
    for (int64_t i = 0; i < n; i++)
      if (VALID(i) && ms_bit_get(a->values->data, i) != ms_bit_get(b->values->data, i)) return false;
    return true;
  }
  if (t->id == MS_TYPE_FLOAT32) {
    const float *x = (const float *)a->values->data, *y = (const float *)b->values->data;
    for (int64_t i = 0; i < n; i++) {
      if (!VALID(i)) continue;
      if (x[i] != x[i] && y[i] != y[i]) continue;
      if (memcmp(&x[i], &y[i], 4) != 0) return false;
    }
    return true;
  }
  if (t->id == MS_TYPE_FLOAT64) {
    const double *x = (const double *)a->values->data, *y = (const double *)b->values->data;
    for (int64_t i = 0; i < n; i++)
      if (VALID(i) && !f64_same(x[i], y[i])) return false;
    return true;
  }
  if (ms_type_is_varlen(t)) {
    bool large = ms_type_is_large(t);
    const uint8_t *da = a->data ? a->data->data : NULL, *db = b->data ? b->data->data : NULL;
    for (int64_t i = 0; i < n; i++) {
      if (!VALID(i)) continue;
      int64_t a0, a1, b0, b1;
      if (large) {
        const int64_t *oa = (const int64_t *)a->values->data, *ob = (const int64_t *)b->values->data;
        a0 = oa[i]; a1 = oa[i + 1]; b0 = ob[i]; b1 = ob[i + 1];
      } else {
        const int32_t *oa = (const int32_t *)a->values->data, *ob = (const int32_t *)b->values->data;
        a0 = oa[i]; a1 = oa[i + 1]; b0 = ob[i]; b1 = ob[i + 1];
      }
      if (a1 - a0 != b1 - b0) return false;
      if (a1 > a0 && memcmp(da + a0, db + b0, (size_t)(a1 - a0)) != 0) return false;
    }
    return true;
  }
  int64_t w = ms_type_bit_width(t) / 8;
  if (!valid) return n == 0 || memcmp(a->values->data, b->values->data, (size_t)(n * w)) == 0;
  for (int64_t i = 0; i < n; i++)
    if (VALID(i) && memcmp(a->values->data + i * w, b->values->data + i * w, (size_t)w) != 0)
      return false;
  return true;
#undef VALID
}

/* ---------------- tables ---------------- */

/* A table with t's fields over `cols` (n_rows rows); consumes the column references. */
static ms_status table_from(const ms_table *t, ms_column **cols, int64_t n_rows, ms_table **out,
                            ms_error *err) {
  ms_status st = ms_table_create(t->fields, cols, t->n_columns, out, err);
  for (int i = 0; i < t->n_columns; i++) ms_column_release(cols[i]);
  ms_free(cols);
  if (st == MS_OK) (*out)->n_rows = n_rows; /* keeps the row count of column-less tables */
  return st;
}

static ms_column **cols_alloc(const ms_table *t) {
  return ms_calloc((size_t)(t->n_columns ? t->n_columns : 1), sizeof(ms_column *));
}

static ms_status cols_fail(ms_column **cols, int n, ms_status st) {
  for (int i = 0; i < n; i++) ms_column_release(cols[i]);
  ms_free(cols);
  return st;
}

ms_status ms_table_slice(const ms_table *t, int64_t offset, int64_t length, ms_table **out,
                         ms_error *err) {
  *out = NULL;
  if (offset < 0 || length < 0 || offset > t->n_rows || length > t->n_rows - offset)
    return ms_error_set(err, MS_ERR_INVALID, "slice [%lld, +%lld) out of range for %lld rows",
                        (long long)offset, (long long)length, (long long)t->n_rows);
  ms_column **cols = cols_alloc(t);
  if (!cols) return nomem(err);
  for (int i = 0; i < t->n_columns; i++) {
    ms_status st = ms_column_slice(t->columns[i], offset, length, &cols[i], err);
    if (st) return cols_fail(cols, i, st);
  }
  return table_from(t, cols, length, out, err);
}

/* Gathers every column with validated indices. */
static ms_status table_gather(const ms_table *t, const int64_t *idx, int64_t n, bool has_neg,
                              ms_table **out, ms_error *err) {
  ms_column **cols = cols_alloc(t);
  if (!cols) return nomem(err);
  for (int i = 0; i < t->n_columns; i++) {
    ms_status st = gather(t->columns[i], idx, n, has_neg, &cols[i], err);
    if (st) {
      ms_error_set_column(err, t->fields[i].name);
      return cols_fail(cols, i, st);
    }
  }
  return table_from(t, cols, n, out, err);
}

ms_status ms_table_filter(const ms_table *t, const uint8_t *mask, ms_table **out, ms_error *err) {
  *out = NULL;
  int64_t *idx, n;
  ms_status st = mask_to_indices(mask, t->n_rows, &idx, &n, err);
  if (st) return st;
  if (!idx) {
    *out = ms_table_retain((ms_table *)t);
    return MS_OK;
  }
  st = table_gather(t, idx, n, false, out, err);
  ms_free(idx);
  return st;
}

ms_status ms_table_take(const ms_table *t, const int64_t *indices, int64_t n, ms_table **out,
                        ms_error *err) {
  *out = NULL;
  bool has_neg;
  ms_status st = check_indices(indices, n, t->n_rows, &has_neg, err);
  if (st) return st;
  return table_gather(t, indices, n, has_neg, out, err);
}

ms_status ms_table_concat(ms_table *const *tables, int n, ms_table **out, ms_error *err) {
  *out = NULL;
  if (n < 1) return ms_error_set(err, MS_ERR_INVALID, "concat of zero tables");
  const ms_table *t0 = tables[0];
  int64_t rows = 0;
  for (int k = 0; k < n; k++) {
    const ms_table *t = tables[k];
    if (t->n_columns != t0->n_columns)
      return ms_error_set(err, MS_ERR_TYPE, "concat of tables with %d and %d columns",
                          t0->n_columns, t->n_columns);
    for (int i = 0; i < t0->n_columns; i++) {
      if (strcmp(t->fields[i].name, t0->fields[i].name) != 0 ||
          !ms_type_equal(&t->fields[i].type, &t0->fields[i].type)) {
        char a[96], b[96];
        return ms_error_set(err, MS_ERR_TYPE, "concat: column %d is '%s' %s in one table and '%s' %s in another",
                            i, t0->fields[i].name, ms_type_to_string(&t0->fields[i].type, a, sizeof a),
                            t->fields[i].name, ms_type_to_string(&t->fields[i].type, b, sizeof b));
      }
    }
    rows += t->n_rows;
  }
  if (n == 1) {
    *out = ms_table_retain(tables[0]);
    return MS_OK;
  }
  ms_column **cols = cols_alloc(t0);
  ms_column **parts = ms_calloc((size_t)n, sizeof *parts);
  if (!cols || !parts) {
    ms_free(parts);
    return cols_fail(cols, 0, nomem(err));
  }
  for (int i = 0; i < t0->n_columns; i++) {
    for (int k = 0; k < n; k++) parts[k] = tables[k]->columns[i];
    ms_status st = ms_column_concat(parts, n, &cols[i], err);
    if (st) {
      ms_free(parts);
      ms_error_set_column(err, t0->fields[i].name);
      return cols_fail(cols, i, st);
    }
  }
  ms_free(parts);
  return table_from(t0, cols, rows, out, err);
}

ms_status ms_table_select(const ms_table *t, const char *const *names, int n, ms_table **out,
                          ms_error *err) {
  *out = NULL;
  if (n < 0) return ms_error_set(err, MS_ERR_INVALID, "negative column count");
  ms_field *fields = ms_calloc((size_t)(n ? n : 1), sizeof *fields);
  ms_column **cols = ms_calloc((size_t)(n ? n : 1), sizeof *cols);
  if (!fields || !cols) {
    ms_free(fields);
    ms_free(cols);
    return nomem(err);
  }
  ms_status st = MS_OK;
  for (int i = 0; i < n; i++) {
    int c = ms_table_find_column(t, names[i]);
    if (c < 0) {
      st = ms_error_set(err, MS_ERR_NOT_FOUND, "no column named '%s'", names[i]);
      ms_error_set_column(err, names[i]);
      break;
    }
    fields[i] = t->fields[c]; /* shallow: ms_table_create copies the name */
    cols[i] = t->columns[c];
  }
  if (st == MS_OK) {
    st = ms_table_create(fields, cols, n, out, err);
    if (st == MS_OK) (*out)->n_rows = t->n_rows;
  }
  ms_free(fields);
  ms_free(cols);
  return st;
}
