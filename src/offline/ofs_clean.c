/* Source cleaning in retrieval and pulls: a source's derived `columns` and `filter`
 * (repo.h, ms_source_def) applied wherever an ordinary feature view or a pull reads it.
 *
 * The source's logical columns are its dataset columns under their field_mapping names,
 * then its derived columns in order (each compiled against the columns visible before it;
 * a derived column named like an existing one replaces it from then on). The filter is
 * compiled against the final set. A view's roles (join keys, timestamp, created, features)
 * are logical names and may be derived columns.
 *
 * Planning marks what is needed: the role columns, the filter's inputs, and, walking the
 * derived columns backwards, the inputs of every needed derived column; only the dataset
 * columns among them are read (phys_read) and only the needed derived columns are
 * evaluated. Each decoded file then becomes a "cleaned" table whose columns are the roles
 * (v->read_cols, named by their logical names), with the rows where the filter is not true
 * removed, before the timestamp pre-filter and the join see it: a filtered row is never a
 * candidate, exactly like a row outside the pre-filter. Row order is kept, so the tie rule
 * (last in source order) still holds. Such views read whole files (no late
 * materialisation of Parquet feature columns): the filter needs its columns for every row
 * anyway. Pruning by the timestamp's row-group statistics still applies when the timestamp
 * is a dataset column (a filter only removes rows); a computed timestamp disables it. */
#include <stdio.h>
#include <string.h>

#include "morsel/alloc.h"
#include "offline/ofs_internal.h"

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

struct ofs_clean {
  int n_slots;
  char **slot_name;        /* logical name */
  char **slot_phys;        /* dataset column, or NULL for a derived column */
  ms_datatype *slot_type;
  int *slot_derived;       /* index of the derived column, or -1 */
  uint8_t *needed;
  int *raw_at;             /* dataset slots: position in phys_read (-1 = not read) */
  int n_derived;
  ms_expr **derived;       /* [n_derived] */
  int *derived_slot;       /* [n_derived] */
  int **derived_in;        /* [n_derived][inputs] slot of each compile input */
  int *n_derived_in;
  ms_expr *filter;
  int *filter_in;
  int n_filter_in;
  int n_out;
  int *out_slot;           /* [n_out] slot of each cleaned column (v->read_cols order) */
  char *ts_dataset_col;    /* the timestamp's dataset column, or NULL when computed */
  const char *source_name, *filter_text;
  char **derived_names;    /* needed derived columns, for explain (borrowed) */
  int n_derived_names;
};

void ofs_clean_free(ofs_clean *c) {
  if (!c) return;
  for (int i = 0; i < c->n_slots; i++) {
    ms_free(c->slot_name[i]);
    ms_free(c->slot_phys[i]);
  }
  ms_free(c->slot_name);
  ms_free(c->slot_phys);
  ms_free(c->slot_type);
  ms_free(c->slot_derived);
  ms_free(c->needed);
  ms_free(c->raw_at);
  for (int j = 0; j < c->n_derived; j++) {
    if (c->derived) ms_expr_free(c->derived[j]);
    if (c->derived_in) ms_free(c->derived_in[j]);
  }
  ms_free(c->derived);
  ms_free(c->derived_slot);
  ms_free(c->derived_in);
  ms_free(c->n_derived_in);
  ms_expr_free(c->filter);
  ms_free(c->filter_in);
  ms_free(c->out_slot);
  ms_free(c->ts_dataset_col);
  ms_free(c->derived_names);
  ms_free(c);
}

static const char *logical_of(const ms_source_def *s, const char *phys) {
  for (int i = 0; i < s->n_field_mapping; i++)
    if (strcmp(s->field_mapping[i].key, phys) == 0) return s->field_mapping[i].value;
  return phys;
}

static ms_status add_slot(ofs_clean *c, const char *name, const char *phys, const ms_datatype *t, int derived,
                          ms_error *err) {
  int n = c->n_slots + 1;
  char **a = ms_realloc(c->slot_name, sizeof *a * (size_t)n);
  if (a) c->slot_name = a;
  char **b = ms_realloc(c->slot_phys, sizeof *b * (size_t)n);
  if (b) c->slot_phys = b;
  ms_datatype *ty = ms_realloc(c->slot_type, sizeof *ty * (size_t)n);
  if (ty) c->slot_type = ty;
  int *d = ms_realloc(c->slot_derived, sizeof *d * (size_t)n);
  if (d) c->slot_derived = d;
  if (!a || !b || !ty || !d) return oom(err);
  a[n - 1] = ms_strdup(name);
  b[n - 1] = phys ? ms_strdup(phys) : NULL;
  ty[n - 1] = *t;
  d[n - 1] = derived;
  c->n_slots = n;
  if (!a[n - 1] || (phys && !b[n - 1])) return oom(err);
  return MS_OK;
}

