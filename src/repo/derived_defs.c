/* Definitions that carry expressions: a source's derived `columns:` and `filter:`, the
 * aggregation part of a feature view (timestamp_field, filter, population, cutoffs,
 * aggregations, expressions) and on-demand feature views.
 *
 * Parsing here is structural: keys (with "did you mean"), function names, windows
 * (durations or `unbounded`), which keys go with which function, duplicate and reserved
 * names, and the syntax of every expression (ms_expr_references), each problem at the
 * file:line:col of the YAML value. Whether an expression's columns exist and its types fit
 * needs the source files' schemas: that is ms_repo_typecheck (typecheck.c), run by apply,
 * plan and validate. Cross-object checks (join keys, schema entries that name an
 * aggregation, on-demand sources that are feature views) run after every file is parsed,
 * in ms_def_validate_derived. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "morsel/alloc.h"
#include "morsel/expr.h"
#include "repo_int.h"

static const char *const k_functions[] = {"count", "count_distinct", "sum",   "mean",
                                          "min",   "max",            "first", "last",
                                          "stddev", "var",           "mean_gap"};
static const char *const k_reserved[] = {"as_of", "first_event", "last_event"};

static bool is_reserved(const char *name) {
  for (int i = 0; i < MS_COUNT(k_reserved); i++)
    if (!strcmp(name, k_reserved[i])) return true;
  return false;
}

/* Syntax check of one expression: the expression module's message starts with
 * "at column N: ", placed after the value's file:line:col. `allowed` (NULL = any) limits
 * the names it may reference. */
static bool syntax_ok(ms_dctx *c, const ms_ynode *n, const char *desc, const char *text,
                      const char *const *allowed, int n_allowed, const char *hint) {
  char **names = NULL;
  int n_names = 0;
  ms_error e;
  ms_error_init(&e);
  if (ms_expr_references(text, &names, &n_names, &e) != MS_OK) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s: %s", desc, e.message);
    return false;
  }
  bool ok = true;
  for (int i = 0; allowed && i < n_names; i++) {
    bool found = false;
    for (int k = 0; k < n_allowed; k++)
      if (!strcmp(names[i], allowed[k])) found = true;
    if (!found) {
      const char *sug = ms_repo_suggest(names[i], allowed, n_allowed);
      ms_probs_add(c->probs, c->file, n->line, n->col, "%s: unknown name '%s'%s%s%s (%s)", desc,
                   names[i], sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "",
                   hint);
      ok = false;
    }
  }
  ms_expr_names_free(names, n_names);
  return ok;
}

/* The text of an expression value (NULL when absent); empty text and syntax errors are
 * problems (the text is still returned, so that later checks see the definition). */
static char *expr_text(ms_dctx *c, const ms_ynode *n, const char *desc) {
  char *s = ms_def_str(c, n, desc);
  if (!s) return NULL;
  const char *p = s;
  while (isspace((unsigned char)*p)) p++;
  if (!*p) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s: empty expression", desc);
    return s;
  }
  syntax_ok(c, n, desc, s, NULL, 0, NULL);
  return s;
}

/* A window: a positive duration or `unbounded` (-1). */
static bool parse_window(ms_dctx *c, const ms_ynode *n, const char *desc, int64_t *out) {
  if (!n || ms_ynode_is_null(n)) return false;
  if (n->kind == MS_YN_SCALAR && !strcmp(n->value, "unbounded")) {
    *out = -1;
    return true;
  }
  int64_t s = 0;
  if (n->kind != MS_YN_SCALAR || !ms_parse_duration(n->value, &s) || s <= 0) {
    ms_probs_add(c->probs, c->file, n->line, n->col,
                 "%s: bad window '%s' (use a positive duration such as 90d, 12h, 30m, or "
                 "unbounded)",
                 desc, n->kind == MS_YN_SCALAR ? n->value : "(not text)");
    return false;
  }
  *out = s;
  return true;
}

static bool parse_positive_duration(ms_dctx *c, const ms_ynode *n, const char *desc,
                                    int64_t *out) {
  int64_t s = 0;
  if (n->kind != MS_YN_SCALAR || !ms_parse_duration(n->value, &s) || s <= 0) {
    ms_probs_add(c->probs, c->file, n->line, n->col,
                 "%s: bad duration '%s' (use a positive duration such as 30d, 1d, 12h)", desc,
                 n->kind == MS_YN_SCALAR ? n->value : "(not text)");
    return false;
  }
  *out = s;
  return true;
}

