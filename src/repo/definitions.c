/* Loading a repository: find the configuration, list the definitions files, parse
 * entities / sources / feature_views / feature_services, then validate the whole set.
 *
 * Every problem is collected as "file:line:col: message" and loading goes on, so that one
 * run reports all of them. Files are found by walking the repository for *.yaml / *.yml
 * (sorted, skipping hidden directories, the offline store's storage_path and the
 * configuration itself) unless the configuration lists them under `definitions:`.
 * Validation after parsing resolves references (entity and source of a view, view and
 * features of a service), duplicate names per kind (naming both places), and the Feast
 * rules of feast-offline-spec section 1 that apply to files. */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "morsel/alloc.h"
#include "repo_int.h"

static void parse_entity(ms_dctx *c, const ms_ynode *m) {
  static const char *const known[] = {"name", "join_keys", "join_key", "value_type",
                                      "description", "owner", "tags"};
  static const char *const req[] = {"name"};
  if (!ms_def_check_keys(c, m, "entities", known, MS_COUNT(known), req, MS_COUNT(req))) return;
  ms_repo *r = c->repo;
  ms_entity_def *arr = ms_def_grow(r->entities, r->n_entities, sizeof *arr);
  if (!arr) return;
  r->entities = arr;
  ms_entity_def *e = &arr[r->n_entities++];
  e->where = ms_def_where(c, m);
  e->name = ms_def_str(c, ms_ynode_get(m, "name"), "name");
  const ms_ynode *jk = ms_ynode_get(m, "join_keys");
  const ms_ynode *jk1 = ms_ynode_get(m, "join_key");
  if (jk && jk1)
    ms_probs_add(c->probs, c->file, jk1->line, jk1->col,
                 "give either join_key or join_keys, not both");
  if (jk) {
    e->join_keys = ms_def_str_list(c, jk, "join_keys", &e->n_join_keys);
    if (e->n_join_keys > 1)
      ms_probs_add(c->probs, c->file, jk->line, jk->col,
                   "entity '%s' has %d join keys; an entity has exactly one (as in Feast): "
                   "use one entity per key and list them all in the feature view",
                   e->name ? e->name : "?", e->n_join_keys);
  } else if (jk1) {
    char *s = ms_def_str(c, jk1, "join_key");
    if (s) {
      e->join_keys = ms_calloc(2, sizeof *e->join_keys);
      if (e->join_keys) e->join_keys[e->n_join_keys++] = s;
      else ms_free(s);
    }
  }
  if (e->n_join_keys == 0 && e->name) { /* Feast: the join key defaults to the name */
    e->join_keys = ms_calloc(2, sizeof *e->join_keys);
    if (e->join_keys) e->join_keys[e->n_join_keys++] = ms_strdup(e->name);
  }
  e->value_type = ms_def_dtype(c, ms_ynode_get(m, "value_type"), "value_type");
  e->description = ms_def_str(c, ms_ynode_get(m, "description"), "description");
  e->owner = ms_def_str(c, ms_ynode_get(m, "owner"), "owner");
  e->tags = ms_def_kv(c, ms_ynode_get(m, "tags"), "tags", &e->n_tags);
}

