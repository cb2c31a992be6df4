/* Parquet writer front end: the ms_pq_writer_* API of include/morsel/parquet.h.
 *
 * Rows arrive as tables (ms_pq_writer_write). They are not copied: the writer keeps
 * references to the tables and cuts them into row groups of at most row_group_rows rows and
 * about row_group_bytes of uncompressed data (estimated from each table's buffer sizes). A
 * row group is a list of segments (table, first row, rows); most are one segment, and one
 * that spans several tables has its columns concatenated just before encoding. Complete
 * row groups are encoded in batches of up to 8: every (row group, column) pair is one task
 * on opts->pool (pq_write_column.c encodes one column chunk), and chunks are written to
 * the file in (row group, column) order as soon as they and all before them are done, by
 * whichever task finishes the next one, so writing overlaps encoding. Output buffers and
 * encoder scratch are recycled, so a long write allocates nothing per row group. Results
 * never depend on the number of threads. Close encodes the last partial row group,
 * appends the footer (FileMetaData, its length, "PAR1") and commits the file writer, which
 * renames the temporary file onto the target after fsync: readers see the old file or the
 * whole new one, never a part.
 *
 * A column is REQUIRED when its field is not nullable (writing a null into it is an error)
 * and OPTIONAL otherwise; ms_pq_write_table marks a non-nullable field that holds nulls as
 * optional. */
#include <pthread.h>
#include <string.h>

#include "formats/parquet/pq_write.h"

#define MS_PQ_CREATED_BY "morsel version 0.1.0"

typedef struct seg {
  ms_table *t;
  int64_t off, n;
} seg;

typedef struct rgroup {
  seg *segs;
  int n_segs;
  int64_t rows;
} rgroup;

struct ms_pq_writer {
  ms_file_writer *fw;
  char *path;
  int n_fields;
  ms_field *fields;
  ms_pq_wcol *wcols;
  ms_pq_schema_element *schema; /* n_fields + 1, [0] is the root */
  ms_pq_wopts o;
  ms_pool *pool;
  int64_t rg_rows, rg_bytes;
  int64_t pos;                  /* bytes written so far */
  seg *pend;                    /* the open row group */
  int n_pend, cap_pend;
  int64_t pend_rows;
  double pend_bytes;
  rgroup *ready;                /* complete row groups waiting to be encoded */
  int n_ready, cap_ready;
  ms_pq_row_group *rgs;         /* footer entries of written row groups */
  int n_rgs, cap_rgs;
  int64_t num_rows;
  ms_pq_kv *kv;
  int n_kv;
  ms_pq_wscratch **scr;         /* one per pool worker */
  int n_scr;
  ms_buffer **bufs;             /* free chunk buffers, reused across row groups */
  int n_bufs, cap_bufs;
  ms_status failed;             /* sticky */
};

void ms_pq_write_options_init(ms_pq_write_options *opts) {
  memset(opts, 0, sizeof *opts);
  opts->compression = MS_CODEC_ZSTD;
  opts->compression_level = 0;
  opts->data_page_version = 1;
  opts->row_group_rows = 1048576;
  opts->row_group_bytes = (int64_t)128 << 20;
  opts->page_bytes = 1 << 20;
  opts->dictionary = true;
  opts->dictionary_limit = 1 << 20;
  opts->statistics = true;
}

/* ---------------- cleanup ---------------- */

static void free_row_group_meta(ms_pq_row_group *rg) {
  for (int32_t c = 0; c < rg->n_columns; c++) {
    ms_pq_column_meta *m = &rg->columns[c].meta_data;
    ms_free(m->encodings);
    ms_free(m->path_in_schema);
    ms_free(m->statistics.min_value);
    ms_free(m->statistics.max_value);
  }
  ms_free(rg->columns);
}

static void free_rgroup(rgroup *g) {
  for (int i = 0; i < g->n_segs; i++) ms_table_release(g->segs[i].t);
  ms_free(g->segs);
  memset(g, 0, sizeof *g);
}

