/* The Parquet reader's public face (include/morsel/parquet.h): open a file and decode its
 * footer, prune row groups with min/max statistics, decode the chosen columns into a
 * table.
 *
 * Open: the file is mapped when the back end can (ms_file_map), else ranged reads fetch
 * the footer and later each column chunk. "PAR1" must be at both ends; "PARE" (encrypted
 * footer) is MS_ERR_UNSUPPORTED.
 *
 * Read: output buffers for every requested column are allocated once for all kept row
 * groups (rows summed from the footer, bounded by the bytes of the chunks so a lying
 * footer cannot ask for a huge allocation). Tasks = (row group, column) run on the pool;
 * each decodes its chunk straight into its slice of the final buffer. Bitmaps and string
 * bytes are chunk-local and merged per column in a second parallel pass (bit copies and
 * one memcpy of string bytes, skipped when there is a single row group). Byte arrays of
 * more than 2 GiB in one read become large_utf8/large_binary.
 *
 * Pruning: a row group is kept unless a range provably misses its [min, max]. min_value /
 * max_value are used when present; the legacy min/max only for signed integers, floats,
 * dates and timestamps (their legacy order is signed, which is right there); byte strings
 * only with min_value/max_value. Groups without usable statistics are kept, as are groups
 * for ranges on columns the file does not have. */
#include <math.h>
#include <string.h>

#include "formats/parquet/pq_read.h"
#include "morsel/alloc.h"

/* ---------------- open / close ---------------- */

static ms_status open_common(ms_pq_file *f, ms_error *err) {
  int64_t size = f->size;
  uint8_t tail[8], head[4];
  if (size < 12) return ms_error_set(err, MS_ERR_CORRUPT, "file of %lld bytes is too small for Parquet", (long long)size);
  ms_status st;
  if (f->data) {
    memcpy(head, f->data, 4);
    memcpy(tail, f->data + size - 8, 8);
  } else {
    if ((st = ms_file_read_at(f->file, 0, 4, head, err)) != MS_OK) return st;
    if ((st = ms_file_read_at(f->file, size - 8, 8, tail, err)) != MS_OK) return st;
  }
  if (memcmp(tail + 4, "PARE", 4) == 0 || memcmp(head, "PARE", 4) == 0)
    return ms_error_set(err, MS_ERR_UNSUPPORTED, "encrypted Parquet footer (PARE) is not supported");
  if (memcmp(head, "PAR1", 4) != 0) {
    ms_error_set_byte_offset(err, 0);
    return ms_error_set(err, MS_ERR_CORRUPT, "not a Parquet file (no PAR1 magic at the start)");
  }
  if (memcmp(tail + 4, "PAR1", 4) != 0) {
    ms_error_set_byte_offset(err, size - 4);
    return ms_error_set(err, MS_ERR_CORRUPT, "no PAR1 magic at the end (truncated file?)");
  }
  uint32_t flen;
  memcpy(&flen, tail, 4);
  if ((int64_t)flen > size - 12) {
    ms_error_set_byte_offset(err, size - 8);
    return ms_error_set(err, MS_ERR_CORRUPT, "footer length %u exceeds the file", flen);
  }
  int64_t fstart = size - 8 - flen;
  const uint8_t *footer = f->data ? f->data + fstart : NULL;
  uint8_t *owned = NULL;
  if (!footer) {
    owned = ms_malloc(flen ? flen : 1);
    if (!owned) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    if ((st = ms_file_read_at(f->file, fstart, flen, owned, err)) != MS_OK) { ms_free(owned); return st; }
    footer = owned;
  }
  st = ms_pq_metadata_decode(footer, flen, &f->md, err);
  ms_free(owned);
  if (st) {
    if (err && err->byte_offset >= 0) err->byte_offset += fstart;
    return st;
  }
  int64_t sum = 0;
  for (int32_t i = 0; i < f->md.n_row_groups; i++) sum += f->md.row_groups[i].num_rows;
  if (sum != f->md.num_rows && f->md.n_row_groups > 0)
    return ms_error_set(err, MS_ERR_CORRUPT, "row groups hold %lld rows, the footer says %lld",
                        (long long)sum, (long long)f->md.num_rows);
  return ms_pq__build_columns(f, err);
}