static void parse_source(ms_dctx *c, const ms_ynode *m) {
  static const char *const known[] = {"name", "path", "file_format", "timestamp_field",
                                      "created_timestamp_column", "field_mapping",
                                      "date_partition_column", "columns", "filter",
                                      "description", "owner", "tags"};
  static const char *const req[] = {"name", "path", "timestamp_field"};
  if (!ms_def_check_keys(c, m, "sources", known, MS_COUNT(known), req, MS_COUNT(req))) return;
  ms_repo *r = c->repo;
  ms_source_def *arr = ms_def_grow(r->sources, r->n_sources, sizeof *arr);
  if (!arr) return;
  r->sources = arr;
  char **pw = ms_def_grow(r->source_paths_written, r->n_sources, sizeof *pw);
  if (!pw) return;
  r->source_paths_written = pw;
  ms_source_marks *sm = ms_def_grow(r->source_marks, r->n_sources, sizeof *sm);
  if (!sm) return;
  r->source_marks = sm;
  sm = &sm[r->n_sources];
  ms_source_def *s = &arr[r->n_sources];
  pw[r->n_sources++] = ms_def_str(c, ms_ynode_get(m, "path"), "path");
  s->where = ms_def_where(c, m);
  s->name = ms_def_str(c, ms_ynode_get(m, "name"), "name");
  if (pw[r->n_sources - 1]) s->path = ms_repo_join(r->config.repo_dir, pw[r->n_sources - 1]);
  const ms_ynode *ff = ms_ynode_get(m, "file_format");
  s->file_format = ms_def_str(c, ff, "file_format");
  if (!s->file_format) {
    s->file_format = ms_strdup("parquet");
  } else if (strcmp(s->file_format, "parquet") && strcmp(s->file_format, "csv")) {
    ms_probs_add(c->probs, c->file, ff->line, ff->col,
                 "file_format '%s' is not supported (use parquet or csv)", s->file_format);
  }
  s->timestamp_field = ms_def_str(c, ms_ynode_get(m, "timestamp_field"), "timestamp_field");
  const ms_ynode *cr = ms_ynode_get(m, "created_timestamp_column");
  s->created_timestamp_column = ms_def_str(c, cr, "created_timestamp_column");
  if (s->created_timestamp_column && !*s->created_timestamp_column) {
    ms_free(s->created_timestamp_column);
    s->created_timestamp_column = NULL;
  }
  if (s->timestamp_field && s->created_timestamp_column &&
      !strcmp(s->timestamp_field, s->created_timestamp_column))
    ms_probs_add(c->probs, c->file, cr->line, cr->col,
                 "source '%s': created_timestamp_column '%s' is the same column as "
                 "timestamp_field (Feast refuses this too)",
                 s->name ? s->name : "?", s->created_timestamp_column);
  s->field_mapping = ms_def_kv(c, ms_ynode_get(m, "field_mapping"), "field_mapping",
                            &s->n_field_mapping);
  s->date_partition_column =
      ms_def_str(c, ms_ynode_get(m, "date_partition_column"), "date_partition_column");
  s->description = ms_def_str(c, ms_ynode_get(m, "description"), "description");
  s->owner = ms_def_str(c, ms_ynode_get(m, "owner"), "owner");
  s->tags = ms_def_kv(c, ms_ynode_get(m, "tags"), "tags", &s->n_tags);
  ms_def_parse_source_columns(c, s, sm, m);
}

static void parse_view_schema(ms_dctx *c, ms_feature_view_def *v, ms_view_marks *vm,
                              const ms_ynode *sch);

static void parse_view(ms_dctx *c, const ms_ynode *m) {
  static const char *const known[] = {"name",        "entities",   "ttl",       "source",
                                      "schema",      "online",     "description", "owner",
                                      "tags",        "timestamp_field", "filter", "population",
                                      "cutoffs",     "aggregations", "expressions"};
  static const char *const req[] = {"name", "source"};
  if (!ms_def_check_keys(c, m, "feature_views", known, MS_COUNT(known), req, MS_COUNT(req))) return;
  ms_repo *r = c->repo;
  ms_feature_view_def *arr = ms_def_grow(r->views, r->n_views, sizeof *arr);
  if (!arr) return;
  r->views = arr;
  ms_view_marks *marks = ms_def_grow(r->view_marks, r->n_views, sizeof *marks);
  if (!marks) return;
  r->view_marks = marks;
  ms_view_marks *vm = &marks[r->n_views];
  ms_feature_view_def *v = &arr[r->n_views++];
  v->where = ms_def_where(c, m);
  v->name = ms_def_str(c, ms_ynode_get(m, "name"), "name");
  const ms_ynode *ents = ms_ynode_get(m, "entities");
  v->entities = ms_def_str_list(c, ents, "entities", &v->n_entities);
  if (v->n_entities && ents->kind == MS_YN_SEQ) {
    vm->entities = ms_calloc((size_t)v->n_entities, sizeof *vm->entities);
    /* get_str_list skips non-names; only map marks when nothing was skipped */
    if (vm->entities && ents->n == v->n_entities)
      for (int i = 0; i < ents->n; i++) vm->entities[i] = ms_def_where(c, ents->items[i]);
  }
  if (ms_ynode_get(m, "source")) vm->source = ms_def_where(c, ms_ynode_get(m, "source"));
  const ms_ynode *ttl = ms_ynode_get(m, "ttl");
  if (ttl && !ms_ynode_is_null(ttl)) {
    if (ttl->kind != MS_YN_SCALAR || !ms_parse_duration(ttl->value, &v->ttl_seconds))
      ms_probs_add(c->probs, c->file, ttl->line, ttl->col,
                   "bad duration '%s' for ttl (use e.g. 90d, 12h, 30m, 45s, 1h30m or 0s)",
                   ttl->kind == MS_YN_SCALAR ? ttl->value : "(not text)");
  }
  v->source = ms_def_str(c, ms_ynode_get(m, "source"), "source");
  v->online = ms_def_bool(c, ms_ynode_get(m, "online"), "online", false);
  v->description = ms_def_str(c, ms_ynode_get(m, "description"), "description");
  v->owner = ms_def_str(c, ms_ynode_get(m, "owner"), "owner");
  v->tags = ms_def_kv(c, ms_ynode_get(m, "tags"), "tags", &v->n_tags);
  const ms_ynode *sch = ms_ynode_get(m, "schema");
  if (sch && !ms_ynode_is_null(sch) && sch->kind != MS_YN_SEQ)
    ms_probs_add(c->probs, c->file, sch->line, sch->col, "schema must be a list of fields");
  else if (sch && !ms_ynode_is_null(sch))
    parse_view_schema(c, v, vm, sch);
  ms_def_parse_view_agg(c, v, vm, m);
}

