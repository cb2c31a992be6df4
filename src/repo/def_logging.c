/* Feature logging of feature services: the `logging:` block of a service and the names of
 * its log schema.
 *
 *   logging:
 *     destination: {path: logs/propensity, partition_by: [__log_date]}
 *     sample_rate: 1.0
 *
 * Parsing reports every problem at its file:line:col (unknown keys with "did you mean",
 * path required, sample_rate in (0, 1]); the destination path resolves against the
 * repository like source paths. Validation, once every file is loaded, checks what needs
 * the other definitions: partition_by names columns of the service's log schema (and not
 * `__log_timestamp`, `__request_id` or a per-feature timestamp, which would leave the
 * files without them), the log schema has no column twice, and no two services, nor a
 * service and a source, share a destination (their files would mix).
 *
 * ms_def_log_columns is the one place that knows the log schema's names and order
 * (Feast's FeatureServiceLoggingSource.get_schema): first, for each item in order, its
 * join keys after join_key_map (or an on-demand view's request columns), a name already
 * present being skipped; then for each item and feature `<proj>__<f>`,
 * `<proj>__<f>__timestamp`, `<proj>__<f>__status`; then `__log_timestamp`, `__log_date`,
 * `__request_id`. The writer (src/write/wr_logs.c) adds the types. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "morsel/alloc.h"
#include "repo_int.h"

static const char *const k_system_cols[] = {"__log_timestamp", "__log_date", "__request_id"};

void ms_def_parse_service_logging(ms_dctx *c, ms_feature_service_def *s,
                                  ms_service_log_marks *lm, const ms_ynode *lg) {
  if (!lg || ms_ynode_is_null(lg)) return;
  const char *sn = s->name ? s->name : "?";
  lm->logging = ms_def_where(c, lg);
  s->has_logging = true;
  s->log_sample_rate = 1.0;
  if (lg->kind != MS_YN_MAP) {
    ms_probs_add(c->probs, c->file, lg->line, lg->col,
                 "feature service '%s': logging must be a mapping {destination: {path: DIR, "
                 "partition_by: [...]}, sample_rate: R}",
                 sn);
    return;
  }
  static const char *const known[] = {"destination", "sample_rate"};
  for (int i = 0; i < lg->n; i++) {
    bool ok = false;
    for (int j = 0; j < MS_COUNT(known); j++)
      if (!strcmp(lg->keys[i]->value, known[j])) ok = true;
    if (!ok) ms_repo_unknown_key(c->probs, c->file, lg->keys[i], "logging", known, MS_COUNT(known));
  }
  const ms_ynode *d = ms_ynode_get(lg, "destination");
  if (!d || ms_ynode_is_null(d)) {
    ms_probs_add(c->probs, c->file, lg->line, lg->col,
                 "feature service '%s': logging needs a destination: {path: DIR}", sn);
  } else if (d->kind != MS_YN_MAP) {
    ms_probs_add(c->probs, c->file, d->line, d->col,
                 "feature service '%s': logging destination must be a mapping {path: DIR, "
                 "partition_by: [...]}",
                 sn);
  } else {
    static const char *const dk[] = {"path", "partition_by"};
    for (int i = 0; i < d->n; i++) {
      bool ok = false;
      for (int j = 0; j < MS_COUNT(dk); j++)
        if (!strcmp(d->keys[i]->value, dk[j])) ok = true;
      if (!ok)
        ms_repo_unknown_key(c->probs, c->file, d->keys[i], "logging destination", dk, MS_COUNT(dk));
    }
    const ms_ynode *p = ms_ynode_get(d, "path");
    char *path = ms_def_str(c, p, "logging destination path");
    if (!p || ms_ynode_is_null(p)) {
      ms_probs_add(c->probs, c->file, d->line, d->col,
                   "feature service '%s': logging destination needs a path (a directory)", sn);
    } else if (path && (!*path || strstr(path, "://"))) {
      ms_probs_add(c->probs, c->file, p->line, p->col,
                   "feature service '%s': logging destination path '%s' must be a local "
                   "directory",
                   sn, path);
    } else if (path) {
      size_t l = strlen(path);
      if ((l > 8 && !strcmp(path + l - 8, ".parquet")) || (l > 4 && !strcmp(path + l - 4, ".csv")))
        ms_probs_add(c->probs, c->file, p->line, p->col,
                     "feature service '%s': logging destination '%s' is a directory (log "
                     "files are added to it); drop the file extension",
                     sn, path);
      s->log_path = ms_repo_join(c->repo->config.repo_dir, path);
      lm->path_written = path;
      lm->path = ms_def_where(c, p);
      path = NULL;
    }
    ms_free(path);
    const ms_ynode *pb = ms_ynode_get(d, "partition_by");
    s->log_partition_by =
        ms_def_str_list(c, pb, "partition_by", &s->n_log_partition_by);
    if (s->n_log_partition_by && pb->kind == MS_YN_SEQ && pb->n == s->n_log_partition_by) {
      lm->partition_by = ms_calloc((size_t)s->n_log_partition_by + 1, sizeof *lm->partition_by);
      for (int i = 0; lm->partition_by && i < pb->n; i++)
        lm->partition_by[i] = ms_def_where(c, pb->items[i]);
    }
    for (int i = 0; i < s->n_log_partition_by; i++)
      for (int j = 0; j < i; j++)
        if (!strcmp(s->log_partition_by[i], s->log_partition_by[j]))
          ms_def_vprob(c->probs, lm->partition_by ? lm->partition_by[i] : lm->logging,
                       "feature service '%s': partition_by lists '%s' twice%s", sn,
                       s->log_partition_by[i], "");
  }
  const ms_ynode *sr = ms_ynode_get(lg, "sample_rate");
  if (sr && !ms_ynode_is_null(sr)) {
    double v = 0;
    char *end = NULL;
    bool ok = sr->kind == MS_YN_SCALAR && sr->value[0];
    if (ok) {
      v = strtod(sr->value, &end);
      ok = end && !*end && isfinite(v) && v > 0 && v <= 1;
    }
    if (!ok)
      ms_probs_add(c->probs, c->file, sr->line, sr->col,
                   "feature service '%s': sample_rate must be a number in (0, 1] (the share of "
                   "requests logged), got '%s'",
                   sn, sr->kind == MS_YN_SCALAR ? sr->value : "(not a number)");
    else
      s->log_sample_rate = v;
  }
}

void ms_def_free_service_logging(ms_feature_service_def *s, ms_service_log_marks *lm) {
  if (lm) {
    ms_free(lm->logging);
    ms_free(lm->path);
    ms_free(lm->path_written);
    if (lm->partition_by) ms_def_free_strs(lm->partition_by, s->n_log_partition_by);
    memset(lm, 0, sizeof *lm);
  }
  ms_free(s->log_path);
  ms_def_free_strs(s->log_partition_by, s->n_log_partition_by);
  s->log_path = NULL;
  s->log_partition_by = NULL;
  s->n_log_partition_by = 0;
}

/* ---- the log schema's names ---- */