ms_status ms_pq_open(ms_fs *fs, const char *path, ms_pq_file **out, ms_error *err) {
  *out = NULL;
  ms_pq_file *f = ms_calloc(1, sizeof *f);
  if (!f || !(f->path = ms_strdup(path))) { ms_free(f); return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }
  ms_status st = ms_fs_open(fs, path, &f->file, err);
  if (st == MS_OK) {
    f->size = ms_file_size(f->file);
    if (f->size > 0) f->data = ms_file_map(f->file, 0, f->size);
    st = open_common(f, err);
  }
  if (st) {
    ms_error_set_file(err, path);
    ms_pq_close(f);
    return st;
  }
  *out = f;
  return MS_OK;
}

void ms_pq_close(ms_pq_file *f) {
  if (!f) return;
  ms_pq_metadata_free(&f->md);
  ms_free(f->columns);
  ms_file_close(f->file);
  ms_free(f->path);
  ms_free(f);
}

int64_t ms_pq_num_rows(const ms_pq_file *f) { return f->md.num_rows; }
int ms_pq_num_row_groups(const ms_pq_file *f) { return f->md.n_row_groups; }
int64_t ms_pq_row_group_num_rows(const ms_pq_file *f, int row_group) {
  if (row_group < 0 || row_group >= f->md.n_row_groups) return -1;
  return f->md.row_groups[row_group].num_rows;
}
int ms_pq_num_fields(const ms_pq_file *f) { return f->n_columns; }
const ms_field *ms_pq_field(const ms_pq_file *f, int i) {
  return i >= 0 && i < f->n_columns ? &f->columns[i].field : NULL;
}
bool ms_pq_field_is_nested(const ms_pq_file *f, int i) {
  return i >= 0 && i < f->n_columns && f->columns[i].nested;
}
int ms_pq_num_kv(const ms_pq_file *f) { return f->md.n_kv; }
const char *ms_pq_kv_key(const ms_pq_file *f, int i) {
  return i >= 0 && i < f->md.n_kv ? f->md.kv[i].key : NULL;
}
const char *ms_pq_kv_value(const ms_pq_file *f, int i) {
  return i >= 0 && i < f->md.n_kv ? f->md.kv[i].value : NULL;
}
const struct ms_pq_metadata *ms_pq_metadata_of(const ms_pq_file *f) { return &f->md; }

/* ---------------- pruning ---------------- */

typedef enum { DOM_NONE, DOM_INT, DOM_FLOAT, DOM_BYTES } stat_domain;

/* Reads one statistic bound into the column's comparison domain. Integers are widened to
 * __int128 (timestamps to nanoseconds) so unsigned 64-bit and unit scaling cannot
 * overflow. */
static bool stat_value(const pq_column *c, const uint8_t *p, int32_t len, stat_domain dom,
                       __int128 *iv, double *fv) {
  const ms_datatype *t = &c->field.type;
  if (dom == DOM_FLOAT) {
    if (c->phys == MS_PQ_FLOAT && len == 4) { float v; memcpy(&v, p, 4); *fv = v; }
    else if (c->phys == MS_PQ_DOUBLE && len == 8) { memcpy(fv, p, 8); }
    else return false;
    return !isnan(*fv);
  }
  if (c->phys == MS_PQ_INT32 && len == 4) {
    uint32_t u;
    memcpy(&u, p, 4);
    if (t->id == MS_TYPE_UINT8 || t->id == MS_TYPE_UINT16 || t->id == MS_TYPE_UINT32) *iv = u;
    else *iv = (int32_t)u;
  } else if (c->phys == MS_PQ_INT64 && len == 8) {
    uint64_t u;
    memcpy(&u, p, 8);
    if (t->id == MS_TYPE_UINT64) *iv = u;
    else *iv = (int64_t)u;
  } else if (c->phys == MS_PQ_BOOLEAN && len == 1) {
    *iv = p[0] & 1;
  } else {
    return false;
  }
  if (t->id == MS_TYPE_TIMESTAMP) *iv *= ms_time_unit_per_second(MS_UNIT_NANO) / ms_time_unit_per_second(t->unit);
  return true;
}