static void parse_view_schema(ms_dctx *c, ms_feature_view_def *v, ms_view_marks *vm,
                              const ms_ynode *sch) {
  {
    v->schema = ms_calloc((size_t)sch->n + 1, sizeof *v->schema);
    vm->fields = ms_calloc((size_t)sch->n + 1, sizeof *vm->fields);
    if (!v->schema || !vm->fields) return;
    for (int i = 0; i < sch->n; i++) {
      static const char *const fk[] = {"name", "dtype", "description"};
      const ms_ynode *f = sch->items[i];
      if (!ms_def_check_keys(c, f, "schema", fk, MS_COUNT(fk), fk, 2)) continue;
      ms_feature_field *fd = &v->schema[v->n_schema];
      fd->name = ms_def_str(c, ms_ynode_get(f, "name"), "name");
      fd->dtype = ms_def_dtype(c, ms_ynode_get(f, "dtype"), "dtype");
      fd->description = ms_def_str(c, ms_ynode_get(f, "description"), "description");
      if (!fd->name) {
        ms_free(fd->dtype);
        ms_free(fd->description);
        memset(fd, 0, sizeof *fd);
        continue;
      }
      for (int j = 0; j < v->n_schema; j++)
        if (!strcmp(v->schema[j].name, fd->name))
          ms_probs_add(c->probs, c->file, f->line, f->col,
                       "feature view '%s': schema field '%s' appears twice",
                       v->name ? v->name : "?", fd->name);
      vm->fields[v->n_schema] = ms_def_where(c, f);
      v->n_schema++;
    }
  }
}

static void parse_service_item(ms_dctx *c, ms_feature_service_item *it, const ms_ynode *n) {
  if (n->kind == MS_YN_SCALAR) {
    it->view = ms_def_str(c, n, "feature view name");
    return;
  }
  if (n->kind != MS_YN_MAP || n->n == 0) {
    ms_probs_add(c->probs, c->file, n->line, n->col,
                 "each feature service item is a view name, {view: [features]} or a mapping "
                 "with feature_view");
    return;
  }
  if (ms_ynode_get(n, "feature_view")) {
    static const char *const known[] = {"feature_view", "features", "alias", "join_key_map"};
    ms_def_check_keys(c, n, "feature service features", known, MS_COUNT(known), known, 1);
    it->view = ms_def_str(c, ms_ynode_get(n, "feature_view"), "feature_view");
    it->features = ms_def_str_list(c, ms_ynode_get(n, "features"), "features", &it->n_features);
    it->alias = ms_def_str(c, ms_ynode_get(n, "alias"), "alias");
    it->join_key_map =
        ms_def_kv(c, ms_ynode_get(n, "join_key_map"), "join_key_map", &it->n_join_key_map);
    return;
  }
  if (n->n != 1) {
    ms_probs_add(c->probs, c->file, n->line, n->col,
                 "a feature service item {view: [features]} names one view; use "
                 "{feature_view: NAME, features: [...], alias: ...} for more options");
    return;
  }
  it->view = ms_strdup(n->keys[0]->value);
  it->features = ms_def_str_list(c, n->items[0], "features", &it->n_features);
}

static void parse_service(ms_dctx *c, const ms_ynode *m) {
  static const char *const known[] = {"name", "features", "description", "owner", "tags",
                                      "logging"};
  static const char *const req[] = {"name", "features"};
  if (!ms_def_check_keys(c, m, "feature_services", known, MS_COUNT(known), req, MS_COUNT(req))) return;
  ms_repo *r = c->repo;
  ms_feature_service_def *arr = ms_def_grow(r->services, r->n_services, sizeof *arr);
  if (!arr) return;
  r->services = arr;
  char ***iw = ms_def_grow(r->service_item_where, r->n_services, sizeof *iw);
  if (!iw) return;
  r->service_item_where = iw;
  ms_service_log_marks *lm = ms_def_grow(r->service_log_marks, r->n_services, sizeof *lm);
  if (!lm) return;
  r->service_log_marks = lm;
  lm = &lm[r->n_services];
  char ***item_where = &iw[r->n_services];
  ms_feature_service_def *s = &arr[r->n_services++];
  s->where = ms_def_where(c, m);
  s->name = ms_def_str(c, ms_ynode_get(m, "name"), "name");
  s->description = ms_def_str(c, ms_ynode_get(m, "description"), "description");
  s->owner = ms_def_str(c, ms_ynode_get(m, "owner"), "owner");
  s->tags = ms_def_kv(c, ms_ynode_get(m, "tags"), "tags", &s->n_tags);
  ms_def_parse_service_logging(c, s, lm, ms_ynode_get(m, "logging"));
  const ms_ynode *f = ms_ynode_get(m, "features");
  if (!f || ms_ynode_is_null(f)) return;
  if (f->kind != MS_YN_SEQ) {
    ms_probs_add(c->probs, c->file, f->line, f->col, "features must be a list");
    return;
  }
  s->items = ms_calloc((size_t)f->n + 1, sizeof *s->items);
  *item_where = ms_calloc((size_t)f->n + 1, sizeof **item_where);
  if (!s->items || !*item_where) return;
  for (int i = 0; i < f->n; i++) {
    (*item_where)[s->n_items] = ms_def_where(c, f->items[i]);
    ms_feature_service_item *it = &s->items[s->n_items++];
    it->view = NULL;
    parse_service_item(c, it, f->items[i]);
  }
}