/* A list of {name, expression} items (source columns, view expressions). */
static ms_named_expr *parse_named_exprs(ms_dctx *c, const ms_ynode *n, const char *desc,
                                        const char *owner_desc, int *out_n) {
  *out_n = 0;
  if (!n || ms_ynode_is_null(n)) return NULL;
  if (n->kind != MS_YN_SEQ) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be a list of {name, expression}",
                 desc);
    return NULL;
  }
  ms_named_expr *v = ms_calloc((size_t)n->n + 1, sizeof *v);
  if (!v) return NULL;
  static const char *const known[] = {"name", "expression"};
  for (int i = 0; i < n->n; i++) {
    const ms_ynode *it = n->items[i];
    if (!ms_def_check_keys(c, it, desc, known, 2, known, 2)) continue;
    const ms_ynode *en = ms_ynode_get(it, "expression");
    char *name = ms_def_str(c, ms_ynode_get(it, "name"), "name");
    char what[256];
    snprintf(what, sizeof what, "%s '%s'", owner_desc, name ? name : "?");
    char *text = expr_text(c, en, what);
    if (!name || !text) {
      ms_free(name);
      ms_free(text);
      continue;
    }
    for (int j = 0; j < *out_n; j++)
      if (!strcmp(v[j].name, name))
        ms_probs_add(c->probs, c->file, it->line, it->col,
                     "%s: '%s' is defined twice (first at %s)", owner_desc, name, v[j].where);
    v[*out_n].name = name;
    v[*out_n].expression = text;
    v[*out_n].where = ms_def_where(c, en);
    (*out_n)++;
  }
  return v;
}

static void free_named_exprs(ms_named_expr *v, int n) {
  for (int i = 0; i < n; i++) {
    ms_free(v[i].name);
    ms_free(v[i].expression);
    ms_free(v[i].where);
  }
  ms_free(v);
}

/* ---- sources ---- */

void ms_def_parse_source_columns(ms_dctx *c, ms_source_def *s, ms_source_marks *sm,
                                 const ms_ynode *m) {
  char desc[256];
  snprintf(desc, sizeof desc, "source '%s', derived column", s->name ? s->name : "?");
  s->columns = parse_named_exprs(c, ms_ynode_get(m, "columns"), "columns", desc,
                                 &s->n_columns);
  const ms_ynode *f = ms_ynode_get(m, "filter");
  snprintf(desc, sizeof desc, "source '%s', filter", s->name ? s->name : "?");
  s->filter = expr_text(c, f, desc);
  if (s->filter) sm->filter = ms_def_where(c, f);
}

void ms_def_free_source_columns(ms_source_def *s, ms_source_marks *sm) {
  free_named_exprs(s->columns, s->n_columns);
  ms_free(s->filter);
  if (sm) ms_free(sm->filter);
}

/* ---- aggregation views ---- */

/* '2011-03-01 08:26:00' or ISO text: a cutoff bound given as a timestamp, not an
 * expression. */
static bool looks_like_timestamp(const char *s) {
  for (int i = 0; i < 10; i++) {
    if (!s[i]) return false;
    if (i == 4 || i == 7) {
      if (s[i] != '-') return false;
    } else if (!isdigit((unsigned char)s[i])) {
      return false;
    }
  }
  return true;
}

/* A cutoff bound: timestamp text, or an expression over first_event / last_event. */
static char *parse_cutoff_bound(ms_dctx *c, const ms_ynode *n, const char *desc) {
  char *s = ms_def_str(c, n, desc);
  if (!s || looks_like_timestamp(s)) return s;
  static const char *const allowed[] = {"first_event", "last_event"};
  syntax_ok(c, n, desc, s, allowed, 2,
            "a cutoff is a timestamp such as '2011-03-01 08:26:00' or an expression over "
            "first_event and last_event, e.g. first_event + 90d");
  return s;
}