static int cmp_bytes(const uint8_t *a, int64_t al, const uint8_t *b, int64_t bl) {
  int64_t n = al < bl ? al : bl;
  int r = n ? memcmp(a, b, (size_t)n) : 0;
  if (r) return r;
  return al < bl ? -1 : al > bl;
}

/* True when the row group may hold rows in the range. */
static bool range_overlaps(const ms_pq_file *f, int rg, const ms_range *r) {
  const pq_column *c = NULL;
  for (int i = 0; i < f->n_columns; i++)
    if (!f->columns[i].unsupported && strcmp(f->columns[i].field.name, r->column) == 0) { c = &f->columns[i]; break; }
  if (!c) return true;
  const ms_pq_column_chunk *cc = &f->md.row_groups[rg].columns[c->leaf];
  if (!cc->has_meta_data || !cc->meta_data.has_statistics) return true;
  const ms_pq_statistics *s = &cc->meta_data.statistics;
  const ms_datatype *t = &c->field.type;
  stat_domain dom = DOM_NONE;
  bool legacy_ok = false;
  if (ms_type_is_float(t) && c->conv == PQ_CONV_COPY) { dom = DOM_FLOAT; legacy_ok = true; }
  else if ((ms_type_is_integer(t) || t->id == MS_TYPE_DATE32 || t->id == MS_TYPE_BOOL ||
            (t->id == MS_TYPE_TIMESTAMP && c->phys == MS_PQ_INT64))) {
    dom = DOM_INT;
    legacy_ok = ms_type_is_signed_integer(t) || t->id == MS_TYPE_DATE32 || t->id == MS_TYPE_TIMESTAMP;
  } else if (ms_type_is_varlen(t) || t->id == MS_TYPE_FIXED_BINARY) {
    dom = DOM_BYTES;
  }
  if (dom == DOM_NONE) return true;
  const uint8_t *mn = NULL, *mx = NULL;
  int32_t mnl = 0, mxl = 0;
  if (s->has_min_value && s->has_max_value) { mn = s->min_value; mnl = s->min_value_len; mx = s->max_value; mxl = s->max_value_len; }
  else if (legacy_ok && s->has_min && s->has_max) { mn = s->min; mnl = s->min_len; mx = s->max; mxl = s->max_len; }
  else return true;
  if (dom == DOM_BYTES) {
    if (r->kind != MS_RANGE_STRING) return true;
    if (r->has_hi && cmp_bytes(mn, mnl, (const uint8_t *)r->hi_s, r->hi_s_len) > 0) return false;
    if (r->has_lo && cmp_bytes(mx, mxl, (const uint8_t *)r->lo_s, r->lo_s_len) < 0) return false;
    return true;
  }
  __int128 imn = 0, imx = 0;
  double fmn = 0, fmx = 0;
  if (!stat_value(c, mn, mnl, dom, &imn, &fmn) || !stat_value(c, mx, mxl, dom, &imx, &fmx)) return true;
  if (dom == DOM_INT && r->kind == MS_RANGE_INT) {
    if (r->has_hi && imn > r->hi_i) return false;
    if (r->has_lo && imx < r->lo_i) return false;
    return true;
  }
  if (dom == DOM_INT) { fmn = (double)imn; fmx = (double)imx; }
  if (r->kind == MS_RANGE_FLOAT) {
    if (r->has_hi && fmn > r->hi_f) return false;
    if (r->has_lo && fmx < r->lo_f) return false;
  } else if (r->kind == MS_RANGE_INT) {
    if (r->has_hi && fmn > (double)r->hi_i) return false;
    if (r->has_lo && fmx < (double)r->lo_i) return false;
  }
  return true;
}

/* ---------------- read ---------------- */

typedef struct read_col {
  const pq_column *col;
  int64_t rows;
  ms_buffer *values, *validity, *data;
  ms_datatype type;
  int64_t null_count;
} read_col;