/* The visible slot of a logical name (the latest definition), or -1. */
static int visible(const ofs_clean *c, const char *name) {
  for (int i = c->n_slots - 1; i >= 0; i--)
    if (strcmp(c->slot_name[i], name) == 0) return i;
  return -1;
}

/* The currently visible slots as compile inputs (one per name). */
static ms_status visible_inputs(const ofs_clean *c, ms_field **out_f, int **out_slot, int *out_n, ms_error *err) {
  ms_field *f = ms_calloc((size_t)c->n_slots + 1, sizeof *f);
  int *sl = ms_calloc((size_t)c->n_slots + 1, sizeof *sl);
  if (!f || !sl) {
    ms_free(f);
    ms_free(sl);
    return oom(err);
  }
  int n = 0;
  for (int i = 0; i < c->n_slots; i++) {
    if (visible(c, c->slot_name[i]) != i) continue;
    f[n].name = c->slot_name[i];
    f[n].type = c->slot_type[i];
    f[n].nullable = true;
    sl[n++] = i;
  }
  *out_f = f;
  *out_slot = sl;
  *out_n = n;
  return MS_OK;
}

static ms_status compile_wrapped(const ms_source_def *s, const char *what, const char *text, ofs_clean *c,
                                 ms_expr **out, int **out_in, int *out_n_in, ms_error *err) {
  ms_field *f = NULL;
  int *sl = NULL, n = 0;
  ms_status st = visible_inputs(c, &f, &sl, &n, err);
  if (st) return st;
  st = ms_expr_compile(text, f, n, out, err);
  ms_free(f);
  if (st) {
    ms_free(sl);
    char msg[700];
    snprintf(msg, sizeof msg, "%.600s", err ? err->message : "");
    return ms_error_set(err, st, "source '%s', %s (%s): %s", s->name, what, text, msg);
  }
  *out_in = sl;
  *out_n_in = n;
  return MS_OK;
}

/* A role's slot: the visible logical name, else a dataset column of that physical name
 * (timestamp_field may name the source column before mapping). */
static int role_slot(const ofs_clean *c, const char *name) {
  int i = visible(c, name);
  if (i >= 0) return i;
  for (int k = 0; k < c->n_slots; k++)
    if (c->slot_phys[k] && strcmp(c->slot_phys[k], name) == 0) return k;
  return -1;
}

static int add_out(ofs_view *v, ofs_clean *c, int slot, bool *ok) {
  for (int i = 0; i < c->n_out; i++)
    if (c->out_slot[i] == slot) return i;
  int *no = ms_realloc(c->out_slot, sizeof *no * (size_t)(c->n_out + 1));
  char **nr = ms_realloc(v->read_cols, sizeof *nr * (size_t)(v->n_read + 1));
  ms_field *nt = ms_realloc(v->typed, sizeof *nt * (size_t)(v->n_typed + 1));
  if (no) c->out_slot = no;
  if (nr) v->read_cols = nr;
  if (nt) v->typed = nt;
  if (!no || !nr || !nt) {
    *ok = false;
    return 0;
  }
  no[c->n_out] = slot;
  nr[v->n_read] = ms_strdup(c->slot_name[slot]);
  nt[v->n_typed].name = ms_strdup(c->slot_name[slot]);
  nt[v->n_typed].type = c->slot_type[slot];
  nt[v->n_typed].nullable = true;
  if (!nr[v->n_read] || !nt[v->n_typed].name) *ok = false;
  v->n_read++;
  v->n_typed++;
  return c->n_out++;
}