static void parse_definitions(ms_dctx *c, const ms_ynode *root) {
  if (!root || ms_ynode_is_null(root)) return;
  if (root->kind != MS_YN_MAP) {
    ms_probs_add(c->probs, c->file, root->line, root->col,
                 "a definitions file must be a mapping with entities, sources, feature_views, "
                 "on_demand_feature_views and feature_services");
    return;
  }
  static const char *const known[] = {"entities", "sources", "feature_views",
                                      "feature_services", "on_demand_feature_views"};
  for (int i = 0; i < root->n; i++) {
    const char *k = root->keys[i]->value;
    const ms_ynode *v = root->items[i];
    int kind = -1;
    for (int j = 0; j < MS_COUNT(known); j++)
      if (!strcmp(k, known[j])) kind = j;
    if (kind < 0) {
      ms_repo_unknown_key(c->probs, c->file, root->keys[i],
                          "a definitions file (it holds entities, sources, feature_views, "
                          "on_demand_feature_views, feature_services; list files under 'definitions:' in "
                          "feature_store.yaml to load only some)",
                          known, MS_COUNT(known));
      continue;
    }
    if (ms_ynode_is_null(v)) continue;
    if (v->kind != MS_YN_SEQ) {
      ms_probs_add(c->probs, c->file, v->line, v->col, "%s must be a list", k);
      continue;
    }
    for (int j = 0; j < v->n; j++) {
      const ms_ynode *m = v->items[j];
      if (kind == 0) parse_entity(c, m);
      else if (kind == 1) parse_source(c, m);
      else if (kind == 2) parse_view(c, m);
      else if (kind == 3) parse_service(c, m);
      else ms_def_parse_odfv(c, m);
    }
  }
}

/* ---- validation across files ---- */

#define CHECK_DUPS(arr, n, kindname)                                                      \
  for (int i = 0; i < (n); i++)                                                           \
    for (int j = 0; j < i; j++)                                                           \
      if ((arr)[i].name && (arr)[j].name && !strcmp((arr)[i].name, (arr)[j].name)) {      \
        ms_def_vprob(p, (arr)[i].where, "duplicate " kindname " '%s' (first defined at %s)%s",   \
              (arr)[i].name, (arr)[j].where, "");                                         \
        break;                                                                            \
      }