typedef struct read_ctx {
  ms_pq_file *f;
  int n_rg, n_cols;
  const int *rgs;
  const int64_t *row0;
  read_col *cols;
  pq_chunk_out *outs; /* n_rg * n_cols, row-group major */
  pq_worker *workers;
} read_ctx;

static ms_status chunk_task(void *vctx, int64_t task, int worker, ms_error *err) {
  read_ctx *r = vctx;
  int rgi = (int)(task / r->n_cols), ci = (int)(task % r->n_cols);
  pq_chunk_out *o = &r->outs[task];
  read_col *rc = &r->cols[ci];
  const pq_column *col = rc->col;
  int rg = r->rgs[rgi];
  const ms_pq_column_meta *m = &r->f->md.row_groups[rg].columns[col->leaf].meta_data;
  o->row0 = r->row0[rgi];
  o->rows = r->f->md.row_groups[rg].num_rows;
  ms_status st = MS_OK;
  if (col->conv == PQ_CONV_BYTES) o->ends = (int32_t *)(void *)rc->values->data;
  else if (col->conv != PQ_CONV_BOOL) o->values = rc->values->data;
  if (col->max_def > 0 && !(o->valid = ms_calloc((size_t)ms_bitmap_bytes(o->rows) + 1, 1))) st = MS_ERR_NOMEM;
  if (col->conv == PQ_CONV_BOOL && !(o->bools = ms_calloc((size_t)ms_bitmap_bytes(o->rows) + 1, 1))) st = MS_ERR_NOMEM;
  if (col->conv == PQ_CONV_BYTES) {
    /* A first guess from the chunk's sizes; the buffer grows by doubling if needed. */
    int64_t guess = m->total_uncompressed_size;
    int64_t cap = 16 * (m->total_compressed_size > 0 ? m->total_compressed_size : 0) + 1024;
    if (guess < 0 || guess > cap) guess = cap;
    if (!(o->data = ms_buffer_create(guess))) st = MS_ERR_NOMEM;
  }
  if (st) ms_error_set(err, st, "out of memory");
  else st = ms_pq__decode_chunk(r->f, rg, col, &r->workers[worker], o, err);
  if (st == MS_OK && r->f->data) {
    /* The chunk's compressed bytes are done with: let their mapped pages go, so peak
     * memory holds the decoded columns and not the file as well. */
    int64_t start = m->data_page_offset;
    if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0 &&
        m->dictionary_page_offset < start)
      start = m->dictionary_page_offset;
    ms_file_release(r->f->file, start, m->total_compressed_size);
  }
  if (st) {
    ms_error_set_file(err, r->f->path);
    ms_error_set_column(err, col->field.name);
    ms_error_set_row_group(err, rg);
  }
  return st;
}

/* ORs n bits of src (bits past n are zero) into dst at bit offset off. */
static void copy_bits(uint8_t *dst, int64_t off, const uint8_t *src, int64_t n) {
  if (n <= 0) return;
  int sh = (int)(off & 7);
  uint8_t *d = dst + (off >> 3);
  int64_t nb = ms_bitmap_bytes(n);
  if (sh == 0) {
    for (int64_t k = 0; k < nb; k++) d[k] |= src[k];
    return;
  }
  for (int64_t k = 0; k < nb; k++) {
    d[k] |= (uint8_t)(src[k] << sh);
    uint8_t hi = (uint8_t)(src[k] >> (8 - sh));
    if (hi) d[k + 1] |= hi;
  }
}