static void parse_aggregation(ms_dctx *c, const char *vn, ms_aggregation_def *a,
                              ms_view_marks *vm, int idx, const ms_ynode *it) {
  const ms_ynode *fn = ms_ynode_get(it, "function");
  a->name = ms_def_str(c, ms_ynode_get(it, "name"), "name");
  a->where = ms_def_where(c, it);
  char desc[512];
  snprintf(desc, sizeof desc, "feature view '%s', aggregation '%s'", vn,
           a->name ? a->name : "?");
  a->function = ms_def_str(c, fn, "function");
  bool known_fn = false;
  if (a->function) {
    for (int i = 0; i < MS_COUNT(k_functions); i++)
      if (!strcmp(a->function, k_functions[i])) known_fn = true;
    if (!known_fn) {
      const char *sug = ms_repo_suggest(a->function, k_functions, MS_COUNT(k_functions));
      ms_probs_add(c->probs, c->file, fn->line, fn->col,
                   "%s: unknown function '%s'%s%s%s (use count, count_distinct, sum, mean, "
                   "min, max, first, last, stddev, var or mean_gap)",
                   desc, a->function, sug ? "; did you mean '" : "", sug ? sug : "",
                   sug ? "'?" : "");
    }
  }
  const ms_ynode *in = ms_ynode_get(it, "input");
  char sub[600];
  snprintf(sub, sizeof sub, "%s, input", desc);
  a->input = expr_text(c, in, sub);
  if (a->input) vm->agg_input[idx] = ms_def_where(c, in);
  if (!a->input && a->function && known_fn && strcmp(a->function, "count"))
    ms_probs_add(c->probs, c->file, it->line, it->col,
                 "%s: function %s needs an input (only count counts rows without one)", desc,
                 a->function);
  const ms_ynode *w = ms_ynode_get(it, "window");
  snprintf(sub, sizeof sub, "%s, window", desc);
  parse_window(c, w, sub, &a->window_seconds);
  const ms_ynode *dir = ms_ynode_get(it, "direction");
  char *d = ms_def_str(c, dir, "direction");
  if (d && !strcmp(d, "forward")) {
    a->forward = true;
  } else if (d && strcmp(d, "backward")) {
    ms_probs_add(c->probs, c->file, dir->line, dir->col,
                 "%s: direction '%s' (use backward or forward)", desc, d);
  }
  ms_free(d);
  const ms_ynode *f = ms_ynode_get(it, "filter");
  snprintf(sub, sizeof sub, "%s, filter", desc);
  a->filter = expr_text(c, f, sub);
  if (a->filter) vm->agg_filter[idx] = ms_def_where(c, f);
  bool is_gap = a->function && !strcmp(a->function, "mean_gap");
  const ms_ynode *by = ms_ynode_get(it, "by");
  snprintf(sub, sizeof sub, "%s, by", desc);
  if (by && !is_gap && a->function && known_fn)
    ms_probs_add(c->probs, c->file, by->line, by->col,
                 "%s: 'by' goes only with function mean_gap (this is %s)", desc, a->function);
  a->by = expr_text(c, by, sub);
  if (a->by) vm->agg_by[idx] = ms_def_where(c, by);
  const ms_ynode *unit = ms_ynode_get(it, "unit");
  a->unit_seconds = is_gap ? 86400 : 0;
  if (unit && !ms_ynode_is_null(unit)) {
    snprintf(sub, sizeof sub, "%s, unit", desc);
    if (!is_gap && a->function && known_fn)
      ms_probs_add(c->probs, c->file, unit->line, unit->col,
                   "%s: 'unit' goes only with function mean_gap (this is %s)", desc,
                   a->function);
    else
      parse_positive_duration(c, unit, sub, &a->unit_seconds);
  }
}