static void writer_free(ms_pq_writer *w) {
  if (!w) return;
  for (int i = 0; i < w->n_pend; i++) ms_table_release(w->pend[i].t);
  ms_free(w->pend);
  for (int i = 0; i < w->n_ready; i++) free_rgroup(&w->ready[i]);
  ms_free(w->ready);
  for (int i = 0; i < w->n_rgs; i++) free_row_group_meta(&w->rgs[i]);
  ms_free(w->rgs);
  for (int i = 0; i < w->n_kv; i++) {
    ms_free(w->kv[i].key);
    ms_free(w->kv[i].value);
  }
  ms_free(w->kv);
  for (int i = 0; i < w->n_scr; i++) ms_pq_wscratch_destroy(w->scr[i]);
  ms_free(w->scr);
  for (int i = 0; i < w->n_bufs; i++) ms_buffer_release(w->bufs[i]);
  ms_free(w->bufs);
  if (w->fields)
    for (int i = 0; i < w->n_fields; i++) ms_field_reset(&w->fields[i]);
  ms_free(w->fields);
  ms_free(w->wcols);
  ms_free(w->schema);
  ms_free(w->path);
  ms_free(w);
}

static ms_status fail(ms_pq_writer *w, ms_status st, ms_error *err) {
  if (err && w->path && !err->file[0]) ms_error_set_file(err, w->path);
  if (!w->failed) w->failed = st;
  return st;
}

/* ---------------- open ---------------- */

ms_status ms_pq_writer_open(ms_fs *fs, const char *path, const ms_field *fields, int n_fields,
                            const ms_pq_write_options *opts, ms_pq_writer **out, ms_error *err) {
  *out = NULL;
  ms_pq_write_options defaults;
  if (!opts) {
    ms_pq_write_options_init(&defaults);
    opts = &defaults;
  }
  if (n_fields < 0 || (n_fields > 0 && !fields))
    return ms_error_set(err, MS_ERR_INVALID, "invalid field list");
  if (opts->data_page_version != 1 && opts->data_page_version != 2)
    return ms_error_set(err, MS_ERR_INVALID, "data_page_version must be 1 or 2, not %d", opts->data_page_version);
  switch (opts->compression) {
    case MS_CODEC_UNCOMPRESSED: case MS_CODEC_SNAPPY: case MS_CODEC_GZIP: case MS_CODEC_BROTLI:
    case MS_CODEC_ZSTD: case MS_CODEC_LZ4_RAW: break;
    default:
      return ms_error_set(err, MS_ERR_UNSUPPORTED, "cannot write Parquet with compression %s",
                          ms_codec_name(opts->compression));
  }
  ms_pq_writer *w = ms_calloc(1, sizeof *w);
  if (!w) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  ms_status st = MS_OK;
  w->path = ms_strdup(path);
  w->n_fields = n_fields;
  w->fields = ms_calloc((size_t)(n_fields ? n_fields : 1), sizeof *w->fields);
  w->wcols = ms_calloc((size_t)(n_fields ? n_fields : 1), sizeof *w->wcols);
  w->schema = ms_calloc((size_t)n_fields + 1, sizeof *w->schema);
  if (!w->path || !w->fields || !w->wcols || !w->schema) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto fail; }
  for (int i = 0; i < n_fields; i++) {
    if (ms_field_copy(&fields[i], &w->fields[i])) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto fail; }
    if ((st = ms_pq_wcol_plan(&w->fields[i], !fields[i].nullable, &w->wcols[i], &w->schema[i + 1], err)))
      goto fail;
  }
  w->schema[0].name = "schema";
  w->schema[0].num_children = n_fields;
  w->schema[0].converted_type = MS_PQ_CT_NONE;
  w->o.codec = opts->compression;
  w->o.level = opts->compression_level;
  w->o.page_version = opts->data_page_version;
  w->o.page_bytes = opts->page_bytes > 0 ? opts->page_bytes : 1 << 20;
  w->o.dictionary = opts->dictionary;
  w->o.dictionary_limit = opts->dictionary_limit > 0 ? opts->dictionary_limit : 1 << 20;
  w->o.statistics = opts->statistics;
  w->pool = opts->pool;
  w->rg_rows = opts->row_group_rows > 0 ? opts->row_group_rows : 1048576;
  w->rg_bytes = opts->row_group_bytes > 0 ? opts->row_group_bytes : (int64_t)128 << 20;
  if (opts->n_kv > 0) {
    w->kv = ms_calloc((size_t)opts->n_kv, sizeof *w->kv);
    if (!w->kv) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto fail; }
    w->n_kv = opts->n_kv;
    for (int i = 0; i < opts->n_kv; i++) {
      w->kv[i].key = ms_strdup(opts->kv_keys[i] ? opts->kv_keys[i] : "");
      w->kv[i].value = opts->kv_values && opts->kv_values[i] ? ms_strdup(opts->kv_values[i]) : NULL;
      if (!w->kv[i].key || (opts->kv_values && opts->kv_values[i] && !w->kv[i].value)) {
        st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
        goto fail;
      }
    }
  }
  w->n_scr = w->pool ? ms_pool_size(w->pool) : 1;
  w->scr = ms_calloc((size_t)w->n_scr, sizeof *w->scr);
  if (!w->scr) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto fail; }
  for (int i = 0; i < w->n_scr; i++)
    if (!(w->scr[i] = ms_pq_wscratch_create())) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto fail; }
  if ((st = ms_fs_create_writer(fs, path, &w->fw, err))) goto fail;
  if ((st = ms_writer_write(w->fw, "PAR1", 4, err))) goto fail;
  w->pos = 4;
  *out = w;
  return MS_OK;