ms_status ofs_clean_bind(ms_retrieval_job *job, ofs_view *v, ms_error *err) {
  (void)job;
  const ms_source_def *s = v->src;
  ofs_clean *c = ms_calloc(1, sizeof *c);
  if (!c) return oom(err);
  v->clean = c;
  c->source_name = s->name;
  c->filter_text = s->filter;
  ms_status st = MS_OK;
  for (int i = 0; i < ms_dataset_num_fields(v->ds) && st == MS_OK; i++) {
    const ms_field *f = ms_dataset_field(v->ds, i);
    st = add_slot(c, logical_of(s, f->name), f->name, &f->type, -1, err);
  }
  c->n_derived = s->n_columns;
  c->derived = ms_calloc((size_t)s->n_columns + 1, sizeof *c->derived);
  c->derived_slot = ms_calloc((size_t)s->n_columns + 1, sizeof *c->derived_slot);
  c->derived_in = ms_calloc((size_t)s->n_columns + 1, sizeof *c->derived_in);
  c->n_derived_in = ms_calloc((size_t)s->n_columns + 1, sizeof *c->n_derived_in);
  if (st == MS_OK && (!c->derived || !c->derived_slot || !c->derived_in || !c->n_derived_in)) st = oom(err);
  for (int j = 0; j < s->n_columns && st == MS_OK; j++) {
    char what[300];
    snprintf(what, sizeof what, "derived column '%s'", s->columns[j].name);
    st = compile_wrapped(s, what, s->columns[j].expression, c, &c->derived[j], &c->derived_in[j],
                         &c->n_derived_in[j], err);
    if (st == MS_OK) {
      c->derived_slot[j] = c->n_slots;
      st = add_slot(c, s->columns[j].name, NULL, ms_expr_type(c->derived[j]), j, err);
    }
  }
  if (st == MS_OK && s->filter) {
    st = compile_wrapped(s, "filter", s->filter, c, &c->filter, &c->filter_in, &c->n_filter_in, err);
    if (st == MS_OK && ms_expr_type(c->filter)->id != MS_TYPE_BOOL) {
      char tb[96];
      st = ms_error_set(err, MS_ERR_TYPE, "source '%s', filter (%s) is %s, not bool", s->name, s->filter,
                        ms_type_to_string(ms_expr_type(c->filter), tb, sizeof tb));
    }
  }
  if (st) return st;
  c->needed = ms_calloc((size_t)c->n_slots + 1, 1);
  c->raw_at = ms_calloc((size_t)c->n_slots + 1, sizeof *c->raw_at);
  v->key_phys = ms_calloc((size_t)v->n_keys + 1, sizeof *v->key_phys);
  v->feat_phys = ms_calloc((size_t)v->n_feat + 1, sizeof *v->feat_phys);
  v->key_at = ms_calloc((size_t)v->n_keys + 1, sizeof *v->key_at);
  v->feat_at = ms_calloc((size_t)v->n_feat + 1, sizeof *v->feat_at);
  if (!c->needed || !c->raw_at || !v->key_phys || !v->feat_phys || !v->key_at || !v->feat_at) return oom(err);
  /* Roles, in the order the plain path reads them: keys, ts, created, features. */
  bool ok = true;
  for (int k = 0; k < v->n_keys; k++) {
    int sl = role_slot(c, v->key_name[k]);
    if (sl < 0)
      return ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' (%s) has no column '%s' (nor a derived one) for join key '%s' of view '%s'",
                          s->name, s->path, v->key_name[k], v->key_name[k], v->label);
    v->key_at[k] = add_out(v, c, sl, &ok);
    if (ok && !(v->key_phys[k] = ms_strdup(c->slot_name[sl]))) ok = false;
  }
  int ts = role_slot(c, s->timestamp_field);
  if (ts < 0)
    return ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' (%s) has no timestamp column '%s'", s->name, s->path,
                        s->timestamp_field);
  if (!ofs_is_time_type(&c->slot_type[ts])) {
    char tb[96];
    return ms_error_set(err, MS_ERR_TYPE, "source '%s': timestamp column '%s' is %s, not a timestamp", s->name,
                        s->timestamp_field, ms_type_to_string(&c->slot_type[ts], tb, sizeof tb));
  }
  v->ts_at = add_out(v, c, ts, &ok);
  if (ok && (!(v->ts_phys = ms_strdup(c->slot_name[ts])) || !(v->ts_name = ms_strdup(c->slot_name[ts])))) ok = false;
  if (ok && c->slot_phys[ts] && !(c->ts_dataset_col = ms_strdup(c->slot_phys[ts]))) ok = false;
  if (s->created_timestamp_column) {
    int cr = role_slot(c, s->created_timestamp_column);
    if (cr < 0)
      return ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' (%s) has no created timestamp column '%s'", s->name,
                          s->path, s->created_timestamp_column);
    if (!ofs_is_time_type(&c->slot_type[cr])) {
      char tb[96];
      return ms_error_set(err, MS_ERR_TYPE, "source '%s': created column '%s' is %s, not a timestamp", s->name,
                          s->created_timestamp_column, ms_type_to_string(&c->slot_type[cr], tb, sizeof tb));
    }
    v->created_at = add_out(v, c, cr, &ok);
    if (ok && (!(v->created_phys = ms_strdup(c->slot_name[cr])) || !(v->created_name = ms_strdup(c->slot_name[cr]))))
      ok = false;
  }
  for (int f = 0; f < v->n_feat && ok; f++) {
    int sl = role_slot(c, v->feat_name[f]);
    if (sl < 0)
      return ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' (%s) has no column '%s' (nor a derived one) for feature '%s' of view '%s'",
                          s->name, s->path, v->feat_name[f], v->feat_name[f], v->label);
    v->feat_at[f] = add_out(v, c, sl, &ok);
    if (ok && !(v->feat_phys[f] = ms_strdup(c->slot_name[sl]))) ok = false;
  }
  if (!ok) return oom(err);
  /* What is needed: the outputs, the filter's inputs, then backwards through the derived
   * columns (inputs always come before the column that uses them). */
  for (int i = 0; i < c->n_out; i++) c->needed[c->out_slot[i]] = 1;
  for (int i = 0; c->filter && i < ms_expr_num_used_inputs(c->filter); i++)
    c->needed[c->filter_in[ms_expr_used_input(c->filter, i)]] = 1;
  for (int j = c->n_derived - 1; j >= 0; j--) {
    if (!c->needed[c->derived_slot[j]]) continue;
    for (int i = 0; i < ms_expr_num_used_inputs(c->derived[j]); i++)
      c->needed[c->derived_in[j][ms_expr_used_input(c->derived[j], i)]] = 1;
  }
  c->derived_names = ms_calloc((size_t)c->n_derived + 1, sizeof *c->derived_names);
  if (!c->derived_names) return oom(err);
  for (int j = 0; j < c->n_derived; j++)
    if (c->needed[c->derived_slot[j]]) c->derived_names[c->n_derived_names++] = c->slot_name[c->derived_slot[j]];
  for (int i = 0; i < c->n_slots; i++) {
    c->raw_at[i] = -1;
    if (!c->needed[i] || !c->slot_phys[i]) continue;
    int at = -1;
    for (int q = 0; q < v->n_phys_read; q++)
      if (strcmp(v->phys_read[q], c->slot_phys[i]) == 0) at = q;
    if (at < 0) {
      char **np = ms_realloc(v->phys_read, sizeof *np * (size_t)(v->n_phys_read + 1));
      if (!np) return oom(err);
      v->phys_read = np;
      if (!(np[v->n_phys_read] = ms_strdup(c->slot_phys[i]))) return oom(err);
      at = v->n_phys_read++;
    }
    c->raw_at[i] = at;
  }
  return MS_OK;
}