void ms_def_parse_view_agg(ms_dctx *c, ms_feature_view_def *v, ms_view_marks *vm,
                           const ms_ynode *m) {
  ms_aggregation_spec *a = &v->agg;
  const char *vn = v->name ? v->name : "?";
  const ms_ynode *aggs = ms_ynode_get(m, "aggregations");
  bool is_agg = aggs && !ms_ynode_is_null(aggs);
  if (!is_agg) { /* the aggregation keys mean nothing without aggregations */
    static const char *const only[] = {"timestamp_field", "filter", "population", "cutoffs",
                                       "expressions"};
    for (int i = 0; i < MS_COUNT(only); i++) {
      const ms_ynode *k = ms_ynode_get(m, only[i]);
      if (k)
        ms_probs_add(c->probs, c->file, k->line, k->col,
                     "feature view '%s': '%s' is only for aggregation views (a feature view "
                     "with aggregations:)",
                     vn, only[i]);
    }
    return;
  }
  char desc[512];
  const ms_ynode *ts = ms_ynode_get(m, "timestamp_field");
  a->timestamp_field = ms_def_str(c, ts, "timestamp_field");
  if (a->timestamp_field) vm->timestamp_field = ms_def_where(c, ts);
  const ms_ynode *f = ms_ynode_get(m, "filter");
  snprintf(desc, sizeof desc, "feature view '%s', filter", vn);
  a->filter = expr_text(c, f, desc);
  if (a->filter) vm->filter = ms_def_where(c, f);

  if (aggs->kind != MS_YN_SEQ || aggs->n == 0) {
    ms_probs_add(c->probs, c->file, aggs->line, aggs->col,
                 "feature view '%s': aggregations must be a list of at least one "
                 "{name, function, input, window}",
                 vn);
  } else {
    a->aggregations = ms_calloc((size_t)aggs->n + 1, sizeof *a->aggregations);
    vm->agg_input = ms_calloc((size_t)aggs->n + 1, sizeof *vm->agg_input);
    vm->agg_filter = ms_calloc((size_t)aggs->n + 1, sizeof *vm->agg_filter);
    vm->agg_by = ms_calloc((size_t)aggs->n + 1, sizeof *vm->agg_by);
    if (!a->aggregations || !vm->agg_input || !vm->agg_filter || !vm->agg_by) return;
    static const char *const known[] = {"name",   "function", "input", "window",
                                        "direction", "filter", "by",    "unit"};
    static const char *const req[] = {"name", "function", "window"};
    for (int i = 0; i < aggs->n; i++) {
      const ms_ynode *it = aggs->items[i];
      if (!ms_def_check_keys(c, it, "aggregations", known, MS_COUNT(known), req,
                             MS_COUNT(req)))
        continue;
      ms_aggregation_def *ad = &a->aggregations[a->n_aggregations];
      parse_aggregation(c, vn, ad, vm, a->n_aggregations, it);
      if (!ad->name) { /* reported as missing; keep the arrays dense */
        ms_free(ad->function);
        ms_free(ad->input);
        ms_free(ad->filter);
        ms_free(ad->by);
        ms_free(ad->where);
        ms_free(vm->agg_input[a->n_aggregations]);
        ms_free(vm->agg_filter[a->n_aggregations]);
        ms_free(vm->agg_by[a->n_aggregations]);
        vm->agg_input[a->n_aggregations] = vm->agg_filter[a->n_aggregations] =
            vm->agg_by[a->n_aggregations] = NULL;
        memset(ad, 0, sizeof *ad);
        continue;
      }
      a->n_aggregations++;
    }
  }
  snprintf(desc, sizeof desc, "feature view '%s', expression", vn);
  a->expressions =
      parse_named_exprs(c, ms_ynode_get(m, "expressions"), "expressions", desc,
                        &a->n_expressions);

  /* names: unique across aggregations and expressions, not reserved */
  for (int i = 0; i < a->n_aggregations + a->n_expressions; i++) {
    bool is_a = i < a->n_aggregations;
    const char *name = is_a ? a->aggregations[i].name : a->expressions[i - a->n_aggregations].name;
    const char *where = is_a ? a->aggregations[i].where : a->expressions[i - a->n_aggregations].where;
    if (is_reserved(name))
      ms_def_prob(c->probs, where,
                  "feature view '%s': '%s' is a reserved name (as_of, first_event and "
                  "last_event are)",
                  vn, name);
    for (int j = 0; j < i && j < a->n_aggregations; j++)
      if (!strcmp(a->aggregations[j].name, name)) {
        ms_def_prob(c->probs, where, "feature view '%s': '%s' is defined twice (first at %s)",
                    vn, name, a->aggregations[j].where);
        break;
      }
  }

  /* population */
  int64_t dflt = -1; /* the largest finite backward window, unbounded when none */
  for (int i = 0; i < a->n_aggregations; i++)
    if (!a->aggregations[i].forward && a->aggregations[i].window_seconds > dflt)
      dflt = a->aggregations[i].window_seconds;
  a->population_window_seconds = dflt;
  const ms_ynode *pop = ms_ynode_get(m, "population");
  if (pop && !ms_ynode_is_null(pop)) {
    static const char *const pk[] = {"window", "filter"};
    if (pop->kind != MS_YN_MAP) {
      ms_probs_add(c->probs, c->file, pop->line, pop->col,
                   "feature view '%s': population must be a mapping {window, filter}", vn);
    } else {
      ms_def_check_keys(c, pop, "population", pk, 2, NULL, 0);
      snprintf(desc, sizeof desc, "feature view '%s', population window", vn);
      parse_window(c, ms_ynode_get(pop, "window"), desc, &a->population_window_seconds);
      const ms_ynode *pf = ms_ynode_get(pop, "filter");
      snprintf(desc, sizeof desc, "feature view '%s', population filter", vn);
      a->population_filter = expr_text(c, pf, desc);
      if (a->population_filter) vm->population_filter = ms_def_where(c, pf);
    }
  }

  /* cutoffs */
  const ms_ynode *cut = ms_ynode_get(m, "cutoffs");
  if (cut && !ms_ynode_is_null(cut)) {
    static const char *const ck[] = {"start", "every", "end"};
    if (cut->kind != MS_YN_MAP) {
      ms_probs_add(c->probs, c->file, cut->line, cut->col,
                   "feature view '%s': cutoffs must be a mapping {start, every, end}", vn);
    } else {
      ms_def_check_keys(c, cut, "cutoffs", ck, 3, NULL, 0);
      a->has_cutoffs = true;
      const ms_ynode *cs = ms_ynode_get(cut, "start"), *ce = ms_ynode_get(cut, "end");
      const ms_ynode *ev = ms_ynode_get(cut, "every");
      snprintf(desc, sizeof desc, "feature view '%s', cutoffs start", vn);
      a->cutoff_start = parse_cutoff_bound(c, cs, desc);
      if (a->cutoff_start) vm->cutoff_start = ms_def_where(c, cs);
      snprintf(desc, sizeof desc, "feature view '%s', cutoffs end", vn);
      a->cutoff_end = parse_cutoff_bound(c, ce, desc);
      if (a->cutoff_end) vm->cutoff_end = ms_def_where(c, ce);
      if (ev && !ms_ynode_is_null(ev)) {
        snprintf(desc, sizeof desc, "feature view '%s', cutoffs every", vn);
        parse_positive_duration(c, ev, desc, &a->cutoff_every_seconds);
      }
    }
  }
}