static void validate(ms_repo *r, ms_probs *p) {
  CHECK_DUPS(r->entities, r->n_entities, "entity");
  CHECK_DUPS(r->sources, r->n_sources, "source");
  CHECK_DUPS(r->views, r->n_views, "feature view");
  CHECK_DUPS(r->services, r->n_services, "feature service");
  for (int i = 0; i < r->n_views; i++) {
    const ms_feature_view_def *v = &r->views[i];
    const ms_view_marks *vm = &r->view_marks[i];
    const char *vn = v->name ? v->name : "?";
    const ms_entity_def *ents[64];
    int n_ents = 0;
    for (int e = 0; e < v->n_entities; e++) {
      const ms_entity_def *ed = ms_def_find_entity(r, v->entities[e]);
      if (!ed) {
        ms_def_vprob(p, ms_def_at(vm->entities, e, v->where), "feature view '%s': unknown entity '%s'%s", vn,
              v->entities[e], "");
        continue;
      }
      for (int k = 0; k < n_ents; k++)
        if (ents[k]->n_join_keys && ed->n_join_keys &&
            !strcmp(ents[k]->join_keys[0], ed->join_keys[0]))
          ms_def_vprob(p, ms_def_at(vm->entities, e, v->where),
                "feature view '%s': entities '%s' and '%s' share a join key",
                vn, ents[k]->name, ed->name);
      if (n_ents < 64) ents[n_ents++] = ed;
    }
    const ms_source_def *src = v->source ? ms_repo_find_source(r, v->source) : NULL;
    if (v->source && !src)
      ms_def_vprob(p, vm->source ? vm->source : v->where, "feature view '%s': unknown source '%s'%s",
            vn, v->source, "");
    for (int f = 0; f < v->n_schema; f++) {
      const char *fname = v->schema[f].name;
      for (int k = 0; k < n_ents; k++)
        for (int j = 0; j < ents[k]->n_join_keys; j++)
          if (!strcmp(fname, ents[k]->join_keys[j]))
            ms_def_vprob(p, ms_def_at(vm->fields, f, v->where),
                  "feature view '%s': feature '%s' is named like the join key of entity '%s'",
                  vn, fname, ents[k]->name);
      if (src && v->agg.n_aggregations == 0) { /* aggregation outputs are not source columns */
        for (int m = 0; m < src->n_field_mapping; m++)
          if (!strcmp(fname, src->field_mapping[m].key) &&
              strcmp(fname, src->field_mapping[m].value))
            ms_def_vprob(p, ms_def_at(vm->fields, f, v->where),
                  "feature view '%s': feature '%s' is a source column renamed by "
                  "field_mapping; use the mapped name '%s'",
                  vn, fname, src->field_mapping[m].value);
        if (src->timestamp_field && !strcmp(fname, src->timestamp_field))
          ms_def_vprob(p, ms_def_at(vm->fields, f, v->where),
                "feature view '%s': feature '%s' is the source's timestamp_field%s",
                vn, fname, "");
      }
    }
  }
  for (int i = 0; i < r->n_services; i++) {
    const ms_feature_service_def *s = &r->services[i];
    const char *sn = s->name ? s->name : "?";
    for (int t = 0; t < s->n_items; t++) {
      const ms_feature_service_item *it = &s->items[t];
      if (!it->view) continue;
      const ms_feature_view_def *v = ms_repo_find_feature_view(r, it->view);
      const ms_odfv_def *od = v ? NULL : ms_repo_find_odfv(r, it->view);
      const char *iw = ms_def_at(r->service_item_where[i], t, s->where);
      if (od) { /* an on-demand view: a features subset, an alias; no join keys of its own */
        if (it->n_join_key_map)
          ms_def_prob(p, iw,
                      "feature service '%s': join_key_map does not apply to on-demand feature "
                      "view '%s' (it has no join keys; map the keys of its source views)",
                      sn, it->view);
        for (int f = 0; f < it->n_features; f++) {
          bool found = false;
          for (int k = 0; k < od->n_schema; k++)
            if (!strcmp(od->schema[k].name, it->features[f])) found = true;
          if (!found)
            ms_def_prob(p, iw, "feature service '%s': on-demand feature view '%s' has no "
                        "feature '%s'", sn, it->view, it->features[f]);
        }
        continue;
      }
      if (!v) {
        const char *cands[256];
        int nc = 0;
        for (int k = 0; k < r->n_views && nc < 256; k++)
          if (r->views[k].name) cands[nc++] = r->views[k].name;
        for (int k = 0; k < r->n_odfvs && nc < 256; k++)
          if (r->odfvs[k].name) cands[nc++] = r->odfvs[k].name;
        const char *sug = ms_repo_suggest(it->view, cands, nc);
        ms_def_prob(p, iw, "feature service '%s': unknown feature view '%s'%s%s%s", sn,
                    it->view, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
        continue;
      }
      for (int k = 0; k < it->n_join_key_map; k++) { /* keys are the view's join keys */
        bool found = false;
        for (int e = 0; e < v->n_entities; e++) {
          const ms_entity_def *ed = ms_def_find_entity(r, v->entities[e]);
          if (ed && ed->n_join_keys && !strcmp(ed->join_keys[0], it->join_key_map[k].key))
            found = true;
        }
        if (!found)
          ms_def_vprob(p, ms_def_at(r->service_item_where[i], t, s->where),
                "feature service '%s': join_key_map key '%s' is not a join key of feature "
                "view '%s'",
                sn, it->join_key_map[k].key, it->view);
      }
      for (int f = 0; f < it->n_features; f++) {
        bool found = false;
        for (int k = 0; k < v->n_schema; k++)
          if (!strcmp(v->schema[k].name, it->features[f])) found = true;
        if (!found)
          ms_def_vprob(p, ms_def_at(r->service_item_where[i], t, s->where),
                "feature service '%s': feature view '%s' has no feature '%s'", sn,
                it->view, it->features[f]);
      }
    }
  }
  ms_def_validate_derived(r, p);
  ms_def_validate_logging(r, p);
}

/* ---- file discovery ---- */


typedef struct strlist {
  char **v;
  int n;
} strlist;

static void strlist_add(strlist *l, char *s) {
  if (!s) return;
  char **v = ms_realloc(l->v, (size_t)(l->n + 1) * sizeof *v);
  if (!v) {
    ms_free(s);
    return;
  }
  l->v = v;
  l->v[l->n++] = s;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_yaml_ext(const char *name) {
  size_t l = strlen(name);
  return (l > 5 && !strcmp(name + l - 5, ".yaml")) || (l > 4 && !strcmp(name + l - 4, ".yml"));
}

static void walk(const ms_repo *r, const char *dir, int depth, strlist *out) {
  if (depth > 32) return;
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue; /* hidden files and directories, . and .. */
    char *p = ms_asprintf("%s/%s", dir, de->d_name);
    if (!p) continue;
    struct stat st;
    if (stat(p, &st) != 0) {
      ms_free(p);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (!(r->config.storage_path && !strcmp(p, r->config.storage_path)))
        walk(r, p, depth + 1, out);
      ms_free(p);
    } else if (S_ISREG(st.st_mode) && has_yaml_ext(de->d_name) &&
               strcmp(p, r->config.config_path) &&
               !(depth == 0 && !strcmp(de->d_name, "feature_store.yaml"))) {
      strlist_add(out, p);
    } else {
      ms_free(p);
    }
  }
  closedir(d);
}

static char *read_text(const char *path, size_t *len, ms_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    ms_error_set(err, errno == ENOENT ? MS_ERR_NOT_FOUND : MS_ERR_IO, "cannot open %s: %s",
                 path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = ms_malloc(cap);
  while (buf) {
    if (n == cap) {
      if (cap >= (size_t)64 << 20) { /* repository files are small; refuse giants */
        ms_free(buf);
        fclose(f);
        ms_error_set(err, MS_ERR_LIMIT, "%s is larger than 64 MiB", path);
        return NULL;
      }
      char *b = ms_realloc(buf, cap * 2);
      if (!b) break;
      buf = b;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  fclose(f);
  if (!buf) {
    ms_error_set(err, MS_ERR_NOMEM, "out of memory reading %s", path);
    return NULL;
  }
  *len = n;
  return buf;
}

/* Problems sorted by file, then line and column (numerically), so reports read in order. */
static void split_prob(const char *s, size_t *flen, long *line, long *col) {
  /* "file:line:col: msg" or "file: msg"; find the first ":<digits>:<digits>:" */
  *line = *col = 0;
  *flen = strlen(s);
  for (const char *p = strchr(s, ':'); p; p = strchr(p + 1, ':')) {
    char *e1, *e2;
    long l = strtol(p + 1, &e1, 10);
    if (e1 == p + 1 || *e1 != ':') continue;
    long c = strtol(e1 + 1, &e2, 10);
    if (e2 == e1 + 1 || *e2 != ':') continue;
    *flen = (size_t)(p - s);
    *line = l;
    *col = c;
    return;
  }
}

static int cmp_prob(const void *a, const void *b) {
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  size_t fx, fy;
  long lx, ly, cx, cy;
  split_prob(x, &fx, &lx, &cx);
  split_prob(y, &fy, &ly, &cy);
  size_t m = fx < fy ? fx : fy;
  int c = strncmp(x, y, m);
  if (c) return c;
  if (fx != fy) return fx < fy ? -1 : 1;
  if (lx != ly) return lx < ly ? -1 : 1;
  if (cx != cy) return cx < cy ? -1 : 1;
  return strcmp(x, y);
}

void ms_probs_sort(ms_probs *p) {
  if (p->n > 1) qsort(p->v, (size_t)p->n, sizeof *p->v, cmp_prob);
}

/* ---- load / free ---- */

void ms_repo_free(ms_repo *r) {
  if (!r) return;
  /* marks first: their counts live in the views and services */
  for (int i = 0; r->view_marks && i < r->n_views; i++) {
    ms_view_marks *vm = &r->view_marks[i];
    ms_free(vm->source);
    if (vm->entities) ms_def_free_strs(vm->entities, r->views[i].n_entities);
    if (vm->fields) ms_def_free_strs(vm->fields, r->views[i].n_schema);
    ms_def_free_view_agg(&r->views[i], vm);
  }
  ms_free(r->view_marks);
  for (int i = 0; r->service_item_where && i < r->n_services; i++)
    if (r->service_item_where[i]) ms_def_free_strs(r->service_item_where[i], r->services[i].n_items);
  ms_free(r->service_item_where);
  for (int i = 0; i < r->n_entities; i++) {
    ms_entity_def *e = &r->entities[i];
    ms_free(e->name);
    ms_def_free_strs(e->join_keys, e->n_join_keys);
    ms_free(e->value_type);
    ms_free(e->description);
    ms_free(e->owner);
    ms_def_free_kv(e->tags, e->n_tags);
    ms_free(e->where);
  }
  ms_free(r->entities);
  for (int i = 0; i < r->n_sources; i++) {
    ms_source_def *s = &r->sources[i];
    ms_free(s->name);
    ms_free(s->path);
    ms_free(s->file_format);
    ms_free(s->timestamp_field);
    ms_free(s->created_timestamp_column);
    ms_def_free_kv(s->field_mapping, s->n_field_mapping);
    ms_free(s->date_partition_column);
    ms_free(s->description);
    ms_free(s->owner);
    ms_def_free_kv(s->tags, s->n_tags);
    ms_def_free_source_columns(s, r->source_marks ? &r->source_marks[i] : NULL);
    ms_free(s->where);
  }
  ms_free(r->sources);
  ms_free(r->source_marks);
  ms_def_free_odfvs(r);
  ms_def_free_strs(r->source_paths_written, r->n_sources);
  for (int i = 0; i < r->n_views; i++) {
    ms_feature_view_def *v = &r->views[i];
    ms_free(v->name);
    ms_def_free_strs(v->entities, v->n_entities);
    ms_free(v->source);
    for (int f = 0; f < v->n_schema; f++) {
      ms_free(v->schema[f].name);
      ms_free(v->schema[f].dtype);
      ms_free(v->schema[f].description);
    }
    ms_free(v->schema);
    ms_free(v->description);
    ms_free(v->owner);
    ms_def_free_kv(v->tags, v->n_tags);
    ms_free(v->where);
  }
  ms_free(r->views);
  for (int i = 0; i < r->n_services; i++) {
    ms_feature_service_def *s = &r->services[i];
    ms_free(s->name);
    for (int t = 0; t < s->n_items; t++) {
      ms_feature_service_item *it = &s->items[t];
      ms_free(it->view);
      ms_def_free_strs(it->features, it->n_features);
      ms_free(it->alias);
      ms_def_free_kv(it->join_key_map, it->n_join_key_map);
    }
    ms_free(s->items);
    ms_def_free_service_logging(s, r->service_log_marks ? &r->service_log_marks[i] : NULL);
    ms_free(s->description);
    ms_free(s->owner);
    ms_def_free_kv(s->tags, s->n_tags);
    ms_free(s->where);
  }
  ms_free(r->services);
  ms_free(r->service_log_marks);
  for (int i = 0; i < r->n_objects; i++) {
    ms_free((char *)r->objects[i].json);
    ms_free((char *)r->objects[i].hash);
  }
  ms_free(r->objects);
  ms_free(r->edges);
  ms_def_free_strs(r->def_files, r->n_def_files);
  ms_repo_config_reset(&r->config);
  ms_free(r);
}

void ms_repo_problems_free(char **problems, int n) { ms_def_free_strs(problems, n); }

static char *abs_path(const char *p, ms_error *err) {
  char buf[PATH_MAX];
  if (!realpath(p, buf)) {
    ms_error_set(err, errno == ENOENT ? MS_ERR_NOT_FOUND : MS_ERR_IO, "%s: %s", p,
                 strerror(errno));
    return NULL;
  }
  return ms_strdup(buf);
}

/* Parses one file into the tree; problems go to probs. */
static ms_ynode *load_yaml(ms_repo *r, const char *path, bool subst, ms_probs *probs,
                           bool *ok) {
  ms_error e;
  ms_error_init(&e);
  size_t len = 0;
  const char *disp = ms_repo_display(r, path);
  char *text = read_text(path, &len, &e);
  *ok = false;
  if (!text) {
    ms_probs_add(probs, disp, 0, 0, "%s", e.message);
    return NULL;
  }
  ms_ynode *root = NULL;
  *ok = ms_ydoc_parse(disp, text, len, &root, probs);
  ms_free(text);
  if (*ok && subst) ms_ydoc_subst_env(disp, root, probs);
  return root;
}

ms_status ms_repo_load(const char *repo_dir, const char *config_path, ms_repo **out,
                       char ***out_problems, int *out_n_problems, ms_error *err) {
  *out = NULL;
  if (out_problems) *out_problems = NULL;
  if (out_n_problems) *out_n_problems = 0;
  ms_repo *r = ms_calloc(1, sizeof *r);
  if (!r) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  r->config.repo_dir = abs_path(repo_dir ? repo_dir : ".", err);
  if (!r->config.repo_dir) {
    ms_repo_free(r);
    return err ? err->status : MS_ERR_NOT_FOUND;
  }
  char *cfg = config_path ? ms_strdup(config_path)
                          : ms_asprintf("%s/feature_store.yaml", r->config.repo_dir);
  struct stat st;
  if (!cfg || stat(cfg, &st) != 0 || !S_ISREG(st.st_mode)) {
    ms_status s = ms_error_set(err, MS_ERR_NOT_FOUND,
                               "%s: no such configuration file (a repository has a "
                               "feature_store.yaml; use -C DIR or --config FILE)",
                               cfg ? cfg : "feature_store.yaml");
    ms_free(cfg);
    ms_repo_free(r);
    return s;
  }
  r->config.config_path = abs_path(cfg, err);
  ms_free(cfg);
  if (!r->config.config_path) {
    ms_repo_free(r);
    return err ? err->status : MS_ERR_IO;
  }

  ms_probs probs = {0};
  bool ok;
  ms_ynode *root = load_yaml(r, r->config.config_path, true, &probs, &ok);
  if (ok) {
    ms_repo_parse_config(r, ms_repo_display(r, r->config.config_path), root, &probs);
    if (!r->def_files) {
      strlist files = {0};
      walk(r, r->config.repo_dir, 0, &files);
      if (files.n) qsort(files.v, (size_t)files.n, sizeof *files.v, cmp_str);
      r->def_files = files.v;
      r->n_def_files = files.n;
    } else { /* a definitions: list; directories in it are walked */
      strlist files = {0};
      for (int i = 0; i < r->n_def_files; i++) {
        struct stat ds;
        if (stat(r->def_files[i], &ds) == 0 && S_ISDIR(ds.st_mode)) {
          strlist sub = {0};
          walk(r, r->def_files[i], 1, &sub);
          if (sub.n) qsort(sub.v, (size_t)sub.n, sizeof *sub.v, cmp_str);
          for (int k = 0; k < sub.n; k++) strlist_add(&files, sub.v[k]);
          ms_free(sub.v);
        } else {
          strlist_add(&files, ms_strdup(r->def_files[i]));
        }
      }
      ms_def_free_strs(r->def_files, r->n_def_files);
      r->def_files = files.v;
      r->n_def_files = files.n;
    }
    for (int i = 0; i < r->n_def_files; i++) {
      bool fok;
      ms_ynode *d = load_yaml(r, r->def_files[i], false, &probs, &fok);
      if (fok) {
        ms_dctx c = {r, ms_repo_display(r, r->def_files[i]), &probs};
        parse_definitions(&c, d);
      }
      ms_ynode_free(d);
    }
    validate(r, &probs);
  }
  ms_ynode_free(root);

  if (probs.n > 0) {
    ms_status s = probs.yaml_error ? MS_ERR_PARSE : MS_ERR_INVALID;
    ms_probs_sort(&probs);
    if (probs.n == 1)
      ms_error_set(err, s, "%s", probs.v[0]);
    else
      ms_error_set(err, s, "%s (and %d more problems)", probs.v[0], probs.n - 1);
    if (out_problems && out_n_problems) {
      *out_problems = probs.v;
      *out_n_problems = probs.n;
      memset(&probs, 0, sizeof probs);
    }
    ms_probs_free(&probs);
    ms_repo_free(r);
    return s;
  }
  ms_probs_free(&probs);
  *out = r;
  return MS_OK;
}

const ms_repo_config *ms_repo_get_config(const ms_repo *r) { return &r->config; }
int ms_repo_num_entities(const ms_repo *r) { return r->n_entities; }
const ms_entity_def *ms_repo_entity(const ms_repo *r, int i) {
  return i >= 0 && i < r->n_entities ? &r->entities[i] : NULL;
}
int ms_repo_num_sources(const ms_repo *r) { return r->n_sources; }
const ms_source_def *ms_repo_source(const ms_repo *r, int i) {
  return i >= 0 && i < r->n_sources ? &r->sources[i] : NULL;
}
int ms_repo_num_feature_views(const ms_repo *r) { return r->n_views; }
const ms_feature_view_def *ms_repo_feature_view(const ms_repo *r, int i) {
  return i >= 0 && i < r->n_views ? &r->views[i] : NULL;
}
int ms_repo_num_feature_services(const ms_repo *r) { return r->n_services; }
const ms_feature_service_def *ms_repo_feature_service(const ms_repo *r, int i) {
  return i >= 0 && i < r->n_services ? &r->services[i] : NULL;
}

const ms_feature_view_def *ms_repo_find_feature_view(const ms_repo *r, const char *name) {
  for (int i = 0; name && i < r->n_views; i++)
    if (r->views[i].name && !strcmp(r->views[i].name, name)) return &r->views[i];
  return NULL;
}
const ms_source_def *ms_repo_find_source(const ms_repo *r, const char *name) {
  for (int i = 0; name && i < r->n_sources; i++)
    if (r->sources[i].name && !strcmp(r->sources[i].name, name)) return &r->sources[i];
  return NULL;
}