/* Second pass, one task per column: merge chunk-local bitmaps and string bytes. */
static ms_status merge_task(void *vctx, int64_t ci, int worker, ms_error *err) {
  read_ctx *r = vctx;
  read_col *rc = &r->cols[ci];
  const pq_column *col = rc->col;
  if (col->max_def > 0) {
    for (int g = 0; g < r->n_rg; g++) rc->null_count += r->outs[(int64_t)g * r->n_cols + ci].null_count;
    if (rc->null_count > 0) {
      for (int g = 0; g < r->n_rg; g++) {
        pq_chunk_out *o = &r->outs[(int64_t)g * r->n_cols + ci];
        copy_bits(rc->validity->data, o->row0, o->valid, o->rows);
      }
    } else {
      ms_buffer_release(rc->validity);
      rc->validity = NULL;
    }
  }
  if (col->conv == PQ_CONV_BOOL) {
    for (int g = 0; g < r->n_rg; g++) {
      pq_chunk_out *o = &r->outs[(int64_t)g * r->n_cols + ci];
      copy_bits(rc->values->data, o->row0, o->bools, o->rows);
    }
  }
  if (col->conv != PQ_CONV_BYTES) return MS_OK;
  int32_t *ends = (int32_t *)(void *)rc->values->data;
  ends[0] = 0;
  if (r->n_rg == 1) {
    rc->data = r->outs[ci].data;
    r->outs[ci].data = NULL;
    return MS_OK;
  }
  int64_t total = 0;
  for (int g = 0; g < r->n_rg; g++) total += r->outs[(int64_t)g * r->n_cols + ci].data->size;
  rc->data = ms_buffer_create(total);
  if (!rc->data) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  rc->data->size = total;
  if (total <= INT32_MAX) {
    int64_t base = 0;
    for (int g = 0; g < r->n_rg; g++) {
      pq_chunk_out *o = &r->outs[(int64_t)g * r->n_cols + ci];
      if (o->data->size) memcpy(rc->data->data + base, o->data->data, (size_t)o->data->size);
      int32_t b = (int32_t)base, *e = ends + o->row0 + 1;
      if (b) for (int64_t i = 0; i < o->rows; i++) e[i] += b;
      base += o->data->size;
    }
    return MS_OK;
  }
  /* More than 2 GiB: switch to 64-bit offsets (large_utf8 / large_binary). */
  ms_buffer *big = ms_buffer_create((rc->rows + 1) * 8);
  if (!big) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  big->size = (rc->rows + 1) * 8;
  int64_t *e64 = (int64_t *)(void *)big->data;
  e64[0] = 0;
  int64_t base = 0;
  for (int g = 0; g < r->n_rg; g++) {
    pq_chunk_out *o = &r->outs[(int64_t)g * r->n_cols + ci];
    if (o->data->size) memcpy(rc->data->data + base, o->data->data, (size_t)o->data->size);
    for (int64_t i = 1; i <= o->rows; i++) e64[o->row0 + i] = base + ends[o->row0 + i];
    base += o->data->size;
  }
  ms_buffer_release(rc->values);
  rc->values = big;
  rc->type = ms_type(rc->type.id == MS_TYPE_UTF8 ? MS_TYPE_LARGE_UTF8 : MS_TYPE_LARGE_BINARY);
  return MS_OK;
}

static const pq_column *find_column(const ms_pq_file *f, const char *name) {
  for (int i = 0; i < f->n_columns; i++)
    if (strcmp(f->columns[i].field.name, name) == 0) return &f->columns[i];
  return NULL;
}