void ms_def_free_view_agg(ms_feature_view_def *v, ms_view_marks *vm) {
  ms_aggregation_spec *a = &v->agg;
  for (int i = 0; i < a->n_aggregations; i++) {
    ms_aggregation_def *ad = &a->aggregations[i];
    ms_free(ad->name);
    ms_free(ad->function);
    ms_free(ad->input);
    ms_free(ad->filter);
    ms_free(ad->by);
    ms_free(ad->where);
  }
  if (vm) {
    for (int i = 0; i < a->n_aggregations; i++) {
      if (vm->agg_input) ms_free(vm->agg_input[i]);
      if (vm->agg_filter) ms_free(vm->agg_filter[i]);
      if (vm->agg_by) ms_free(vm->agg_by[i]);
    }
    ms_free(vm->agg_input);
    ms_free(vm->agg_filter);
    ms_free(vm->agg_by);
    ms_free(vm->timestamp_field);
    ms_free(vm->filter);
    ms_free(vm->population_filter);
    ms_free(vm->cutoff_start);
    ms_free(vm->cutoff_end);
  }
  ms_free(a->aggregations);
  free_named_exprs(a->expressions, a->n_expressions);
  ms_free(a->timestamp_field);
  ms_free(a->filter);
  ms_free(a->population_filter);
  ms_free(a->cutoff_start);
  ms_free(a->cutoff_end);
  memset(a, 0, sizeof *a);
}

/* ---- on-demand feature views ---- */