ms_status ofs_clean_apply(const ofs_view *v, const ms_table *raw, ms_table **out, ms_error *err) {
  *out = NULL;
  const ofs_clean *c = v->clean;
  int64_t n = ms_table_num_rows(raw);
  ms_column **env = ms_calloc((size_t)c->n_slots + 1, sizeof *env);
  if (!env) return oom(err);
  ms_status st = MS_OK;
  for (int i = 0; i < c->n_slots && st == MS_OK; i++) {
    if (c->raw_at[i] < 0) continue;
    int col = ms_table_find_column(raw, v->phys_read[c->raw_at[i]]);
    if (col < 0) st = ms_error_set(err, MS_ERR_INTERNAL, "column '%s' was not read", v->phys_read[c->raw_at[i]]);
    else env[i] = ms_column_retain(ms_table_column(raw, col));
  }
  ms_column **in = ms_calloc((size_t)c->n_slots + 1, sizeof *in);
  if (st == MS_OK && !in) st = oom(err);
  for (int j = 0; j < c->n_derived && st == MS_OK; j++) {
    if (!c->needed[c->derived_slot[j]]) continue;
    for (int i = 0; i < c->n_derived_in[j]; i++) in[i] = env[c->derived_in[j][i]];
    st = ms_expr_eval(c->derived[j], in, n, &env[c->derived_slot[j]], err);
    if (st) {
      char msg[700];
      snprintf(msg, sizeof msg, "%.600s", err ? err->message : "");
      st = ms_error_set(err, st, "source '%s', derived column '%s': %s", c->source_name,
                        c->slot_name[c->derived_slot[j]], msg);
    }
  }
  uint8_t *mask = NULL;
  int64_t kept = n;
  if (st == MS_OK && c->filter) {
    mask = ms_malloc((size_t)(n ? n : 1));
    if (!mask) st = oom(err);
    for (int i = 0; st == MS_OK && i < c->n_filter_in; i++) in[i] = env[c->filter_in[i]];
    if (st == MS_OK) st = ms_expr_eval_mask(c->filter, in, n, mask, &kept, err);
    if (st) {
      char msg[700];
      snprintf(msg, sizeof msg, "%.600s", err ? err->message : "");
      st = ms_error_set(err, st, "source '%s', filter: %s", c->source_name, msg);
    }
  }
  ms_field *fields = ms_calloc((size_t)c->n_out + 1, sizeof *fields);
  ms_column **cols = ms_calloc((size_t)c->n_out + 1, sizeof *cols);
  if (st == MS_OK && (!fields || !cols)) st = oom(err);
  for (int i = 0; i < c->n_out && st == MS_OK; i++) {
    cols[i] = env[c->out_slot[i]];
    fields[i].name = v->read_cols[i];
    fields[i].type = *ms_column_type(cols[i]);
    fields[i].nullable = true;
  }
  ms_table *t = NULL;
  if (st == MS_OK) st = ms_table_create(fields, cols, c->n_out, &t, err);
  if (st == MS_OK && mask && kept < n) {
    st = ms_table_filter(t, mask, out, err);
    ms_table_release(t);
  } else if (st == MS_OK) {
    *out = t;
  }
  for (int i = 0; i < c->n_slots; i++) ms_column_release(env[i]);
  ms_free(env);
  ms_free(in);
  ms_free(mask);
  ms_free(fields);
  ms_free(cols);
  return st;
}