static ms_status read_impl(ms_pq_file *f, const ms_pq_read_options *opts, ms_table **out,
                           ms_pq_read_stats *stats, ms_error *err) {
  ms_pq_read_options none;
  if (!opts) { memset(&none, 0, sizeof none); opts = &none; }
  const ms_pq_metadata *md = &f->md;
  ms_status st = MS_OK;
  /* Columns. */
  int n_cols = 0;
  const pq_column **cols = ms_calloc((size_t)(opts->columns ? opts->n_columns : f->n_columns) + 1, sizeof *cols);
  if (!cols) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  if (opts->columns) {
    for (int i = 0; i < opts->n_columns; i++) {
      const pq_column *c = find_column(f, opts->columns[i]);
      if (!c) {
        ms_error_set_column(err, opts->columns[i]);
        st = ms_error_set(err, MS_ERR_NOT_FOUND, "no column '%s' in the file", opts->columns[i]);
      } else if (c->unsupported) {
        ms_error_set_column(err, c->field.name);
        st = ms_error_set(err, MS_ERR_UNSUPPORTED, "column '%s': %s", c->field.name, c->unsupported);
      }
      if (st) { ms_error_set_file(err, f->path); ms_free(cols); return st; }
      cols[n_cols++] = c;
    }
  } else {
    for (int i = 0; i < f->n_columns; i++)
      if (!f->columns[i].unsupported) cols[n_cols++] = &f->columns[i];
  }
  /* Row groups. */
  int n_cand = opts->row_groups ? opts->n_row_groups : md->n_row_groups;
  int *rgs = ms_calloc((size_t)n_cand + 1, sizeof *rgs);
  int64_t *row0 = ms_calloc((size_t)n_cand + 1, sizeof *row0);
  if (!rgs || !row0) { ms_free(cols); ms_free(rgs); ms_free(row0); return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }
  int n_rg = 0;
  int64_t total_rows = 0;
  for (int i = 0; i < n_cand && !st; i++) {
    int rg = opts->row_groups ? opts->row_groups[i] : i;
    if (rg < 0 || rg >= md->n_row_groups) {
      st = ms_error_set(err, MS_ERR_INVALID, "row group %d does not exist (the file has %d)", rg, (int)md->n_row_groups);
      break;
    }
    bool keep = true;
    for (int k = 0; k < opts->n_ranges && keep; k++) keep = range_overlaps(f, rg, &opts->ranges[k]);
    if (!keep) continue;
    /* A row group cannot hold more rows than its chunks' bytes can describe: bound the
     * claim before sizing buffers from it (4096 rows per byte leaves room for long RLE runs of nulls or repeats). */
    const ms_pq_row_group *g = &md->row_groups[rg];
    int64_t bytes = 0;
    for (int c = 0; c < g->n_columns; c++) {
      int64_t b = g->columns[c].has_meta_data ? g->columns[c].meta_data.total_compressed_size : 0;
      if (b > 0 && b <= f->size) bytes += b;
    }
    if (bytes > f->size) bytes = f->size;
    if (g->num_rows > ((int64_t)1 << 20) + bytes * 4096) {
      ms_error_set_row_group(err, rg);
      st = ms_error_set(err, MS_ERR_CORRUPT, "row group claims %lld rows in %lld bytes", (long long)g->num_rows, (long long)bytes);
      break;
    }
    for (int c = 0; c < n_cols && !st; c++) {
      const ms_pq_column_chunk *cc = &g->columns[cols[c]->leaf];
      if (cc->has_meta_data && cc->meta_data.num_values != g->num_rows) {
        ms_error_set_row_group(err, rg);
        ms_error_set_column(err, cols[c]->field.name);
        st = ms_error_set(err, MS_ERR_CORRUPT, "column chunk holds %lld values, its row group %lld rows",
                          (long long)cc->meta_data.num_values, (long long)g->num_rows);
      }
    }
    if (st) break;
    rgs[n_rg] = rg;
    row0[n_rg++] = total_rows;
    total_rows += g->num_rows;
  }
  if (stats) {
    stats->row_groups_total = n_cand;
    stats->row_groups_kept = n_rg;
    stats->bytes_read = 0;
  }
  read_ctx r = {f, n_rg, n_cols, rgs, row0, NULL, NULL, NULL};
  int n_workers = opts->pool ? ms_pool_size(opts->pool) : 1;
  ms_table *table = NULL;
  ms_column **columns = NULL;
  ms_field *fields = NULL;
  if (st) goto done;
  r.cols = ms_calloc((size_t)n_cols + 1, sizeof *r.cols);
  r.outs = ms_calloc((size_t)n_rg * (size_t)n_cols + 1, sizeof *r.outs);
  r.workers = ms_calloc((size_t)n_workers, sizeof *r.workers);
  columns = ms_calloc((size_t)n_cols + 1, sizeof *columns);
  fields = ms_calloc((size_t)n_cols + 1, sizeof *fields);
  if (!r.cols || !r.outs || !r.workers || !columns || !fields) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto done; }
  for (int c = 0; c < n_cols; c++) {
    read_col *rc = &r.cols[c];
    rc->col = cols[c];
    rc->rows = total_rows;
    rc->type = cols[c]->field.type;
    int64_t vbytes;
    if (cols[c]->conv == PQ_CONV_BOOL) vbytes = ms_bitmap_bytes(total_rows) + 1;
    else if (cols[c]->conv == PQ_CONV_BYTES) vbytes = (total_rows + 1) * 4;
    else vbytes = total_rows * cols[c]->out_width;
    rc->values = cols[c]->conv == PQ_CONV_BOOL ? ms_buffer_create_zeroed(vbytes) : ms_buffer_create(vbytes);
    if (rc->values) rc->values->size = vbytes;
    if (cols[c]->max_def > 0) {
      rc->validity = ms_buffer_create_zeroed(ms_bitmap_bytes(total_rows) + 1);
      if (!rc->validity) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto done; }
    }
    if (!rc->values) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto done; }
  }
  st = ms_pool_run(opts->pool, (int64_t)n_rg * n_cols, chunk_task, &r, err);
  if (st) goto done;
  st = ms_pool_run(opts->pool, n_cols, merge_task, &r, err);
  if (st) goto done;
  for (int c = 0; c < n_cols; c++) {
    read_col *rc = &r.cols[c];
    fields[c].name = rc->col->field.name;
    fields[c].type = rc->type;
    fields[c].nullable = rc->col->field.nullable;
    st = ms_column_from_buffers(&rc->type, rc->rows, rc->validity ? rc->null_count : 0, rc->validity,
                                rc->values, rc->data, &columns[c], err);
    rc->validity = rc->values = rc->data = NULL;
    if (st) { ms_error_set_column(err, rc->col->field.name); goto done; }
  }
  if (stats)
    for (int64_t t = 0; t < (int64_t)n_rg * n_cols; t++) stats->bytes_read += r.outs[t].bytes_read;
  st = ms_table_create(fields, columns, n_cols, &table, err);