static ms_feature_field *parse_fields(ms_dctx *c, const ms_ynode *n, const char *desc,
                                      const char *owner, bool with_expr, ms_named_expr **exprs,
                                      char ***marks, int *out_n) {
  *out_n = 0;
  if (!n || ms_ynode_is_null(n)) return NULL;
  if (n->kind != MS_YN_SEQ) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be a list of {name, dtype%s}",
                 desc, with_expr ? ", expression" : "");
    return NULL;
  }
  ms_feature_field *v = ms_calloc((size_t)n->n + 1, sizeof *v);
  *marks = ms_calloc((size_t)n->n + 1, sizeof **marks);
  if (with_expr) *exprs = ms_calloc((size_t)n->n + 1, sizeof **exprs);
  if (!v || !*marks || (with_expr && !*exprs)) return v;
  static const char *const known_e[] = {"name", "dtype", "expression", "description"};
  static const char *const known_r[] = {"name", "dtype", "description"};
  for (int i = 0; i < n->n; i++) {
    const ms_ynode *it = n->items[i];
    if (!ms_def_check_keys(c, it, desc, with_expr ? known_e : known_r, with_expr ? 4 : 3,
                           known_e, with_expr ? 3 : 2))
      continue;
    ms_feature_field *fd = &v[*out_n];
    fd->name = ms_def_str(c, ms_ynode_get(it, "name"), "name");
    fd->dtype = ms_def_dtype(c, ms_ynode_get(it, "dtype"), "dtype");
    fd->description = ms_def_str(c, ms_ynode_get(it, "description"), "description");
    char *text = NULL;
    const ms_ynode *en = ms_ynode_get(it, "expression");
    if (with_expr) {
      char what[512];
      snprintf(what, sizeof what, "%s, output '%s'", owner, fd->name ? fd->name : "?");
      text = expr_text(c, en, what);
    }
    if (!fd->name || (with_expr && !text)) {
      ms_free(fd->name);
      ms_free(fd->dtype);
      ms_free(fd->description);
      ms_free(text);
      memset(fd, 0, sizeof *fd);
      continue;
    }
    for (int j = 0; j < *out_n; j++)
      if (!strcmp(v[j].name, fd->name))
        ms_probs_add(c->probs, c->file, it->line, it->col, "%s: %s '%s' appears twice", owner,
                     with_expr ? "output" : "request column", fd->name);
    (*marks)[*out_n] = ms_def_where(c, it);
    if (with_expr) {
      (*exprs)[*out_n].name = ms_strdup(fd->name);
      (*exprs)[*out_n].expression = text;
      (*exprs)[*out_n].where = ms_def_where(c, en);
    }
    (*out_n)++;
  }
  return v;
}

void ms_def_parse_odfv(ms_dctx *c, const ms_ynode *m) {
  static const char *const known[] = {"name",    "sources",     "request", "schema",
                                      "description", "owner", "tags"};
  static const char *const req[] = {"name", "sources", "schema"};
  if (!ms_def_check_keys(c, m, "on_demand_feature_views", known, MS_COUNT(known), req,
                         MS_COUNT(req)))
    return;
  ms_repo *r = c->repo;
  ms_odfv_def *arr = ms_def_grow(r->odfvs, r->n_odfvs, sizeof *arr);
  if (!arr) return;
  r->odfvs = arr;
  ms_odfv_marks *marks = ms_def_grow(r->odfv_marks, r->n_odfvs, sizeof *marks);
  if (!marks) return;
  r->odfv_marks = marks;
  ms_odfv_marks *om = &marks[r->n_odfvs];
  ms_odfv_def *o = &arr[r->n_odfvs++];
  o->where = ms_def_where(c, m);
  o->name = ms_def_str(c, ms_ynode_get(m, "name"), "name");
  char owner[512];
  snprintf(owner, sizeof owner, "on-demand feature view '%s'", o->name ? o->name : "?");
  const ms_ynode *src = ms_ynode_get(m, "sources");
  o->sources = ms_def_str_list(c, src, "sources", &o->n_sources);
  if (o->n_sources && src->kind == MS_YN_SEQ) {
    om->sources = ms_calloc((size_t)o->n_sources, sizeof *om->sources);
    if (om->sources && src->n == o->n_sources)
      for (int i = 0; i < src->n; i++) om->sources[i] = ms_def_where(c, src->items[i]);
  }
  if (src && src->kind == MS_YN_SEQ && src->n == 0)
    ms_probs_add(c->probs, c->file, src->line, src->col,
                 "%s: sources must list at least one feature view", owner);
  o->request = parse_fields(c, ms_ynode_get(m, "request"), "request", owner, false, NULL,
                            &om->request, &o->n_request);
  char **schema_marks = NULL;
  const ms_ynode *sch = ms_ynode_get(m, "schema");
  o->schema = parse_fields(c, sch, "on-demand schema", owner, true, &o->outputs, &schema_marks,
                           &o->n_schema);
  ms_def_free_strs(schema_marks, o->n_schema); /* outputs carry their own marks */
  if (sch && sch->kind == MS_YN_SEQ && sch->n == 0)
    ms_probs_add(c->probs, c->file, sch->line, sch->col,
                 "%s has no outputs (schema: [{name, dtype, expression}])", owner);
  for (int i = 0; i < o->n_schema; i++)
    for (int j = 0; j < o->n_request; j++)
      if (!strcmp(o->schema[i].name, o->request[j].name))
        ms_def_prob(c->probs, o->outputs[i].where,
                    "%s: output '%s' has the name of a request column", owner,
                    o->schema[i].name);
  o->description = ms_def_str(c, ms_ynode_get(m, "description"), "description");
  o->owner = ms_def_str(c, ms_ynode_get(m, "owner"), "owner");
  o->tags = ms_def_kv(c, ms_ynode_get(m, "tags"), "tags", &o->n_tags);
}

