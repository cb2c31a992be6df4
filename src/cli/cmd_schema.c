/* `morsel schema PATH [--json]`: the dataset's unified schema (columns, types,
 * nullability, partition columns) and, when the path is one Parquet file, its footer:
 * rows, created_by, key-value metadata and, per row group and column chunk, the physical
 * type, encodings, codec, sizes and statistics. Statistics are decoded from their Parquet
 * byte form into a one-row column of the field's type and rendered exactly as `cat` does
 * (the modern min_value/max_value when present, else the legacy min/max, marked). For CSV
 * the schema is the inferred one. */
#include <string.h>

#include "cli/cli.h"
#include "dataset/dataset_int.h"
#include "formats/parquet/pq_metadata.h"
#include "morsel/alloc.h"
#include "morsel/compression.h"
#include "morsel/parquet.h"

static const char *physical_name(int t) {
  static const char *const n[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
                                  "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return t >= 0 && t < 8 ? n[t] : "UNKNOWN";
}

static const char *encoding_name(int e) {
  switch (e) {
    case MS_PQ_ENC_PLAIN: return "PLAIN";
    case MS_PQ_ENC_PLAIN_DICTIONARY: return "PLAIN_DICTIONARY";
    case MS_PQ_ENC_RLE: return "RLE";
    case MS_PQ_ENC_BIT_PACKED: return "BIT_PACKED";
    case MS_PQ_ENC_DELTA_BINARY_PACKED: return "DELTA_BINARY_PACKED";
    case MS_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: return "DELTA_LENGTH_BYTE_ARRAY";
    case MS_PQ_ENC_DELTA_BYTE_ARRAY: return "DELTA_BYTE_ARRAY";
    case MS_PQ_ENC_RLE_DICTIONARY: return "RLE_DICTIONARY";
    case MS_PQ_ENC_BYTE_STREAM_SPLIT: return "BYTE_STREAM_SPLIT";
  }
  return "UNKNOWN";
}

static void hex(cli_buf *b, const uint8_t *p, int32_t len, cli_style style) {
  if (style == CLI_JSON) cli_buf_putc(b, '"');
  cli_buf_puts(b, "0x");
  for (int32_t i = 0; i < len; i++) cli_buf_printf(b, "%02x", p[i]);
  if (style == CLI_JSON) cli_buf_putc(b, '"');
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* Appends one statistics value: the bytes as Parquet stores them for the physical type,
 * converted into the field's morsel type and rendered like cat; raw hex when the bytes do
 * not fit the type (or the column is nested). */
static void stat_value(cli_buf *b, const ms_field *field, int physical, const uint8_t *p, int32_t len,
                       cli_style style) {
  if (!field) { hex(b, p, len, style); return; }
  const ms_datatype *t = &field->type;
  ms_column_builder *bld = NULL;
  if (ms_column_builder_create(t, 1, &bld, NULL)) { hex(b, p, len, style); return; }
  ms_status st = MS_ERR_TYPE;
  uint8_t dec[16];
  switch (physical) {
    case MS_PQ_BOOLEAN:
      if (len >= 1) st = ms_builder_append_bool(bld, p[0] != 0);
      break;
    case MS_PQ_INT32:
      if (len != 4) break;
      if (t->id == MS_TYPE_DECIMAL128) {
        int64_t v = (int32_t)le32(p);
        for (int i = 0; i < 16; i++) dec[i] = i < 8 ? (uint8_t)((uint64_t)v >> (8 * i)) : (v < 0 ? 0xff : 0);
        st = ms_builder_append_bytes(bld, dec, 16);
      } else if (t->id == MS_TYPE_UINT8 || t->id == MS_TYPE_UINT16 || t->id == MS_TYPE_UINT32) {
        st = ms_builder_append_u64(bld, le32(p));
      } else if (ms_type_is_integer(t) || t->id == MS_TYPE_DATE32 || t->id == MS_TYPE_TIMESTAMP) {
        st = ms_builder_append_i64(bld, (int32_t)le32(p));
      }
      break;
    case MS_PQ_INT64:
      if (len != 8) break;
      if (t->id == MS_TYPE_DECIMAL128) {
        uint64_t v = le64(p);
        for (int i = 0; i < 16; i++) dec[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : ((int64_t)v < 0 ? 0xff : 0);
        st = ms_builder_append_bytes(bld, dec, 16);
      } else if (t->id == MS_TYPE_UINT64) {
        st = ms_builder_append_u64(bld, le64(p));
      } else if (ms_type_is_integer(t) || t->id == MS_TYPE_TIMESTAMP || t->id == MS_TYPE_DATE32) {
        st = ms_builder_append_i64(bld, (int64_t)le64(p));
      }
      break;
    case MS_PQ_INT96:
      if (len == 12 && t->id == MS_TYPE_TIMESTAMP && t->unit == MS_UNIT_NANO) {
        int64_t nanos = (int64_t)le64(p), jd = (int32_t)le32(p + 8), ns;
        /* Julian day and nanoseconds of the day; statistics are untrusted, so overflow
         * falls back to hex. */
        if (!__builtin_mul_overflow(jd - 2440588, 86400LL * 1000000000LL, &ns) &&
            !__builtin_add_overflow(ns, nanos, &ns))
          st = ms_builder_append_i64(bld, ns);
      }
      break;
    case MS_PQ_FLOAT:
      if (len == 4 && ms_type_is_float(t)) {
        float f;
        memcpy(&f, p, 4);
        st = ms_builder_append_f64(bld, f);
      }
      break;
    case MS_PQ_DOUBLE:
      if (len == 8 && ms_type_is_float(t)) {
        double d;
        memcpy(&d, p, 8);
        st = ms_builder_append_f64(bld, d);
      }
      break;
    case MS_PQ_BYTE_ARRAY:
    case MS_PQ_FIXED_LEN_BYTE_ARRAY:
      if (t->id == MS_TYPE_DECIMAL128) {
        if (len < 1 || len > 16) break;
        uint8_t fill = (p[0] & 0x80) ? 0xff : 0;
        for (int i = 0; i < 16; i++) dec[i] = i < len ? p[len - 1 - i] : fill;
        st = ms_builder_append_bytes(bld, dec, 16);
      } else if (ms_type_is_varlen(t) || (t->id == MS_TYPE_FIXED_BINARY && len == t->byte_width)) {
        st = ms_builder_append_bytes(bld, p, len);
      }
      break;
  }
  ms_column *c = NULL;
  if (st == MS_OK && ms_builder_finish(bld, &c, NULL) == MS_OK) cli_render_value(b, c, 0, style);
  else hex(b, p, len, style);
  ms_column_release(c);
  ms_column_builder_destroy(bld);
}

/* ---------------- a small aligned-text grid ---------------- */

typedef struct grid {
  int n_cols;
  cli_buf cells;
  size_t *off; /* cell boundaries */
  int64_t n_cells, cap;
} grid;

static void grid_add(grid *g, const char *s, size_t len) {
  if (g->n_cells + 2 > g->cap) {
    int64_t cap = g->cap ? g->cap * 2 : 64;
    size_t *grown = ms_realloc(g->off, sizeof *grown * (size_t)cap);
    if (!grown) { g->cells.failed = true; return; }
    g->off = grown;
    g->cap = cap;
    if (g->n_cells == 0) g->off[0] = 0;
  }
  cli_buf_append(&g->cells, s, len);
  g->off[++g->n_cells] = g->cells.len;
}
static void grid_adds(grid *g, const char *s) { grid_add(g, s, strlen(s)); }

static void grid_print(grid *g, const char *indent, cli_buf *out) {
  int n = g->n_cols;
  size_t w[32] = {0};
  for (int64_t i = 0; i < g->n_cells; i++) {
    size_t cw = cli_display_width(g->cells.data + g->off[i], g->off[i + 1] - g->off[i]);
    if (cw > w[i % n]) w[i % n] = cw;
  }
  for (int64_t i = 0; i < g->n_cells; i++) {
    int j = (int)(i % n);
    if (j == 0) cli_buf_puts(out, indent);
    size_t len = g->off[i + 1] - g->off[i];
    cli_buf_append(out, g->cells.data + g->off[i], len);
    if (j == n - 1) { cli_buf_putc(out, '\n'); continue; }
    for (size_t k = cli_display_width(g->cells.data + g->off[i], len); k < w[j] + 2; k++) cli_buf_putc(out, ' ');
  }
  cli_buf_reset(&g->cells);
  ms_free(g->off);
  g->off = NULL;
  g->n_cells = g->cap = 0;
}

/* ---------------- output ---------------- */

typedef struct stats_view {
  bool has_min, has_max, legacy;
  const uint8_t *min, *max;
  int32_t min_len, max_len;
} stats_view;

static stats_view pick_stats(const ms_pq_statistics *s) {
  stats_view v = {0};
  if (s->has_min_value || s->has_max_value) {
    v.has_min = s->has_min_value; v.min = s->min_value; v.min_len = s->min_value_len;
    v.has_max = s->has_max_value; v.max = s->max_value; v.max_len = s->max_value_len;
  } else if (s->has_min || s->has_max) {
    v.legacy = true;
    v.has_min = s->has_min; v.min = s->min; v.min_len = s->min_len;
    v.has_max = s->has_max; v.max = s->max; v.max_len = s->max_len;
  }
  return v;
}

static const ms_field *chunk_field(ms_pq_file *pq, const ms_pq_column_meta *m) {
  if (m->n_path != 1) return NULL;
  for (int k = 0; k < ms_pq_num_fields(pq); k++)
    if (!ms_pq_field_is_nested(pq, k) && strcmp(ms_pq_field(pq, k)->name, m->path_in_schema[0]) == 0)
      return ms_pq_field(pq, k);
  return NULL;
}

static void chunk_name(cli_buf *b, const ms_pq_column_meta *m) {
  for (int32_t i = 0; i < m->n_path; i++) {
    if (i) cli_buf_putc(b, '.');
    cli_buf_puts(b, m->path_in_schema[i] ? m->path_in_schema[i] : "?");
  }
}

static void print_json(cli_buf *o, const char *path, ms_dataset *ds, ms_pq_file *pq) {
  char tb[128];
  cli_buf_puts(o, "{\"path\":");
  cli_json_string(o, path, strlen(path));
  ms_file_format fmt = ms__dataset_file_format(ds, 0);
  bool mixed = false;
  for (int64_t i = 1; i < ms_dataset_num_files(ds); i++) mixed |= ms__dataset_file_format(ds, i) != fmt;
  cli_buf_printf(o, ",\"format\":\"%s\",\"files\":%lld", mixed ? "mixed" : fmt == MS_FORMAT_PARQUET ? "parquet" : "csv",
                 (long long)ms_dataset_num_files(ds));
  cli_buf_puts(o, ",\"columns\":[");
  for (int i = 0; i < ms_dataset_num_fields(ds); i++) {
    const ms_field *f = ms_dataset_field(ds, i);
    if (i) cli_buf_putc(o, ',');
    cli_buf_puts(o, "{\"name\":");
    cli_json_string(o, f->name, strlen(f->name));
    cli_buf_printf(o, ",\"type\":\"%s\",\"nullable\":%s,\"partition\":%s}",
                   ms_type_to_string(&f->type, tb, sizeof tb), f->nullable ? "true" : "false",
                   ms_dataset_field_is_partition(ds, i) ? "true" : "false");
  }
  cli_buf_putc(o, ']');
  if (pq) {
    const ms_pq_metadata *md = ms_pq_metadata_of(pq);
    cli_buf_printf(o, ",\"num_rows\":%lld,\"created_by\":", (long long)md->num_rows);
    if (md->created_by) cli_json_string(o, md->created_by, strlen(md->created_by));
    else cli_buf_puts(o, "null");
    cli_buf_puts(o, ",\"key_value_metadata\":[");
    for (int32_t i = 0; i < md->n_kv; i++) {
      if (i) cli_buf_putc(o, ',');
      cli_buf_puts(o, "{\"key\":");
      cli_json_string(o, md->kv[i].key ? md->kv[i].key : "", md->kv[i].key ? strlen(md->kv[i].key) : 0);
      cli_buf_puts(o, ",\"value\":");
      if (md->kv[i].value) cli_json_string(o, md->kv[i].value, strlen(md->kv[i].value));
      else cli_buf_puts(o, "null");
      cli_buf_putc(o, '}');
    }
    cli_buf_puts(o, "],\"row_groups\":[");
    for (int32_t g = 0; g < md->n_row_groups; g++) {
      const ms_pq_row_group *rg = &md->row_groups[g];
      if (g) cli_buf_putc(o, ',');
      cli_buf_printf(o, "{\"num_rows\":%lld,\"total_byte_size\":%lld,\"columns\":[", (long long)rg->num_rows,
                     (long long)rg->total_byte_size);
      for (int32_t c = 0; c < rg->n_columns; c++) {
        if (c) cli_buf_putc(o, ',');
        if (!rg->columns[c].has_meta_data) { cli_buf_puts(o, "null"); continue; }
        const ms_pq_column_meta *m = &rg->columns[c].meta_data;
        cli_buf_puts(o, "{\"name\":");
        cli_buf nm = {0};
        chunk_name(&nm, m);
        cli_json_string(o, nm.data ? nm.data : "", nm.len);
        cli_buf_reset(&nm);
        cli_buf_printf(o, ",\"physical_type\":\"%s\",\"encodings\":[", physical_name(m->type));
        for (int32_t e = 0; e < m->n_encodings; e++)
          cli_buf_printf(o, "%s\"%s\"", e ? "," : "", encoding_name(m->encodings[e]));
        cli_buf_printf(o, "],\"compression\":\"%s\",\"num_values\":%lld,\"compressed_size\":%lld,"
                       "\"uncompressed_size\":%lld,\"statistics\":",
                       ms_codec_name((ms_codec)m->codec), (long long)m->num_values,
                       (long long)m->total_compressed_size, (long long)m->total_uncompressed_size);
        if (!m->has_statistics) { cli_buf_puts(o, "null}"); continue; }
        const ms_pq_statistics *s = &m->statistics;
        stats_view v = pick_stats(s);
        const ms_field *f = chunk_field(pq, m);
        cli_buf_puts(o, "{\"null_count\":");
        if (s->has_null_count) cli_buf_printf(o, "%lld", (long long)s->null_count);
        else cli_buf_puts(o, "null");
        cli_buf_puts(o, ",\"min\":");
        if (v.has_min) stat_value(o, f, m->type, v.min, v.min_len, CLI_JSON);
        else cli_buf_puts(o, "null");
        cli_buf_puts(o, ",\"max\":");
        if (v.has_max) stat_value(o, f, m->type, v.max, v.max_len, CLI_JSON);
        else cli_buf_puts(o, "null");
        cli_buf_printf(o, ",\"legacy\":%s}}", v.legacy ? "true" : "false");
      }
      cli_buf_puts(o, "]}");
    }
    cli_buf_putc(o, ']');
  }
  cli_buf_puts(o, "}\n");
}

static void print_text(cli_buf *o, const char *path, ms_dataset *ds, ms_pq_file *pq) {
  char tb[128];
  ms_file_format fmt = ms__dataset_file_format(ds, 0);
  bool mixed = false;
  for (int64_t i = 1; i < ms_dataset_num_files(ds); i++) mixed |= ms__dataset_file_format(ds, i) != fmt;
  cli_buf_printf(o, "path: %s\nformat: %s\nfiles: %lld\n", path,
                 mixed ? "mixed" : fmt == MS_FORMAT_PARQUET ? "parquet" : "csv",
                 (long long)ms_dataset_num_files(ds));
  const ms_pq_metadata *md = pq ? ms_pq_metadata_of(pq) : NULL;
  if (md) {
    cli_buf_printf(o, "rows: %lld\n", (long long)md->num_rows);
    cli_buf_puts(o, "created_by: ");
    cli_buf_puts(o, md->created_by ? md->created_by : "(none)");
    cli_buf_putc(o, '\n');
  }
  cli_buf_printf(o, "columns (%d):\n", ms_dataset_num_fields(ds));
  grid g = {.n_cols = 3};
  for (int i = 0; i < ms_dataset_num_fields(ds); i++) {
    const ms_field *f = ms_dataset_field(ds, i);
    cli_buf nm = {0};
    cli_json_string(&nm, f->name, strlen(f->name));
    /* Names print bare unless they need quoting to be unambiguous. */
    bool plain = nm.len == strlen(f->name) + 2 && !strchr(f->name, ' ') && f->name[0];
    grid_add(&g, plain ? f->name : nm.data, plain ? strlen(f->name) : nm.len);
    cli_buf_reset(&nm);
    grid_adds(&g, ms_type_to_string(&f->type, tb, sizeof tb));
    char flags[64];
    snprintf(flags, sizeof flags, "%s%s", f->nullable ? "nullable" : "not null",
             ms_dataset_field_is_partition(ds, i) ? ", partition" : "");
    grid_adds(&g, flags);
  }
  grid_print(&g, "  ", o);
  if (md) {
    cli_buf_printf(o, "row groups (%d):\n", md->n_row_groups);
    for (int32_t rgi = 0; rgi < md->n_row_groups; rgi++) {
      const ms_pq_row_group *rg = &md->row_groups[rgi];
      cli_buf_printf(o, "  row group %d: %lld rows, %lld bytes uncompressed\n", rgi, (long long)rg->num_rows,
                     (long long)rg->total_byte_size);
      grid cg = {.n_cols = 9};
      const char *hdr[] = {"column", "physical", "encodings", "codec", "compressed", "uncompressed",
                           "nulls", "min", "max"};
      for (int k = 0; k < 9; k++) grid_adds(&cg, hdr[k]);
      for (int32_t c = 0; c < rg->n_columns; c++) {
        if (!rg->columns[c].has_meta_data) continue;
        const ms_pq_column_meta *m = &rg->columns[c].meta_data;
        cli_buf cell = {0};
        chunk_name(&cell, m);
        grid_add(&cg, cell.data ? cell.data : "", cell.len);
        grid_adds(&cg, physical_name(m->type));
        cli_buf_clear(&cell);
        for (int32_t e = 0; e < m->n_encodings; e++) {
          if (e) cli_buf_putc(&cell, ',');
          cli_buf_puts(&cell, encoding_name(m->encodings[e]));
        }
        grid_add(&cg, cell.data ? cell.data : "", cell.len);
        grid_adds(&cg, ms_codec_name((ms_codec)m->codec));
        cli_buf_clear(&cell);
        cli_buf_printf(&cell, "%lld", (long long)m->total_compressed_size);
        grid_add(&cg, cell.data, cell.len);
        cli_buf_clear(&cell);
        cli_buf_printf(&cell, "%lld", (long long)m->total_uncompressed_size);
        grid_add(&cg, cell.data, cell.len);
        const ms_pq_statistics *s = m->has_statistics ? &m->statistics : NULL;
        cli_buf_clear(&cell);
        if (s && s->has_null_count) cli_buf_printf(&cell, "%lld", (long long)s->null_count);
        else cli_buf_puts(&cell, "-");
        grid_add(&cg, cell.data, cell.len);
        stats_view v = s ? pick_stats(s) : (stats_view){0};
        const ms_field *f = chunk_field(pq, m);
        for (int side = 0; side < 2; side++) {
          cli_buf_clear(&cell);
          bool has = side ? v.has_max : v.has_min;
          if (has) {
            stat_value(&cell, f, m->type, side ? v.max : v.min, side ? v.max_len : v.min_len, CLI_TEXT);
            if (v.legacy) cli_buf_puts(&cell, " (legacy)");
          } else {
            cli_buf_puts(&cell, "-");
          }
          grid_add(&cg, cell.data, cell.len);
        }
        cli_buf_reset(&cell);
      }
      grid_print(&cg, "    ", o);
    }
    cli_buf_printf(o, "key-value metadata (%d):\n", md->n_kv);
    for (int32_t i = 0; i < md->n_kv; i++) {
      cli_buf_puts(o, "  ");
      cli_buf_puts(o, md->kv[i].key ? md->kv[i].key : "");
      cli_buf_puts(o, " = ");
      if (md->kv[i].value) {
        /* Values (e.g. an Arrow schema in base64, or JSON) can be long: cut at 200 chars. */
        size_t len = strlen(md->kv[i].value);
        cli_buf nv = {0};
        cli_json_string(&nv, md->kv[i].value, len > 200 ? 200 : len);
        cli_buf_append(o, nv.data, nv.len);
        if (len > 200) cli_buf_printf(o, "... (%zu bytes)", len);
        cli_buf_reset(&nv);
      } else {
        cli_buf_puts(o, "(null)");
      }
      cli_buf_putc(o, '\n');
    }
  }
}

ms_status cli_cmd_schema(const cli_args *a, ms_error *err) {
  const char *path = a->pos[0];
  ms_dataset *ds = NULL;
  ms_status st = ms_dataset_open(NULL, path, NULL, &ds, err);
  if (st) return st;
  ms_pq_file *pq = NULL;
  if (ms_dataset_num_files(ds) == 1 && ms__dataset_file_format(ds, 0) == MS_FORMAT_PARQUET)
    st = ms_pq_open(NULL, ms_dataset_file_path(ds, 0), &pq, err);
  cli_buf o = {0};
  if (st == MS_OK) {
    if (cli_opt(a, "json")) print_json(&o, path, ds, pq);
    else print_text(&o, path, ds, pq);
    if (o.failed) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    else if (!cli_write(stdout, &o)) st = ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
  }
  cli_buf_reset(&o);
  ms_pq_close(pq);
  ms_dataset_close(ds);
  return st;
}