done:
  if (st) ms_error_set_file(err, f->path);
  for (int c = 0; r.cols && c < n_cols; c++) {
    ms_buffer_release(r.cols[c].values);
    ms_buffer_release(r.cols[c].validity);
    ms_buffer_release(r.cols[c].data);
  }
  for (int c = 0; columns && c < n_cols; c++) ms_column_release(columns[c]);
  for (int64_t t = 0; r.outs && t < (int64_t)n_rg * n_cols; t++) {
    ms_free(r.outs[t].valid);
    ms_free(r.outs[t].bools);
    ms_buffer_release(r.outs[t].data);
  }
  for (int wi = 0; r.workers && wi < n_workers; wi++) {
    pq_worker *w = &r.workers[wi];
    pq_scratch *all[] = {&w->chunk, &w->page, &w->dict_raw, &w->dict, &w->dict_vals, &w->levels, &w->phys, &w->idx, &w->offs};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) ms_pq__scratch_free(all[k]);
  }
  ms_free(r.cols);
  ms_free(r.outs);
  ms_free(r.workers);
  ms_free(columns);
  ms_free(fields);
  ms_free(cols);
  ms_free(rgs);
  ms_free(row0);
  if (st == MS_OK) *out = table;
  return st;
}

ms_status ms_pq_read(ms_pq_file *f, const ms_pq_read_options *opts, ms_table **out,
                     ms_pq_read_stats *stats, ms_error *err) {
  *out = NULL;
  return read_impl(f, opts, out, stats, err);
}

ms_status ms_pq_read_buffer(const uint8_t *data, int64_t len, const char *name,
                            const ms_pq_read_options *opts, ms_table **out, ms_error *err) {
  *out = NULL;
  ms_pq_file *f = ms_calloc(1, sizeof *f);
  if (!f || !(f->path = ms_strdup(name ? name : "<memory>"))) {
    ms_free(f);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  f->data = data;
  f->size = len;
  ms_status st = data && len >= 0 ? open_common(f, err)
                                  : ms_error_set(err, MS_ERR_INVALID, "no data");
  if (st) ms_error_set_file(err, f->path);
  else st = read_impl(f, opts, out, NULL, err);
  ms_pq_close(f);
  return st;
}