static void free_fields(ms_feature_field *f, int n) {
  for (int i = 0; i < n; i++) {
    ms_free(f[i].name);
    ms_free(f[i].dtype);
    ms_free(f[i].description);
  }
  ms_free(f);
}

void ms_def_free_odfvs(ms_repo *r) {
  for (int i = 0; i < r->n_odfvs; i++) {
    ms_odfv_def *o = &r->odfvs[i];
    if (r->odfv_marks) {
      if (r->odfv_marks[i].sources) ms_def_free_strs(r->odfv_marks[i].sources, o->n_sources);
      if (r->odfv_marks[i].request) ms_def_free_strs(r->odfv_marks[i].request, o->n_request);
    }
    ms_free(o->name);
    ms_def_free_strs(o->sources, o->n_sources);
    free_fields(o->request, o->n_request);
    free_fields(o->schema, o->n_schema);
    free_named_exprs(o->outputs, o->n_schema);
    ms_free(o->description);
    ms_free(o->owner);
    ms_def_free_kv(o->tags, o->n_tags);
    ms_free(o->where);
  }
  ms_free(r->odfvs);
  ms_free(r->odfv_marks);
  r->odfvs = NULL;
  r->odfv_marks = NULL;
  r->n_odfvs = 0;
}

/* ---- checks across files ---- */

static bool is_join_key_of(const ms_repo *r, const ms_feature_view_def *v, const char *name,
                           const char **entity) {
  for (int e = 0; e < v->n_entities; e++) {
    const ms_entity_def *ed = ms_def_find_entity(r, v->entities[e]);
    for (int j = 0; ed && j < ed->n_join_keys; j++)
      if (!strcmp(ed->join_keys[j], name)) {
        *entity = ed->name;
        return true;
      }
  }
  return false;
}

