/* `morsel cat PATH [--columns a,b] [--head N] [--format jsonl|csv|table]`.
 *
 * Rows are streamed: the dataset is read a piece at a time (cli_stream_dataset: a file, or
 * a run of Parquet row groups, in the unified schema with partition columns), each row is
 * rendered into a small buffer that is flushed to stdout every 64 KiB, and reading stops
 * once --head rows are out. The default format is table when stdout is a terminal and
 * jsonl otherwise.
 *
 * jsonl: one object per row, keys in schema order, values by cli_render_value.
 * csv: RFC 4180; a field is quoted when it holds the delimiter, a quote, CR or LF, and an
 *   empty (non-null) string is written as "" so that it differs from null (empty).
 * table: columns aligned to the widths of the header and the first 100 rows (at most 40
 *   characters; longer cells are cut and end in "…"), numbers right-aligned, null shown
 *   as "null", control characters escaped. */
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "dataset/dataset_int.h"
#include "morsel/alloc.h"

#define FLUSH_BYTES (64 * 1024)
#define TABLE_BLOCK 100
#define TABLE_MAX_WIDTH 40
#define PIECE_ROWS 65536

typedef enum { FMT_JSONL, FMT_CSV, FMT_TABLE } out_format;

typedef struct cat_out {
  out_format fmt;
  int n_cols;
  const ms_field **fields;
  cli_buf out;
  cli_buf *json_keys; /* pre-rendered "name": per column */
  /* table state */
  bool header_done;
  size_t *width;
  cli_buf cells;
  size_t *cell_off; /* TABLE_BLOCK * n_cols + 1 */
  const char **line_cells; /* n_cols scratch for one line */
  size_t *line_lens;
  int64_t block_rows;
} cat_out;

static bool flush_out(cat_out *o, bool force, ms_error *err) {
  if (o->out.failed) { ms_error_set(err, MS_ERR_NOMEM, "out of memory"); return false; }
  if (!force && o->out.len < FLUSH_BYTES) return true;
  if (!cli_write(stdout, &o->out)) {
    ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
    return false;
  }
  cli_buf_clear(&o->out);
  return true;
}

static bool is_numeric(const ms_datatype *t) {
  return ms_type_is_integer(t) || ms_type_is_float(t) || t->id == MS_TYPE_DECIMAL128;
}

static void csv_field(cli_buf *b, const char *s, size_t len, bool force_quotes) {
  bool quote = force_quotes || len == 0;
  for (size_t i = 0; i < len && !quote; i++) quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
  if (!quote) { cli_buf_append(b, s, len); return; }
  cli_buf_putc(b, '"');
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"') cli_buf_putc(b, '"');
    cli_buf_putc(b, s[i]);
  }
  cli_buf_putc(b, '"');
}

/* Appends a table cell padded (or cut) to width w. */
static void table_cell(cli_buf *b, const char *s, size_t len, size_t w, bool right) {
  size_t dw = cli_display_width(s, len);
  if (dw > w) {
    /* Cut to w-1 characters and mark the cut. */
    size_t chars = 0, i = 0;
    while (i < len && chars < w - 1) {
      i++;
      while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80) i++;
      chars++;
    }
    cli_buf_append(b, s, i);
    cli_buf_puts(b, "\xe2\x80\xa6");
    return;
  }
  if (right) for (size_t k = dw; k < w; k++) cli_buf_putc(b, ' ');
  cli_buf_append(b, s, len);
  if (!right) for (size_t k = dw; k < w; k++) cli_buf_putc(b, ' ');
}

static void table_line(cat_out *o, const char **cells, const size_t *lens) {
  for (int j = 0; j < o->n_cols; j++) {
    if (j) cli_buf_puts(&o->out, "  ");
    bool right = is_numeric(&o->fields[j]->type);
    size_t w = o->width[j];
    /* The last column is not padded on the right (no trailing blanks). */
    if (j == o->n_cols - 1 && !right) w = cli_display_width(cells[j], lens[j]) < w ? cli_display_width(cells[j], lens[j]) : w;
    table_cell(&o->out, cells[j], lens[j], w, right);
  }
  cli_buf_putc(&o->out, '\n');
}