fail:
  if (err && !err->file[0]) ms_error_set_file(err, path);
  ms_writer_abort(w->fw);
  writer_free(w);
  return st;
}

/* ---------------- concatenating the pieces of a multi-table row group ---------------- */

static ms_status concat_segments(const rgroup *g, int c, ms_column **out, ms_error *err) {
  const ms_datatype *type = &g->segs[0].t->columns[c]->type;
  int64_t total = g->rows;
  if (type->id == MS_TYPE_NULL) return ms_column_create_nulls(type, total, out, err);
  bool any_null = false;
  int64_t data_bytes = 0;
  bool varlen = ms_type_is_varlen(type), large = ms_type_is_large(type);
  int bits = ms_type_bit_width(type);
  for (int i = 0; i < g->n_segs; i++) {
    const ms_column *col = g->segs[i].t->columns[c];
    if (col->null_count > 0) any_null = true;
    if (varlen) {
      int64_t a, b;
      if (large) { a = ((int64_t *)col->values->data)[g->segs[i].off]; b = ((int64_t *)col->values->data)[g->segs[i].off + g->segs[i].n]; }
      else { a = ((int32_t *)col->values->data)[g->segs[i].off]; b = ((int32_t *)col->values->data)[g->segs[i].off + g->segs[i].n]; }
      data_bytes += b - a;
    }
  }
  if (varlen && !large && data_bytes > INT32_MAX)
    return ms_error_set(err, MS_ERR_LIMIT, "row group string data exceeds 2 GiB in a 32-bit offset column");
  ms_buffer *validity = any_null ? ms_buffer_create_zeroed(ms_bitmap_bytes(total)) : NULL;
  /* every byte of offsets and fixed-width values is written below; bits are set one by one */
  int64_t vbytes = varlen ? (total + 1) * (large ? 8 : 4) : bits == 1 ? ms_bitmap_bytes(total) : total * (bits / 8);
  ms_buffer *values = bits == 1 ? ms_buffer_create_zeroed(vbytes) : ms_buffer_create(vbytes);
  if (values) values->size = vbytes;
  ms_buffer *data = varlen ? ms_buffer_create(data_bytes) : NULL;
  if ((any_null && !validity) || !values || (varlen && !data)) {
    ms_buffer_release(validity);
    ms_buffer_release(values);
    ms_buffer_release(data);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  int64_t pos = 0, dpos = 0;
  for (int i = 0; i < g->n_segs; i++) {
    const ms_column *col = g->segs[i].t->columns[c];
    int64_t off = g->segs[i].off, n = g->segs[i].n;
    if (any_null)
      for (int64_t r = 0; r < n; r++)
        if (ms_column_valid(col, off + r)) ms_bit_set(validity->data, pos + r);
    if (varlen) {
      int64_t a = large ? ((int64_t *)col->values->data)[off] : ((int32_t *)col->values->data)[off];
      for (int64_t r = 0; r <= n; r++) {
        int64_t o = large ? ((int64_t *)col->values->data)[off + r] : ((int32_t *)col->values->data)[off + r];
        int64_t v = o - a + dpos;
        if (large) ((int64_t *)values->data)[pos + r] = v;
        else ((int32_t *)values->data)[pos + r] = (int32_t)v;
      }
      int64_t b = large ? ((int64_t *)col->values->data)[off + n] : ((int32_t *)col->values->data)[off + n];
      if (b > a) memcpy(data->data + dpos, col->data->data + a, (size_t)(b - a));
      dpos += b - a;
    } else if (bits == 1) {
      for (int64_t r = 0; r < n; r++)
        if (ms_bit_get(col->values->data, off + r)) ms_bit_set(values->data, pos + r);
    } else {
      memcpy(values->data + pos * (bits / 8), col->values->data + off * (bits / 8), (size_t)(n * (bits / 8)));
    }
    pos += n;
  }
  if (data) data->size = dpos;
  return ms_column_from_buffers(type, total, -1, validity, values, data, out, err);
}

/* ---------------- encoding and writing row groups ---------------- */

/* One batch of row groups being encoded. Tasks finish out of order; whichever task
 * finds the next chunk in file order done takes the committer role and writes chunks
 * while they are ready, so writing overlaps the encoding of later chunks and results do
 * not depend on thread timing (file order is task order). */
typedef struct batch_ctx {
  ms_pq_writer *w;
  rgroup *groups;
  int n_groups;
  int64_t ntasks;
  ms_pq_chunk *chunks; /* n_groups * n_fields */
  ms_buffer **bufs;    /* the output buffer of each chunk */
  unsigned char *done;
  int64_t next;        /* next task to commit */
  bool committing;
  pthread_mutex_t mu;
} batch_ctx;

static ms_status write_chunk_meta(ms_pq_writer *w, int c, ms_pq_chunk *ch, ms_pq_column_chunk *cc) {
  ms_pq_column_meta *m = &cc->meta_data;
  cc->file_offset = 0;
  cc->has_meta_data = true;
  m->type = w->wcols[c].phys;
  m->encodings = ms_malloc(16 * sizeof *m->encodings);
  m->path_in_schema = ms_malloc(sizeof *m->path_in_schema);
  if (!m->encodings || !m->path_in_schema) return MS_ERR_NOMEM;
  for (int e = 0; e < 16; e++)
    if (ch->encodings & (1u << e)) m->encodings[m->n_encodings++] = (ms_pq_encoding)e;
  m->n_path = 1;
  m->path_in_schema[0] = w->fields[c].name;
  m->codec = (int32_t)w->o.codec;
  m->num_values = ch->num_values;
  m->total_uncompressed_size = ch->uncompressed_size;
  m->total_compressed_size = ch->bytes->size;
  m->data_page_offset = w->pos + (ch->data_page_rel >= 0 ? ch->data_page_rel : 0);
  if (ch->has_dictionary) {
    m->has_dictionary_page_offset = true;
    m->dictionary_page_offset = w->pos;
  }
  if (ch->has_statistics) {
    m->has_statistics = true;
    m->statistics = ch->stats;
    /* ownership of the min/max bytes moves to the footer entry */
    ch->stat_min = ch->stat_max = NULL;
  }
  return MS_OK;
}

static void recycle_buffer(ms_pq_writer *w, ms_buffer *buf) {
  if (!buf) return;
  if (w->n_bufs == w->cap_bufs) {
    int nc = w->cap_bufs ? w->cap_bufs * 2 : 16;
    ms_buffer **nb = ms_realloc(w->bufs, (size_t)nc * sizeof *nb);
    if (nb) { w->bufs = nb; w->cap_bufs = nc; }
  }
  if (w->n_bufs < w->cap_bufs) w->bufs[w->n_bufs++] = buf;
  else ms_buffer_release(buf);
}

/* Writes chunk t (the next in file order) and records its footer entry. Only the task
 * holding the committer role calls it. */
static ms_status commit_chunk(batch_ctx *b, int64_t t, ms_error *err) {
  ms_pq_writer *w = b->w;
  int g = (int)(t / w->n_fields), c = (int)(t % w->n_fields);
  if (c == 0) {
    if (w->n_rgs == w->cap_rgs) {
      int nc = w->cap_rgs ? w->cap_rgs * 2 : 8;
      ms_pq_row_group *nr = ms_realloc(w->rgs, (size_t)nc * sizeof *nr);
      if (!nr) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
      w->rgs = nr;
      w->cap_rgs = nc;
    }
    ms_pq_row_group *rg = &w->rgs[w->n_rgs];
    memset(rg, 0, sizeof *rg);
    rg->columns = ms_calloc((size_t)w->n_fields, sizeof *rg->columns);
    if (!rg->columns) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    w->n_rgs++;
    rg->n_columns = w->n_fields;
    rg->num_rows = b->groups[g].rows;
    rg->has_file_offset = true;
    rg->file_offset = w->pos;
    rg->has_total_compressed_size = true;
    if (w->n_rgs - 1 <= INT16_MAX) {
      rg->has_ordinal = true;
      rg->ordinal = (int16_t)(w->n_rgs - 1);
    }
    w->num_rows += rg->num_rows;
  }
  ms_pq_row_group *rg = &w->rgs[w->n_rgs - 1];
  ms_pq_chunk *ch = &b->chunks[t];
  if (write_chunk_meta(w, c, ch, &rg->columns[c])) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  ms_status st = ms_writer_write(w->fw, ch->bytes->data, ch->bytes->size, err);
  if (st) return st;
  w->pos += ch->bytes->size;
  rg->total_byte_size += ch->uncompressed_size;
  rg->total_compressed_size += ch->bytes->size;
  ms_pq_chunk_reset(ch);
  pthread_mutex_lock(&b->mu);
  recycle_buffer(w, b->bufs[t]);
  b->bufs[t] = NULL;
  pthread_mutex_unlock(&b->mu);
  return MS_OK;
}

/* Marks task t done and, unless another task is committing, commits every chunk that is
 * next in order and done. */
static ms_status finish_task(batch_ctx *b, int64_t t, ms_error *err) {
  pthread_mutex_lock(&b->mu);
  b->done[t] = 1;
  if (b->committing) {
    pthread_mutex_unlock(&b->mu);
    return MS_OK;
  }
  b->committing = true;
  ms_status st = MS_OK;
  while (b->next < b->ntasks && b->done[b->next]) {
    int64_t k = b->next;
    pthread_mutex_unlock(&b->mu);
    st = commit_chunk(b, k, err);
    pthread_mutex_lock(&b->mu);
    if (st) break;
    b->next++;
  }
  b->committing = false;
  pthread_mutex_unlock(&b->mu);
  return st;
}

static ms_status encode_task(void *ctx, int64_t task, int worker, ms_error *err) {
  batch_ctx *b = ctx;
  ms_pq_writer *w = b->w;
  int g = (int)(task / w->n_fields), c = (int)(task % w->n_fields);
  const rgroup *rg = &b->groups[g];
  ms_status st;
  /* output buffers are taken when a task starts and given back when its chunk is
   * written, so the batch holds only the chunks in flight */
  pthread_mutex_lock(&b->mu);
  b->bufs[task] = w->n_bufs ? w->bufs[--w->n_bufs] : ms_buffer_create(1 << 16);
  pthread_mutex_unlock(&b->mu);
  if (!b->bufs[task]) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  if (rg->n_segs == 1) {
    st = ms_pq_encode_chunk(&w->wcols[c], &w->o, rg->segs[0].t->columns[c], rg->segs[0].off,
                            rg->rows, w->scr[worker], b->bufs[task], &b->chunks[task], err);
  } else {
    ms_column *col = NULL;
    st = concat_segments(rg, c, &col, err);
    if (!st)
      st = ms_pq_encode_chunk(&w->wcols[c], &w->o, col, 0, rg->rows, w->scr[worker], b->bufs[task],
                              &b->chunks[task], err);
    ms_column_release(col);
  }
  if (!st) st = finish_task(b, task, err);
  if (st) {
    ms_error_set_row_group(err, w->n_rgs + g);
    if (!err || !err->column[0]) ms_error_set_column(err, w->fields[c].name);
  }
  return st;
}

#define MS_PQ_MAX_BATCH_GROUPS 8

static ms_status encode_ready(ms_pq_writer *w, ms_error *err) {
  if (w->n_ready == 0) return MS_OK;
  ms_status st = MS_OK;
  int done = 0;
  while (done < w->n_ready && !st) {
    int ng = w->n_ready - done < MS_PQ_MAX_BATCH_GROUPS ? w->n_ready - done : MS_PQ_MAX_BATCH_GROUPS;
    int64_t ntasks = (int64_t)ng * w->n_fields;
    batch_ctx b;
    memset(&b, 0, sizeof b);
    b.w = w;
    b.groups = w->ready + done;
    b.n_groups = ng;
    b.ntasks = ntasks;
    size_t cnt = (size_t)(ntasks ? ntasks : 1);
    b.chunks = ms_calloc(cnt, sizeof *b.chunks);
    b.bufs = ms_calloc(cnt, sizeof *b.bufs);
    b.done = ms_calloc(cnt, 1);
    if (!b.chunks || !b.bufs || !b.done) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    if (ntasks && !st) {
      pthread_mutex_init(&b.mu, NULL);
      st = ms_pool_run(w->pool, ntasks, encode_task, &b, err);
      pthread_mutex_destroy(&b.mu);
      if (!st && b.next != ntasks) st = ms_error_set(err, MS_ERR_INTERNAL, "row group chunks left unwritten");
    }
    if (ntasks == 0 && !st) { /* no columns: the row groups still count */
      for (int g = 0; g < ng; g++) w->num_rows += b.groups[g].rows;
    }
    for (int64_t t = 0; b.bufs && t < ntasks; t++) {
      if (b.chunks) ms_pq_chunk_reset(&b.chunks[t]);
      recycle_buffer(w, b.bufs[t]);
    }
    ms_free(b.chunks);
    ms_free(b.bufs);
    ms_free(b.done);
    done += ng;
  }
  for (int i = 0; i < w->n_ready; i++) free_rgroup(&w->ready[i]);
  w->n_ready = 0;
  return st;
}

/* Moves the open row group to the ready list. */
static ms_status seal_pending(ms_pq_writer *w) {
  if (w->pend_rows == 0) return MS_OK;
  if (w->n_ready == w->cap_ready) {
    int nc = w->cap_ready ? w->cap_ready * 2 : 8;
    rgroup *nr = ms_realloc(w->ready, (size_t)nc * sizeof *nr);
    if (!nr) return MS_ERR_NOMEM;
    w->ready = nr;
    w->cap_ready = nc;
  }
  rgroup *g = &w->ready[w->n_ready++];
  g->segs = w->pend;
  g->n_segs = w->n_pend;
  g->rows = w->pend_rows;
  w->pend = NULL;
  w->n_pend = w->cap_pend = 0;
  w->pend_rows = 0;
  w->pend_bytes = 0;
  return MS_OK;
}

static ms_status push_segment(ms_pq_writer *w, const ms_table *t, int64_t off, int64_t n) {
  if (w->n_pend == w->cap_pend) {
    int nc = w->cap_pend ? w->cap_pend * 2 : 4;
    seg *ns = ms_realloc(w->pend, (size_t)nc * sizeof *ns);
    if (!ns) return MS_ERR_NOMEM;
    w->pend = ns;
    w->cap_pend = nc;
  }
  w->pend[w->n_pend].t = ms_table_retain((ms_table *)t);
  w->pend[w->n_pend].off = off;
  w->pend[w->n_pend].n = n;
  w->n_pend++;
  return MS_OK;
}

static double table_bytes_per_row(const ms_table *t) {
  if (t->n_rows == 0) return 0;
  double total = 0;
  for (int c = 0; c < t->n_columns; c++) {
    const ms_column *col = t->columns[c];
    if (ms_type_is_varlen(&col->type)) {
      /* bytes between the first and last offset: a sliced column shares a larger buffer */
      int64_t n = col->length, a, b;
      if (ms_type_is_large(&col->type)) { a = ((const int64_t *)col->values->data)[0]; b = ((const int64_t *)col->values->data)[n]; }
      else { a = ((const int32_t *)col->values->data)[0]; b = ((const int32_t *)col->values->data)[n]; }
      total += (double)(b - a) + 4.0 * (double)n;
    } else if (col->values) {
      int bits = ms_type_bit_width(&col->type);
      total += (double)col->length * bits / 8.0;
    }
  }
  return total / (double)t->n_rows;
}

ms_status ms_pq_writer_write(ms_pq_writer *w, const ms_table *table, ms_error *err) {
  if (w->failed) return ms_error_set(err, w->failed, "the writer failed earlier");
  if (table->n_columns != w->n_fields)
    return fail(w, ms_error_set(err, MS_ERR_INVALID, "table has %d columns, the writer %d",
                                table->n_columns, w->n_fields), err);
  for (int c = 0; c < w->n_fields; c++) {
    const ms_column *col = table->columns[c];
    if (!ms_type_equal(&col->type, &w->fields[c].type) || strcmp(table->fields[c].name, w->fields[c].name) != 0) {
      char a[128], b[128];
      ms_error_set_column(err, w->fields[c].name);
      return fail(w, ms_error_set(err, MS_ERR_TYPE, "table column '%s' %s does not match the writer's '%s' %s",
                                  table->fields[c].name, ms_type_to_string(&col->type, a, sizeof a),
                                  w->fields[c].name, ms_type_to_string(&w->fields[c].type, b, sizeof b)), err);
    }
    if (w->wcols[c].required && col->null_count > 0) {
      ms_error_set_column(err, w->fields[c].name);
      return fail(w, ms_error_set(err, MS_ERR_INVALID, "column '%s' is not nullable but holds %lld nulls",
                                  w->fields[c].name, (long long)col->null_count), err);
    }
  }
  double bpr = table_bytes_per_row(table);
  int64_t off = 0, n = table->n_rows;
  ms_status st = MS_OK;
  while (off < n) {
    int64_t room = w->rg_rows - w->pend_rows;
    if (bpr > 0) {
      double broom = ((double)w->rg_bytes - w->pend_bytes) / bpr;
      int64_t br = broom < 1 ? 1 : (broom > (double)room ? room : (int64_t)broom);
      if (br < room) room = br;
    }
    int64_t take = n - off < room ? n - off : room;
    if (push_segment(w, table, off, take)) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); break; }
    w->pend_rows += take;
    w->pend_bytes += (double)take * bpr;
    off += take;
    if (w->pend_rows >= w->rg_rows || w->pend_bytes >= (double)w->rg_bytes) {
      if (seal_pending(w)) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); break; }
      if (w->n_ready >= MS_PQ_MAX_BATCH_GROUPS && (st = encode_ready(w, err))) break;
    }
  }
  if (!st) st = encode_ready(w, err);
  return st ? fail(w, st, err) : MS_OK;
}