void ms_def_validate_derived(ms_repo *r, ms_probs *p) {
  for (int i = 0; i < r->n_views; i++) {
    const ms_feature_view_def *v = &r->views[i];
    const ms_aggregation_spec *a = &v->agg;
    const ms_view_marks *vm = &r->view_marks[i];
    if (a->n_aggregations == 0) continue;
    const char *vn = v->name ? v->name : "?";
    if (v->n_entities == 0)
      ms_def_prob(p, v->where,
                  "feature view '%s': an aggregation view needs entities (its aggregations "
                  "are per entity)",
                  vn);
    const char *ent;
    for (int k = 0; k < a->n_aggregations; k++)
      if (is_join_key_of(r, v, a->aggregations[k].name, &ent))
        ms_def_prob(p, a->aggregations[k].where,
                    "feature view '%s': aggregation '%s' is named like the join key of "
                    "entity '%s'",
                    vn, a->aggregations[k].name, ent);
    for (int k = 0; k < a->n_expressions; k++)
      if (is_join_key_of(r, v, a->expressions[k].name, &ent))
        ms_def_prob(p, a->expressions[k].where,
                    "feature view '%s': expression '%s' is named like the join key of "
                    "entity '%s'",
                    vn, a->expressions[k].name, ent);
    if (v->n_schema == 0)
      ms_def_prob(p, v->where,
                  "feature view '%s': an aggregation view needs a schema listing the "
                  "aggregations and expressions it publishes",
                  vn);
    for (int f = 0; f < v->n_schema; f++) {
      const char *fname = v->schema[f].name;
      bool found = false;
      for (int k = 0; k < a->n_aggregations; k++)
        if (!strcmp(a->aggregations[k].name, fname)) found = true;
      for (int k = 0; k < a->n_expressions; k++)
        if (!strcmp(a->expressions[k].name, fname)) found = true;
      if (!found) {
        const char *cands[256];
        int nc = 0;
        for (int k = 0; k < a->n_aggregations && nc < 256; k++)
          cands[nc++] = a->aggregations[k].name;
        for (int k = 0; k < a->n_expressions && nc < 256; k++)
          cands[nc++] = a->expressions[k].name;
        const char *sug = ms_repo_suggest(fname, cands, nc);
        ms_def_prob(p, ms_def_at(vm->fields, f, v->where),
                    "feature view '%s': schema field '%s' is neither an aggregation nor an "
                    "expression of the view%s%s%s",
                    vn, fname, sug ? " (did you mean '" : "", sug ? sug : "",
                    sug ? "'?)" : "");
      }
    }
  }

  for (int i = 0; i < r->n_odfvs; i++) {
    const ms_odfv_def *o = &r->odfvs[i];
    const ms_odfv_marks *om = &r->odfv_marks[i];
    const char *on = o->name ? o->name : "?";
    for (int j = 0; j < i && o->name; j++)
      if (r->odfvs[j].name && !strcmp(r->odfvs[j].name, o->name)) {
        ms_def_prob(p, o->where, "duplicate on-demand feature view '%s' (first defined at %s)",
                    on, r->odfvs[j].where);
        break;
      }
    const ms_feature_view_def *same = o->name ? ms_repo_find_feature_view(r, o->name) : NULL;
    if (same)
      ms_def_prob(p, o->where,
                  "on-demand feature view '%s' has the name of the feature view defined at %s "
                  "(feature services name views and on-demand views alike)",
                  on, same->where);
    for (int s = 0; s < o->n_sources; s++) {
      const char *sname = o->sources[s];
      const char *where = ms_def_at(om->sources, s, o->where);
      bool twice = false;
      for (int t = 0; t < s && !twice; t++)
        if (!strcmp(o->sources[t], sname)) twice = true;
      if (twice) {
        ms_def_prob(p, where, "on-demand feature view '%s': source '%s' is listed twice", on,
                    sname);
        continue;
      }
      const ms_feature_view_def *v = ms_repo_find_feature_view(r, sname);
      if (v) {
        const char *ent;
        for (int k = 0; k < o->n_schema; k++)
          if (is_join_key_of(r, v, o->schema[k].name, &ent))
            ms_def_prob(p, o->outputs[k].where,
                        "on-demand feature view '%s': output '%s' is named like the join key "
                        "of entity '%s'",
                        on, o->schema[k].name, ent);
        continue;
      }
      if (ms_repo_find_odfv(r, sname)) {
        ms_def_prob(p, where,
                    "on-demand feature view '%s': source '%s' is an on-demand feature view; "
                    "the sources of an on-demand view are feature views",
                    on, sname);
        continue;
      }
      const char *cands[256];
      int nc = 0;
      for (int k = 0; k < r->n_views && nc < 256; k++)
        if (r->views[k].name) cands[nc++] = r->views[k].name;
      const char *sug = ms_repo_suggest(sname, cands, nc);
      ms_def_prob(p, where, "on-demand feature view '%s': unknown feature view '%s'%s%s%s", on,
                  sname, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
    }
  }
}

/* ---- lookups ---- */

int ms_repo_num_odfvs(const ms_repo *r) { return r->n_odfvs; }
const ms_odfv_def *ms_repo_odfv(const ms_repo *r, int i) {
  return i >= 0 && i < r->n_odfvs ? &r->odfvs[i] : NULL;
}
const ms_odfv_def *ms_repo_find_odfv(const ms_repo *r, const char *name) {
  for (int i = 0; name && i < r->n_odfvs; i++)
    if (r->odfvs[i].name && !strcmp(r->odfvs[i].name, name)) return &r->odfvs[i];
  return NULL;
}