static bool table_flush(cat_out *o, ms_error *err) {
  int n = o->n_cols;
  if (!o->header_done) {
    for (int j = 0; j < n; j++) {
      size_t w = cli_display_width(o->fields[j]->name, strlen(o->fields[j]->name));
      for (int64_t r = 0; r < o->block_rows; r++) {
        size_t a = o->cell_off[r * n + j], b = o->cell_off[r * n + j + 1];
        size_t cw = cli_display_width(o->cells.data + a, b - a);
        if (cw > w) w = cw;
      }
      if (w > TABLE_MAX_WIDTH) w = TABLE_MAX_WIDTH;
      if (w < 1) w = 1;
      o->width[j] = w;
    }
    for (int j = 0; j < n; j++) { o->line_cells[j] = o->fields[j]->name; o->line_lens[j] = strlen(o->fields[j]->name); }
    /* Header names are left-aligned over left-aligned columns, right over numbers. */
    table_line(o, o->line_cells, o->line_lens);
    for (int j = 0; j < n; j++) {
      if (j) cli_buf_puts(&o->out, "  ");
      for (size_t k = 0; k < o->width[j]; k++) cli_buf_putc(&o->out, '-');
    }
    cli_buf_putc(&o->out, '\n');
    o->header_done = true;
  }
  for (int64_t r = 0; r < o->block_rows; r++) {
    for (int j = 0; j < n; j++) {
      size_t a = o->cell_off[r * n + j], b = o->cell_off[r * n + j + 1];
      o->line_cells[j] = o->cells.data ? o->cells.data + a : "";
      o->line_lens[j] = b - a;
    }
    table_line(o, o->line_cells, o->line_lens);
  }
  o->block_rows = 0;
  cli_buf_clear(&o->cells);
  o->cell_off[0] = 0;
  return flush_out(o, true, err);
}

static bool emit_row(cat_out *o, const ms_table *t, int64_t row, ms_error *err) {
  cli_buf *b = &o->out;
  switch (o->fmt) {
    case FMT_JSONL:
      cli_buf_putc(b, '{');
      for (int j = 0; j < o->n_cols; j++) {
        if (j) cli_buf_putc(b, ',');
        cli_buf_append(b, o->json_keys[j].data, o->json_keys[j].len);
        cli_render_value(b, ms_table_column(t, j), row, CLI_JSON);
      }
      cli_buf_puts(b, "}\n");
      return flush_out(o, false, err);
    case FMT_CSV:
      for (int j = 0; j < o->n_cols; j++) {
        if (j) cli_buf_putc(b, ',');
        const ms_column *c = ms_table_column(t, j);
        if (ms_column_is_null(c, row)) continue;
        size_t start = o->cells.len;
        cli_render_value(&o->cells, c, row, CLI_CSV);
        csv_field(b, o->cells.data ? o->cells.data + start : "", o->cells.len - start, false);
        cli_buf_clear(&o->cells);
      }
      cli_buf_putc(b, '\n');
      return flush_out(o, false, err);
    case FMT_TABLE:
      for (int j = 0; j < o->n_cols; j++) {
        cli_render_value(&o->cells, ms_table_column(t, j), row, CLI_TEXT);
        o->cell_off[o->block_rows * o->n_cols + j + 1] = o->cells.len;
      }
      o->block_rows++;
      if (o->cells.failed) { ms_error_set(err, MS_ERR_NOMEM, "out of memory"); return false; }
      if (o->block_rows == TABLE_BLOCK) return table_flush(o, err);
      return true;
  }
  return true;
}

typedef struct cat_ctx {
  cat_out *o;
  int64_t remaining; /* rows still wanted, -1 = all */
} cat_ctx;

static ms_status cat_piece(void *ctx, const ms_table *t, bool *stop, ms_error *err) {
  cat_ctx *c = ctx;
  int64_t n = ms_table_num_rows(t);
  if (c->remaining >= 0 && n > c->remaining) n = c->remaining;
  for (int64_t r = 0; r < n; r++)
    if (!emit_row(c->o, t, r, err)) return err->status ? err->status : MS_ERR_IO;
  if (c->remaining >= 0) {
    c->remaining -= n;
    if (c->remaining == 0) *stop = true;
  }
  return MS_OK;
}

static void cat_out_reset(cat_out *o) {
  if (o->json_keys)
    for (int j = 0; j < o->n_cols; j++) cli_buf_reset(&o->json_keys[j]);
  ms_free(o->json_keys);
  ms_free(o->fields);
  ms_free(o->width);
  ms_free(o->cell_off);
  ms_free(o->line_cells);
  ms_free(o->line_lens);
  cli_buf_reset(&o->out);
  cli_buf_reset(&o->cells);
}