typedef struct lcols {
  ms_log_col *v;
  int n, cap;
  bool oom;
} lcols;

static int lc_find(const lcols *l, const char *name) {
  for (int i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].name, name)) return i;
  return -1;
}

/* Appends a column (name taken over); returns its entry or NULL on OOM. */
static ms_log_col *lc_add(lcols *l, char *name, ms_log_col_kind kind) {
  if (!name) {
    l->oom = true;
    return NULL;
  }
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 16;
    ms_log_col *v = ms_realloc(l->v, (size_t)cap * sizeof *v);
    if (!v) {
      ms_free(name);
      l->oom = true;
      return NULL;
    }
    l->v = v;
    l->cap = cap;
  }
  ms_log_col *c = &l->v[l->n++];
  memset(c, 0, sizeof *c);
  c->name = name;
  c->kind = kind;
  return c;
}

void ms_def_log_columns_free(ms_log_col *cols, int n) {
  for (int i = 0; cols && i < n; i++) ms_free(cols[i].name);
  ms_free(cols);
}

ms_status ms_def_log_columns(const ms_repo *r, const ms_feature_service_def *s, ms_log_col **out,
                             int *out_n, ms_error *err) {
  *out = NULL;
  *out_n = 0;
  lcols l = {0};
  /* keys and request columns */
  for (int t = 0; t < s->n_items && !l.oom; t++) {
    const ms_feature_service_item *it = &s->items[t];
    const ms_feature_view_def *v = it->view ? ms_repo_find_feature_view(r, it->view) : NULL;
    const ms_odfv_def *od = v || !it->view ? NULL : ms_repo_find_odfv(r, it->view);
    if (!v && !od) {
      ms_def_log_columns_free(l.v, l.n);
      return ms_error_set(err, MS_ERR_NOT_FOUND, "feature service '%s': unknown feature view '%s'",
                          s->name, it->view ? it->view : "?");
    }
    if (od) {
      for (int q = 0; q < od->n_request && !l.oom; q++) {
        if (lc_find(&l, od->request[q].name) >= 0) continue;
        ms_log_col *c = lc_add(&l, ms_strdup(od->request[q].name), MS_LOG_REQUEST);
        if (c) {
          c->item = t;
          c->odfv = od;
          c->dtype = od->request[q].dtype;
        }
      }
      continue;
    }
    for (int e = 0; e < v->n_entities && !l.oom; e++) {
      const ms_entity_def *ed = ms_def_find_entity(r, v->entities[e]);
      if (!ed || !ed->n_join_keys) continue;
      const char *key = ed->join_keys[0], *name = key;
      for (int k = 0; k < it->n_join_key_map; k++)
        if (!strcmp(it->join_key_map[k].key, key)) name = it->join_key_map[k].value;
      if (lc_find(&l, name) >= 0) continue; /* first occurrence wins */
      ms_log_col *c = lc_add(&l, ms_strdup(name), MS_LOG_KEY);
      if (c) {
        c->item = t;
        c->view = v;
        c->entity = ed;
        c->key = key;
        c->dtype = ed->value_type;
      }
    }
  }
  /* features: value, timestamp, status */
  for (int t = 0; t < s->n_items && !l.oom; t++) {
    const ms_feature_service_item *it = &s->items[t];
    const ms_feature_view_def *v = ms_repo_find_feature_view(r, it->view);
    const ms_odfv_def *od = v ? NULL : ms_repo_find_odfv(r, it->view);
    const char *proj = it->alias ? it->alias : it->view;
    int nf = it->n_features ? it->n_features : v ? v->n_schema : od->n_schema;
    for (int f = 0; f < nf && !l.oom; f++) {
      const char *fname = it->n_features ? it->features[f] : v ? v->schema[f].name : od->schema[f].name;
      const char *dtype = NULL;
      for (int k = 0; v && k < v->n_schema; k++)
        if (!strcmp(v->schema[k].name, fname)) dtype = v->schema[k].dtype;
      for (int k = 0; od && k < od->n_schema; k++)
        if (!strcmp(od->schema[k].name, fname)) dtype = od->schema[k].dtype;
      static const char *const suffix[3] = {"", "__timestamp", "__status"};
      static const ms_log_col_kind kinds[3] = {MS_LOG_FEATURE, MS_LOG_FEATURE_TS, MS_LOG_FEATURE_STATUS};
      for (int k = 0; k < 3; k++) {
        ms_log_col *c = lc_add(&l, ms_asprintf("%s__%s%s", proj, fname, suffix[k]), kinds[k]);
        if (!c) break;
        c->item = t;
        c->view = v;
        c->odfv = od;
        c->feature = fname;
        c->dtype = k == 0 ? dtype : NULL;
      }
    }
  }
  for (int k = 0; k < 3 && !l.oom; k++) lc_add(&l, ms_strdup(k_system_cols[k]), MS_LOG_SYSTEM);
  if (l.oom) {
    ms_def_log_columns_free(l.v, l.n);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  *out = l.v;
  *out_n = l.n;
  return MS_OK;
}

/* ---- validation across definitions ---- */

/* a is b or a directory above or below it ("/x/logs" and "/x/logs/a"). */
static bool path_overlaps(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  while (la > 1 && a[la - 1] == '/') la--;
  while (lb > 1 && b[lb - 1] == '/') lb--;
  size_t m = la < lb ? la : lb;
  if (strncmp(a, b, m)) return false;
  if (la == lb) return true;
  return (la < lb ? b[la] : a[lb]) == '/';
}

void ms_def_validate_logging(ms_repo *r, ms_probs *p) {
  for (int i = 0; i < r->n_services; i++) {
    const ms_feature_service_def *s = &r->services[i];
    const ms_service_log_marks *lm = r->service_log_marks ? &r->service_log_marks[i] : NULL;
    if (!s->has_logging || !lm) continue;
    const char *sn = s->name ? s->name : "?";
    const char *at = lm->path ? lm->path : lm->logging;
    if (s->log_path) {
      for (int j = 0; j < i; j++)
        if (r->services[j].has_logging && r->services[j].log_path &&
            path_overlaps(s->log_path, r->services[j].log_path))
          ms_def_prob(p, at,
                      "feature service '%s': logging destination %s overlaps that of feature "
                      "service '%s' (%s); give each service its own directory",
                      sn, s->log_path, r->services[j].name ? r->services[j].name : "?",
                      r->services[j].log_path);
      for (int j = 0; j < r->n_sources; j++)
        if (r->sources[j].path && path_overlaps(s->log_path, r->sources[j].path))
          ms_def_prob(p, at,
                      "feature service '%s': logging destination %s overlaps the path of source "
                      "'%s' (%s); logs need a directory of their own",
                      sn, s->log_path, r->sources[j].name ? r->sources[j].name : "?",
                      r->sources[j].path);
    }
    ms_log_col *cols = NULL;
    int n = 0;
    if (ms_def_log_columns(r, s, &cols, &n, NULL) != MS_OK) continue; /* reported elsewhere */
    for (int a = 0; a < n; a++)
      for (int b = 0; b < a; b++)
        if (!strcmp(cols[a].name, cols[b].name)) {
          ms_def_prob(p, lm->logging,
                      "feature service '%s': its log schema has the column '%s' twice (give "
                      "one of the items an alias)",
                      sn, cols[a].name);
          break;
        }
    const char **names = ms_calloc((size_t)n + 1, sizeof *names);
    for (int a = 0; names && a < n; a++) names[a] = cols[a].name;
    for (int k = 0; names && k < s->n_log_partition_by; k++) {
      const char *pn = s->log_partition_by[k];
      const char *where = ms_def_at(lm->partition_by, k, lm->logging);
      int ci = -1;
      for (int a = 0; a < n; a++)
        if (!strcmp(cols[a].name, pn)) ci = a;
      if (ci < 0) {
        const char *sug = ms_repo_suggest(pn, names, n);
        ms_def_prob(p, where,
                    "feature service '%s': partition_by column '%s' is not a column of the "
                    "service's log schema%s%s%s",
                    sn, pn, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
      } else if (!strcmp(pn, "__log_timestamp") || !strcmp(pn, "__request_id") ||
                 cols[ci].kind == MS_LOG_FEATURE_TS) {
        ms_def_prob(p, where,
                    "feature service '%s': cannot partition logs by '%s' (a folder per value; "
                    "partition columns are kept in folder names, not in the files)%s",
                    sn, pn, !strcmp(pn, "__log_timestamp") ? "; use __log_date" : "");
      }
    }
    ms_free(names);
    ms_def_log_columns_free(cols, n);
  }
}