ms_status ms_pq_writer_close(ms_pq_writer *w, ms_error *err) {
  if (!w) return ms_error_set(err, MS_ERR_INVALID, "no writer");
  ms_status st = w->failed;
  if (st) {
    ms_error_set(err, st, "the writer failed earlier; nothing was published");
    goto out;
  }
  if (seal_pending(w)) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); goto out; }
  if ((st = encode_ready(w, err))) goto out;
  ms_pq_metadata md;
  memset(&md, 0, sizeof md);
  md.version = 1;
  md.n_schema = w->n_fields + 1;
  md.schema = w->schema;
  md.num_rows = w->num_rows;
  md.n_row_groups = w->n_rgs;
  md.row_groups = w->rgs;
  md.n_kv = w->n_kv;
  md.kv = w->kv;
  md.created_by = MS_PQ_CREATED_BY;
  md.n_column_orders = w->n_fields;
  ms_buffer *foot = ms_buffer_create(4096);
  if (!foot || ms_pq_metadata_encode(&md, foot)) {
    ms_buffer_release(foot);
    st = ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding the footer");
    goto out;
  }
  uint32_t len = (uint32_t)foot->size;
  uint8_t tail[8];
  memcpy(tail, &len, 4);
  memcpy(tail + 4, "PAR1", 4);
  st = ms_writer_write(w->fw, foot->data, foot->size, err);
  ms_buffer_release(foot);
  if (!st) st = ms_writer_write(w->fw, tail, 8, err);
  if (!st) {
    st = ms_writer_commit(w->fw, err); /* frees the file writer either way */
    w->fw = NULL;
  }
out:
  if (st && err && !err->file[0]) ms_error_set_file(err, w->path);
  ms_writer_abort(w->fw);
  writer_free(w);
  return st;
}

void ms_pq_writer_abort(ms_pq_writer *w) {
  if (!w) return;
  ms_writer_abort(w->fw);
  writer_free(w);
}

ms_status ms_pq_write_table(ms_fs *fs, const char *path, const ms_table *table,
                            const ms_pq_write_options *opts, ms_error *err) {
  int n = table->n_columns;
  ms_field *fields = ms_calloc((size_t)(n ? n : 1), sizeof *fields);
  if (!fields) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  for (int i = 0; i < n; i++) {
    fields[i] = table->fields[i]; /* shallow: the writer copies */
    if (table->columns[i]->null_count > 0) fields[i].nullable = true;
  }
  ms_pq_writer *w = NULL;
  ms_status st = ms_pq_writer_open(fs, path, fields, n, opts, &w, err);
  ms_free(fields);
  if (st) return st;
  if ((st = ms_pq_writer_write(w, table, err))) {
    ms_pq_writer_abort(w);
    return st;
  }
  return ms_pq_writer_close(w, err);
}