ms_status ofs_clean_logical_names(const ms_source_def *s, const ms_dataset *ds, char ***out, int *out_n,
                                  ms_error *err) {
  *out = NULL;
  *out_n = 0;
  int cap = ms_dataset_num_fields(ds) + s->n_columns + 1;
  char **names = ms_calloc((size_t)cap, sizeof *names);
  if (!names) return oom(err);
  int n = 0;
  for (int i = 0; i < ms_dataset_num_fields(ds) + s->n_columns; i++) {
    const char *name = i < ms_dataset_num_fields(ds) ? logical_of(s, ms_dataset_field(ds, i)->name)
                                                      : s->columns[i - ms_dataset_num_fields(ds)].name;
    bool dup = false;
    for (int k = 0; k < n && !dup; k++) dup = strcmp(names[k], name) == 0;
    if (dup) continue;
    if (!(names[n] = ms_strdup(name))) {
      for (int k = 0; k < n; k++) ms_free(names[k]);
      ms_free(names);
      return oom(err);
    }
    n++;
  }
  *out = names;
  *out_n = n;
  return MS_OK;
}

const char *ofs_clean_ts_dataset_column(const ofs_view *v) { return v->clean ? v->clean->ts_dataset_col : NULL; }

void ofs_clean_explain(const ofs_view *v, ofs_sb *b) {
  const ofs_clean *c = v->clean;
  if (!c) return;
  ofs_sb_printf(b, "  source cleaning: ");
  if (c->n_derived_names == 0) ofs_sb_printf(b, "no derived column needed");
  else ofs_sb_printf(b, "derived columns computed:");
  for (int i = 0; i < c->n_derived_names; i++) ofs_sb_printf(b, "%s %s", i ? "," : "", c->derived_names[i]);
  if (c->filter_text) ofs_sb_printf(b, "; filter: %s (rows where it is not true are dropped before the join)", c->filter_text);
  ofs_sb_printf(b, "\n  dataset columns read: ");
  for (int i = 0; i < v->n_phys_read; i++) ofs_sb_printf(b, "%s%s", i ? ", " : "", v->phys_read[i]);
  ofs_sb_printf(b, "\n  whole files are read (no late materialisation) for a cleaned source%s\n",
                c->ts_dataset_col ? "" : "; the timestamp is computed, so no pruning by its statistics");
}