ms_status cli_cmd_cat(const cli_args *a, ms_error *err) {
  int64_t head = -1;
  ms_status st = cli_opt_int(a, "head", 0, INT64_MAX, &head, err);
  if (st) return st;
  out_format fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_JSONL;
  const char *f = cli_opt(a, "format");
  if (f) {
    if (strcmp(f, "jsonl") == 0) fmt = FMT_JSONL;
    else if (strcmp(f, "csv") == 0) fmt = FMT_CSV;
    else if (strcmp(f, "table") == 0) fmt = FMT_TABLE;
    else return ms_error_set(err, MS_ERR_INVALID, "--format wants jsonl, csv or table, got '%s'", f);
  }
  char **cols = NULL;
  int n_cols = 0;
  if (cli_opt(a, "columns") && (st = cli_split_list(cli_opt(a, "columns"), &cols, &n_cols, err))) return st;
  ms_pool *pool = NULL;
  ms_dataset *ds = NULL;
  cat_out o = {0};
  o.fmt = fmt;
  st = cli_make_pool(a, &pool, err);
  if (st == MS_OK) st = ms_dataset_open(NULL, a->pos[0], NULL, &ds, err);
  ms_dataset_read_options ro = {0};
  ro.columns = (const char *const *)cols;
  ro.n_columns = n_cols;
  ro.pool = pool;
  if (st == MS_OK) {
    /* The output schema, known before any file is read (the header of an empty result). */
    o.n_cols = cols ? n_cols : ms_dataset_num_fields(ds);
    o.fields = ms_calloc((size_t)o.n_cols + 1, sizeof *o.fields);
    o.json_keys = ms_calloc((size_t)o.n_cols + 1, sizeof *o.json_keys);
    o.width = ms_calloc((size_t)o.n_cols + 1, sizeof *o.width);
    o.cell_off = ms_calloc((size_t)TABLE_BLOCK * (size_t)o.n_cols + 1, sizeof *o.cell_off);
    o.line_cells = ms_calloc((size_t)o.n_cols + 1, sizeof *o.line_cells);
    o.line_lens = ms_calloc((size_t)o.n_cols + 1, sizeof *o.line_lens);
    if (!o.fields || !o.json_keys || !o.width || !o.cell_off || !o.line_cells || !o.line_lens) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    for (int j = 0; j < o.n_cols && st == MS_OK; j++) {
      int fi = j;
      if (cols) {
        fi = -1;
        for (int k = 0; k < ms_dataset_num_fields(ds); k++)
          if (strcmp(ms_dataset_field(ds, k)->name, cols[j]) == 0) fi = k;
      }
      if (fi < 0) {
        /* Let the dataset produce its precise error (unknown vs nested column). */
        ms_table *t = NULL;
        st = ms__dataset_read_file(ds, 0, &ro, NULL, 0, &t, NULL, err);
        ms_table_release(t);
        if (st == MS_OK) st = ms_error_set(err, MS_ERR_NOT_FOUND, "no such column '%s'", cols[j]);
        break;
      }
      o.fields[j] = ms_dataset_field(ds, fi);
      cli_json_string(&o.json_keys[j], o.fields[j]->name, strlen(o.fields[j]->name));
      cli_buf_putc(&o.json_keys[j], ':');
    }
  }
  if (st == MS_OK && fmt == FMT_CSV) {
    for (int j = 0; j < o.n_cols; j++) {
      if (j) cli_buf_putc(&o.out, ',');
      csv_field(&o.out, o.fields[j]->name, strlen(o.fields[j]->name), false);
    }
    cli_buf_putc(&o.out, '\n');
  }
  cat_ctx cc = {&o, head};
  if (st == MS_OK && head != 0) st = cli_stream_dataset(ds, &ro, PIECE_ROWS, cat_piece, &cc, err);
  if (st == MS_OK && fmt == FMT_TABLE && (o.block_rows > 0 || !o.header_done)) {
    if (!table_flush(&o, err)) st = err && err->status ? err->status : MS_ERR_IO;
  }
  if (st == MS_OK && !flush_out(&o, true, err)) st = err && err->status ? err->status : MS_ERR_IO;
  cat_out_reset(&o);
  ms_dataset_close(ds);
  ms_pool_destroy(pool);
  cli_free_list(cols, n_cols);
  return st;
}
