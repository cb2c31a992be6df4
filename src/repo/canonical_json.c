/* Registry objects: canonical JSON, content hashes, lineage edges, and diff summaries.
 *
 * Canonical JSON is what makes "did this object change?" a string comparison: objects are
 * built as a small value tree and written with keys sorted bytewise, no whitespace, every
 * optional field present (null, "", [], {} or its default), durations in one spelling
 * ("1h30m"), strings as UTF-8 with only '"', '\\' and control characters escaped. Schema
 * fields and service items keep their declared order (it is significant). The hash is
 * XXH3-128 of the JSON bytes in canonical (big-endian) hex. Source paths are stored as
 * written, so the same repository cloned elsewhere hashes the same.
 *
 * The diff summary parses two versions back (a small recursive-descent JSON parser,
 * depth-limited) and lists what changed: top-level fields ("ttl: 0s -> 90d"), schema
 * fields of views ("+feature monetary", "-feature x", "feature x: int32 -> int64") and
 * views of services ("+view v", "-view v", "view v: [a] -> [a,b]"), a service's logging
 * key by key ("logging.sample_rate: 1 -> 0.5", "logging.destination.path: a -> b"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "morsel/alloc.h"
#include "repo_int.h"

/* ---- value tree ---- */

ms_jv *ms_jv_new(ms_jt t) {
  ms_jv *v = ms_calloc(1, sizeof *v);
  if (v) v->t = t;
  return v;
}

ms_jv *ms_jv_str(const char *s) {
  if (!s) return ms_jv_new(MS_J_NULL);
  ms_jv *v = ms_jv_new(MS_J_STR);
  if (v) v->s = ms_strdup(s);
  return v;
}

ms_jv *ms_jv_int(int64_t i) {
  ms_jv *v = ms_jv_new(MS_J_NUM);
  if (v) v->s = ms_asprintf("%lld", (long long)i);
  return v;
}

ms_jv *ms_jv_bool(bool b) {
  ms_jv *v = ms_jv_new(MS_J_BOOL);
  if (v) v->b = b;
  return v;
}

static bool jv_grow(ms_jv *c) {
  if (c->n < c->cap) return true;
  int cap = c->cap ? c->cap * 2 : 4;
  ms_jv **items = ms_realloc(c->items, (size_t)cap * sizeof *items);
  if (!items) return false;
  c->items = items;
  if (c->t == MS_J_OBJ) {
    char **keys = ms_realloc(c->keys, (size_t)cap * sizeof *keys);
    if (!keys) return false;
    c->keys = keys;
  }
  c->cap = cap;
  return true;
}

void ms_jv_push(ms_jv *arr, ms_jv *v) {
  if (!arr || !jv_grow(arr)) {
    ms_jv_free(v);
    return;
  }
  arr->items[arr->n++] = v;
}

void ms_jv_set(ms_jv *obj, const char *key, ms_jv *v) {
  char *k = ms_strdup(key);
  if (!obj || !k || !jv_grow(obj)) {
    ms_free(k);
    ms_jv_free(v);
    return;
  }
  obj->keys[obj->n] = k;
  obj->items[obj->n++] = v;
}

const ms_jv *ms_jv_get(const ms_jv *obj, const char *key) {
  if (!obj || obj->t != MS_J_OBJ) return NULL;
  for (int i = 0; i < obj->n; i++)
    if (!strcmp(obj->keys[i], key)) return obj->items[i];
  return NULL;
}

void ms_jv_free(ms_jv *v) {
  if (!v) return;
  for (int i = 0; i < v->n; i++) {
    ms_jv_free(v->items[i]);
    if (v->keys) ms_free(v->keys[i]);
  }
  ms_free(v->items);
  ms_free(v->keys);
  ms_free(v->s);
  ms_free(v);
}

/* ---- writer ---- */

typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->n + n + 1) * 2;
    char *p = ms_realloc(b->p, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void write_string(sbuf *b, const char *s) {
  sb_put(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[8];
    switch (*p) {
    case '"': sb_str(b, "\\\""); break;
    case '\\': sb_str(b, "\\\\"); break;
    case '\n': sb_str(b, "\\n"); break;
    case '\r': sb_str(b, "\\r"); break;
    case '\t': sb_str(b, "\\t"); break;
    case '\b': sb_str(b, "\\b"); break;
    case '\f': sb_str(b, "\\f"); break;
    default:
      if (*p < 0x20) {
        snprintf(esc, sizeof esc, "\\u%04x", *p);
        sb_str(b, esc);
      } else {
        sb_put(b, (const char *)p, 1);
      }
    }
  }
  sb_put(b, "\"", 1);
}


static void write_value(sbuf *b, const ms_jv *v, int depth);

static void write_object(sbuf *b, const ms_jv *v, int depth) {
  int *order = ms_malloc((size_t)(v->n ? v->n : 1) * sizeof *order);
  if (!order) {
    b->oom = true;
    return;
  }
  for (int i = 0; i < v->n; i++) order[i] = i;
  /* insertion sort by key: objects here are small, and no global state is needed */
  for (int i = 1; i < v->n; i++) {
    int x = order[i], j = i - 1;
    while (j >= 0 && strcmp(v->keys[order[j]], v->keys[x]) > 0) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = x;
  }
  sb_put(b, "{", 1);
  for (int i = 0; i < v->n; i++) {
    if (i) sb_put(b, ",", 1);
    write_string(b, v->keys[order[i]]);
    sb_put(b, ":", 1);
    write_value(b, v->items[order[i]], depth + 1);
  }
  sb_put(b, "}", 1);
  ms_free(order);
}

static void write_value(sbuf *b, const ms_jv *v, int depth) {
  if (!v || depth > 64) {
    b->oom = b->oom || depth > 64;
    if (!v) sb_str(b, "null");
    return;
  }
  switch (v->t) {
  case MS_J_NULL: sb_str(b, "null"); break;
  case MS_J_BOOL: sb_str(b, v->b ? "true" : "false"); break;
  case MS_J_NUM: sb_str(b, v->s ? v->s : "0"); break;
  case MS_J_STR: write_string(b, v->s ? v->s : ""); break;
  case MS_J_ARR:
    sb_put(b, "[", 1);
    for (int i = 0; i < v->n; i++) {
      if (i) sb_put(b, ",", 1);
      write_value(b, v->items[i], depth + 1);
    }
    sb_put(b, "]", 1);
    break;
  case MS_J_OBJ: write_object(b, v, depth); break;
  }
}

char *ms_jv_dump(const ms_jv *v) {
  sbuf b = {0};
  write_value(&b, v, 0);
  if (b.oom) {
    ms_free(b.p);
    return NULL;
  }
  return b.p;
}

/* ---- parser ---- */

typedef struct jparse {
  const char *p;
  bool bad;
} jparse;

static void skip_ws(jparse *j) {
  while (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t') j->p++;
}

static void put_utf8(sbuf *b, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  sb_put(b, u, n);
}

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static char *parse_string(jparse *j) {
  sbuf b = {0};
  sb_put(&b, "", 0);
  j->p++; /* opening quote */
  while (*j->p != '"') {
    unsigned char c = (unsigned char)*j->p;
    if (c == 0 || c < 0x20) {
      j->bad = true;
      break;
    }
    if (c != '\\') {
      sb_put(&b, j->p, 1);
      j->p++;
      continue;
    }
    j->p++;
    char e = *j->p++;
    switch (e) {
    case '"': sb_put(&b, "\"", 1); break;
    case '\\': sb_put(&b, "\\", 1); break;
    case '/': sb_put(&b, "/", 1); break;
    case 'n': sb_put(&b, "\n", 1); break;
    case 'r': sb_put(&b, "\r", 1); break;
    case 't': sb_put(&b, "\t", 1); break;
    case 'b': sb_put(&b, "\b", 1); break;
    case 'f': sb_put(&b, "\f", 1); break;
    case 'u': {
      unsigned cp;
      if (!hex4(j->p, &cp)) {
        j->bad = true;
        break;
      }
      j->p += 4;
      if (cp >= 0xD800 && cp < 0xDC00 && j->p[0] == '\\' && j->p[1] == 'u') {
        unsigned lo;
        if (hex4(j->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          j->p += 6;
        }
      }
      put_utf8(&b, cp);
      break;
    }
    default: j->bad = true;
    }
    if (j->bad) break;
  }
  if (j->bad || b.oom) {
    j->bad = true;
    ms_free(b.p);
    return NULL;
  }
  j->p++; /* closing quote */
  return b.p;
}

static ms_jv *parse_value(jparse *j, int depth) {
  skip_ws(j);
  if (depth > 64) {
    j->bad = true;
    return NULL;
  }
  char c = *j->p;
  if (c == '"') {
    char *s = parse_string(j);
    if (!s) return NULL;
    ms_jv *v = ms_jv_new(MS_J_STR);
    if (!v) {
      ms_free(s);
      j->bad = true;
      return NULL;
    }
    v->s = s;
    return v;
  }
  if (c == '{' || c == '[') {
    bool obj = c == '{';
    ms_jv *v = ms_jv_new(obj ? MS_J_OBJ : MS_J_ARR);
    if (!v) {
      j->bad = true;
      return NULL;
    }
    j->p++;
    skip_ws(j);
    if (*j->p == (obj ? '}' : ']')) {
      j->p++;
      return v;
    }
    for (;;) {
      char *key = NULL;
      if (obj) {
        skip_ws(j);
        if (*j->p != '"' || !(key = parse_string(j))) break;
        skip_ws(j);
        if (*j->p != ':') {
          ms_free(key);
          break;
        }
        j->p++;
      }
      ms_jv *item = parse_value(j, depth + 1);
      if (!item) {
        ms_free(key);
        break;
      }
      if (obj) ms_jv_set(v, key, item);
      else ms_jv_push(v, item);
      ms_free(key);
      skip_ws(j);
      if (*j->p == ',') {
        j->p++;
        continue;
      }
      if (*j->p == (obj ? '}' : ']')) {
        j->p++;
        return v;
      }
      break;
    }
    j->bad = true;
    ms_jv_free(v);
    return NULL;
  }
  if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
    bool b = c == 't';
    j->p += b ? 4 : 5;
    return ms_jv_bool(b);
  }
  if (!strncmp(j->p, "null", 4)) {
    j->p += 4;
    return ms_jv_new(MS_J_NULL);
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    const char *s = j->p;
    j->p++;
    while ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' || *j->p == 'E' ||
           *j->p == '+' || *j->p == '-')
      j->p++;
    ms_jv *v = ms_jv_new(MS_J_NUM);
    if (v) v->s = ms_strndup(s, (size_t)(j->p - s));
    return v;
  }
  j->bad = true;
  return NULL;
}

ms_jv *ms_jv_parse(const char *text) {
  if (!text) return NULL;
  jparse j = {text, false};
  ms_jv *v = parse_value(&j, 0);
  skip_ws(&j);
  if (j.bad || !v || *j.p) {
    ms_jv_free(v);
    return NULL;
  }
  return v;
}

/* ---- registry objects ---- */

static ms_jv *str_array(char **v, int n) {
  ms_jv *a = ms_jv_new(MS_J_ARR);
  for (int i = 0; i < n; i++) ms_jv_push(a, ms_jv_str(v[i]));
  return a;
}

static ms_jv *kv_object(const ms_kv_pair *kv, int n) {
  ms_jv *o = ms_jv_new(MS_J_OBJ);
  for (int i = 0; i < n; i++) ms_jv_set(o, kv[i].key, ms_jv_str(kv[i].value));
  return o;
}

static void common(ms_jv *o, const char *name, const char *desc, const char *owner,
                   const ms_kv_pair *tags, int n_tags) {
  ms_jv_set(o, "name", ms_jv_str(name));
  ms_jv_set(o, "description", ms_jv_str(desc ? desc : ""));
  ms_jv_set(o, "owner", ms_jv_str(owner ? owner : ""));
  ms_jv_set(o, "tags", kv_object(tags, n_tags));
}

static ms_jv *entity_json(const ms_entity_def *e) {
  ms_jv *o = ms_jv_new(MS_J_OBJ);
  common(o, e->name, e->description, e->owner, e->tags, e->n_tags);
  ms_jv_set(o, "join_keys", str_array(e->join_keys, e->n_join_keys));
  ms_jv_set(o, "value_type", ms_jv_str(e->value_type));
  return o;
}

/* [{name, expression}] in declared order (order is significant: later columns may use
 * earlier ones). */
static ms_jv *named_exprs(const ms_named_expr *v, int n) {
  ms_jv *a = ms_jv_new(MS_J_ARR);
  for (int i = 0; i < n; i++) {
    ms_jv *e = ms_jv_new(MS_J_OBJ);
    ms_jv_set(e, "name", ms_jv_str(v[i].name));
    ms_jv_set(e, "expression", ms_jv_str(v[i].expression));
    ms_jv_push(a, e);
  }
  return a;
}

/* A window or duration in canonical spelling; -1 is "unbounded". */
static ms_jv *window_json(int64_t seconds) {
  if (seconds < 0) return ms_jv_str("unbounded");
  char buf[64];
  ms_format_duration(seconds, buf, sizeof buf);
  return ms_jv_str(buf);
}

/* The aggregation part of a view, every default explicit: the timestamp field resolved
 * to the source's when not given, the population window resolved, direction and unit
 * spelled out (unit only for mean_gap). null for a plain view. */
static ms_jv *aggregation_json(const ms_repo *r, const ms_feature_view_def *v) {
  const ms_aggregation_spec *a = &v->agg;
  if (a->n_aggregations == 0) return ms_jv_new(MS_J_NULL);
  ms_jv *o = ms_jv_new(MS_J_OBJ);
  const char *ts = a->timestamp_field;
  if (!ts) {
    const ms_source_def *src = ms_repo_find_source(r, v->source);
    ts = src ? src->timestamp_field : NULL;
  }
  ms_jv_set(o, "timestamp_field", ms_jv_str(ts));
  ms_jv_set(o, "filter", ms_jv_str(a->filter));
  ms_jv *pop = ms_jv_new(MS_J_OBJ);
  ms_jv_set(pop, "window", window_json(a->population_window_seconds));
  ms_jv_set(pop, "filter", ms_jv_str(a->population_filter));
  ms_jv_set(o, "population", pop);
  if (a->has_cutoffs) {
    ms_jv *c = ms_jv_new(MS_J_OBJ);
    ms_jv_set(c, "start", ms_jv_str(a->cutoff_start));
    ms_jv_set(c, "every", a->cutoff_every_seconds > 0 ? window_json(a->cutoff_every_seconds)
                                                       : ms_jv_new(MS_J_NULL));
    ms_jv_set(c, "end", ms_jv_str(a->cutoff_end));
    ms_jv_set(o, "cutoffs", c);
  } else {
    ms_jv_set(o, "cutoffs", ms_jv_new(MS_J_NULL));
  }
  ms_jv *aggs = ms_jv_new(MS_J_ARR);
  for (int i = 0; i < a->n_aggregations; i++) {
    const ms_aggregation_def *d = &a->aggregations[i];
    ms_jv *e = ms_jv_new(MS_J_OBJ);
    ms_jv_set(e, "name", ms_jv_str(d->name));
    ms_jv_set(e, "function", ms_jv_str(d->function));
    ms_jv_set(e, "input", ms_jv_str(d->input));
    ms_jv_set(e, "window", window_json(d->window_seconds));
    ms_jv_set(e, "direction", ms_jv_str(d->forward ? "forward" : "backward"));
    ms_jv_set(e, "filter", ms_jv_str(d->filter));
    ms_jv_set(e, "by", ms_jv_str(d->by));
    ms_jv_set(e, "unit", d->unit_seconds > 0 ? window_json(d->unit_seconds)
                                             : ms_jv_new(MS_J_NULL));
    ms_jv_push(aggs, e);
  }
  ms_jv_set(o, "aggregations", aggs);
  ms_jv_set(o, "expressions", named_exprs(a->expressions, a->n_expressions));
  return o;
}

static ms_jv *fields_json(const ms_feature_field *f, int n, const ms_named_expr *exprs) {
  ms_jv *sch = ms_jv_new(MS_J_ARR);
  for (int i = 0; i < n; i++) {
    ms_jv *e = ms_jv_new(MS_J_OBJ);
    ms_jv_set(e, "name", ms_jv_str(f[i].name));
    ms_jv_set(e, "dtype", ms_jv_str(f[i].dtype));
    ms_jv_set(e, "description", ms_jv_str(f[i].description ? f[i].description : ""));
    if (exprs) ms_jv_set(e, "expression", ms_jv_str(exprs[i].expression));
    ms_jv_push(sch, e);
  }
  return sch;
}

static ms_jv *odfv_json(const ms_odfv_def *d) {
  ms_jv *o = ms_jv_new(MS_J_OBJ);
  common(o, d->name, d->description, d->owner, d->tags, d->n_tags);
  ms_jv_set(o, "sources", str_array(d->sources, d->n_sources));
  ms_jv_set(o, "request", fields_json(d->request, d->n_request, NULL));
  ms_jv_set(o, "schema", fields_json(d->schema, d->n_schema, d->outputs));
  return o;
}

static ms_jv *source_json(const ms_source_def *s, const char *path_written) {
  ms_jv *o = ms_jv_new(MS_J_OBJ);
  common(o, s->name, s->description, s->owner, s->tags, s->n_tags);
  ms_jv_set(o, "path", ms_jv_str(path_written ? path_written : s->path));
  ms_jv_set(o, "file_format", ms_jv_str(s->file_format));
  ms_jv_set(o, "timestamp_field", ms_jv_str(s->timestamp_field));
  ms_jv_set(o, "created_timestamp_column", ms_jv_str(s->created_timestamp_column));
  ms_jv_set(o, "field_mapping", kv_object(s->field_mapping, s->n_field_mapping));
  ms_jv_set(o, "date_partition_column", ms_jv_str(s->date_partition_column));
  ms_jv_set(o, "columns", named_exprs(s->columns, s->n_columns));
  ms_jv_set(o, "filter", ms_jv_str(s->filter));
  return o;
}

static ms_jv *view_json(const ms_repo *r, const ms_feature_view_def *v) {
  ms_jv *o = ms_jv_new(MS_J_OBJ);
  char ttl[64];
  ms_format_duration(v->ttl_seconds, ttl, sizeof ttl);
  common(o, v->name, v->description, v->owner, v->tags, v->n_tags);
  ms_jv_set(o, "entities", str_array(v->entities, v->n_entities));
  ms_jv_set(o, "ttl", ms_jv_str(ttl));
  ms_jv_set(o, "source", ms_jv_str(v->source));
  ms_jv_set(o, "online", ms_jv_bool(v->online));
  ms_jv_set(o, "schema", fields_json(v->schema, v->n_schema, NULL));
  ms_jv_set(o, "aggregation", aggregation_json(r, v));
  return o;
}

/* The shortest decimal text that reads back to the same double ("1", "0.25", "0.1"), so
 * that 1.0 and 1 hash the same. */
static ms_jv *number_json(double v) {
  char buf[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  ms_jv *j = ms_jv_new(MS_J_NUM);
  if (j) j->s = ms_strdup(buf);
  return j;
}

/* `logging`: null, or {destination: {path (as written), partition_by}, sample_rate}. */
static ms_jv *logging_json(const ms_feature_service_def *s, const ms_service_log_marks *lm) {
  if (!s->has_logging) return ms_jv_new(MS_J_NULL);
  ms_jv *o = ms_jv_new(MS_J_OBJ);
  ms_jv *d = ms_jv_new(MS_J_OBJ);
  ms_jv_set(d, "path", ms_jv_str(lm && lm->path_written ? lm->path_written : s->log_path));
  ms_jv_set(d, "partition_by", str_array(s->log_partition_by, s->n_log_partition_by));
  ms_jv_set(o, "destination", d);
  ms_jv_set(o, "sample_rate", number_json(s->log_sample_rate));
  return o;
}

static ms_jv *service_json(const ms_feature_service_def *s, const ms_service_log_marks *lm) {
  ms_jv *o = ms_jv_new(MS_J_OBJ);
  common(o, s->name, s->description, s->owner, s->tags, s->n_tags);
  ms_jv *items = ms_jv_new(MS_J_ARR);
  for (int i = 0; i < s->n_items; i++) {
    const ms_feature_service_item *it = &s->items[i];
    ms_jv *f = ms_jv_new(MS_J_OBJ);
    ms_jv_set(f, "feature_view", ms_jv_str(it->view));
    ms_jv_set(f, "features", str_array(it->features, it->n_features));
    ms_jv_set(f, "alias", ms_jv_str(it->alias));
    ms_jv_set(f, "join_key_map", kv_object(it->join_key_map, it->n_join_key_map));
    ms_jv_push(items, f);
  }
  ms_jv_set(o, "features", items);
  ms_jv_set(o, "logging", logging_json(s, lm));
  return o;
}

static bool add_object(ms_repo *r, const char *kind, const char *name, ms_jv *v) {
  char *json = ms_jv_dump(v);
  ms_jv_free(v);
  if (!json) return false;
  XXH128_hash_t h = XXH3_128bits(json, strlen(json));
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, h);
  char *hex = ms_malloc(33);
  if (!hex) {
    ms_free(json);
    return false;
  }
  for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", canon.digest[i]);
  ms_reg_object *o = &r->objects[r->n_objects++];
  o->kind = kind;
  o->name = name;
  o->json = json;
  o->hash = hex;
  return true;
}

static void add_edge(ms_repo *r, const char *fk, const char *fn, const char *tk, const char *tn) {
  ms_reg_edge *e = &r->edges[r->n_edges++];
  e->from_kind = fk;
  e->from_name = fn;
  e->to_kind = tk;
  e->to_name = tn;
}

ms_status ms_repo_objects(ms_repo *r, const ms_reg_object **out_objects, int *out_n,
                          const ms_reg_edge **out_edges, int *out_n_edges, ms_error *err) {
  if (!r->objects_built) {
    int n = r->n_entities + r->n_sources + r->n_views + r->n_odfvs + r->n_services;
    int ne = 0;
    for (int i = 0; i < r->n_views; i++) ne += 1 + r->views[i].n_entities;
    for (int i = 0; i < r->n_odfvs; i++) ne += r->odfvs[i].n_sources;
    for (int i = 0; i < r->n_services; i++) ne += r->services[i].n_items;
    r->objects = ms_calloc((size_t)n + 1, sizeof *r->objects);
    r->edges = ms_calloc((size_t)ne + 1, sizeof *r->edges);
    if (!r->objects || !r->edges) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    bool ok = true;
    for (int i = 0; ok && i < r->n_entities; i++)
      ok = add_object(r, "entity", r->entities[i].name, entity_json(&r->entities[i]));
    for (int i = 0; ok && i < r->n_sources; i++)
      ok = add_object(r, "data_source", r->sources[i].name,
                      source_json(&r->sources[i], r->source_paths_written
                                                      ? r->source_paths_written[i]
                                                      : NULL));
    for (int i = 0; ok && i < r->n_views; i++)
      ok = add_object(r, "feature_view", r->views[i].name, view_json(r, &r->views[i]));
    for (int i = 0; ok && i < r->n_odfvs; i++)
      ok = add_object(r, "on_demand_feature_view", r->odfvs[i].name, odfv_json(&r->odfvs[i]));
    for (int i = 0; ok && i < r->n_services; i++)
      ok = add_object(r, "feature_service", r->services[i].name,
                      service_json(&r->services[i],
                                   r->service_log_marks ? &r->service_log_marks[i] : NULL));
    if (!ok) {
      for (int i = 0; i < r->n_objects; i++) {
        ms_free((char *)r->objects[i].json);
        ms_free((char *)r->objects[i].hash);
      }
      r->n_objects = 0;
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory building registry objects");
    }
    for (int i = 0; i < r->n_views; i++) {
      const ms_feature_view_def *v = &r->views[i];
      add_edge(r, "data_source", v->source, "feature_view", v->name);
      for (int e = 0; e < v->n_entities; e++)
        add_edge(r, "entity", v->entities[e], "feature_view", v->name);
    }
    for (int i = 0; i < r->n_odfvs; i++)
      for (int s = 0; s < r->odfvs[i].n_sources; s++)
        add_edge(r, "feature_view", r->odfvs[i].sources[s], "on_demand_feature_view",
                 r->odfvs[i].name);
    for (int i = 0; i < r->n_services; i++)
      for (int t = 0; t < r->services[i].n_items; t++) {
        const char *vn = r->services[i].items[t].view;
        add_edge(r,
                 ms_repo_find_feature_view(r, vn) || !ms_repo_find_odfv(r, vn)
                     ? "feature_view"
                     : "on_demand_feature_view",
                 vn, "feature_service", r->services[i].name);
      }
    r->objects_built = true;
  }
  if (out_objects) *out_objects = r->objects;
  if (out_n) *out_n = r->n_objects;
  if (out_edges) *out_edges = r->edges;
  if (out_n_edges) *out_n_edges = r->n_edges;
  return MS_OK;
}

/* ---- diff summary ---- */

static void sb_sep(sbuf *b) {
  if (b->n) sb_str(b, "; ");
}

/* A short display of a value: strings bare, null as null, compound values as JSON cut at
 * 60 bytes. */
static void short_value(sbuf *b, const ms_jv *v) {
  if (!v) {
    sb_str(b, "(absent)");
    return;
  }
  if (v->t == MS_J_STR) {
    sb_str(b, v->s && *v->s ? v->s : "\"\"");
    return;
  }
  char *j = ms_jv_dump(v);
  if (!j) return;
  if (strlen(j) > 60) strcpy(j + 57, "...");
  sb_str(b, j);
  ms_free(j);
}

static bool jv_equal(const ms_jv *a, const ms_jv *b) {
  char *x = ms_jv_dump(a), *y = ms_jv_dump(b);
  bool eq = x && y && !strcmp(x, y);
  ms_free(x);
  ms_free(y);
  return eq;
}

static const ms_jv *find_by(const ms_jv *arr, const char *key, const char *name) {
  if (!arr || arr->t != MS_J_ARR) return NULL;
  for (int i = 0; i < arr->n; i++) {
    const ms_jv *k = ms_jv_get(arr->items[i], key);
    if (k && k->t == MS_J_STR && !strcmp(k->s, name)) return arr->items[i];
  }
  return NULL;
}

/* What differs between two items of a named list, when their detail key is equal:
 * "window 90d -> 60d, filter a -> b". */
static void diff_item_keys(sbuf *b, const ms_jv *o, const ms_jv *n, const char *name_key) {
  bool first = true;
  for (int pass = 0; pass < 2; pass++) {
    const ms_jv *from = pass ? o : n, *to = pass ? n : o;
    for (int i = 0; from && from->t == MS_J_OBJ && i < from->n; i++) {
      const char *k = from->keys[i];
      if (!strcmp(k, name_key)) continue;
      const ms_jv *tv = ms_jv_get(to, k);
      if (pass && tv) continue; /* keys of both were seen in the first pass */
      if (tv && jv_equal(from->items[i], tv)) continue;
      if (!first) sb_str(b, ", ");
      first = false;
      sb_str(b, k);
      sb_str(b, " ");
      short_value(b, pass ? from->items[i] : tv);
      sb_str(b, " -> ");
      short_value(b, pass ? tv : from->items[i]);
    }
  }
  if (first) sb_str(b, "changed");
}

/* Named list items (schema fields by "name", service items by "feature_view", ...). */
static void diff_named_list(sbuf *b, const ms_jv *o, const ms_jv *n, const char *key,
                            const char *label, const char *detail_key) {
  for (int pass = 0; pass < 2; pass++) {
    const ms_jv *from = pass ? o : n, *to = pass ? n : o;
    if (!from || from->t != MS_J_ARR) continue;
    for (int i = 0; i < from->n; i++) {
      const ms_jv *k = ms_jv_get(from->items[i], key);
      if (!k || k->t != MS_J_STR) continue;
      const ms_jv *other = find_by(to, key, k->s);
      if (!other) {
        sb_sep(b);
        sb_str(b, pass ? "-" : "+");
        sb_str(b, label);
        sb_str(b, " ");
        sb_str(b, k->s);
      } else if (!pass && !jv_equal(from->items[i], other)) {
        sb_sep(b);
        sb_str(b, label);
        sb_str(b, " ");
        sb_str(b, k->s);
        sb_str(b, ": ");
        const ms_jv *od = detail_key ? ms_jv_get(other, detail_key) : NULL;
        const ms_jv *nd = detail_key ? ms_jv_get(from->items[i], detail_key) : NULL;
        if (detail_key && !jv_equal(od, nd)) {
          short_value(b, od);
          sb_str(b, " -> ");
          short_value(b, nd);
        } else {
          diff_item_keys(b, other, from->items[i], key);
        }
      }
    }
  }
}

/* A value an older version did not have yet and that means "nothing": null, [], {}. */
static bool is_empty_default(const ms_jv *v) {
  return v->t == MS_J_NULL || ((v->t == MS_J_ARR || v->t == MS_J_OBJ) && v->n == 0);
}

/* Named lists by key: which key names an item, the label, the detail shown first. */
typedef struct named_list_kind {
  const char *key, *item_key, *label, *detail;
} named_list_kind;

static const named_list_kind k_lists[] = {
    {"schema", "name", "feature", "dtype"},
    {"request", "name", "request column", "dtype"},
    {"columns", "name", "column", "expression"},
    {"aggregations", "name", "aggregation", NULL},
    {"expressions", "name", "expression", "expression"},
};

/* Keys of two objects: nested named lists by item, the aggregation object by its own keys,
 * its population/cutoffs objects key by key ("cutoffs.every: 30d -> 7d"). */
static void diff_keys(sbuf *b, const ms_jv *o, const ms_jv *n, int depth, const char *prefix) {
  /* union of keys, sorted */
  int nk = 0;
  const char **keys = ms_malloc((size_t)(o->n + n->n + 1) * sizeof *keys);
  if (!keys) {
    b->oom = true;
    return;
  }
  for (int s = 0; s < 2; s++) {
    const ms_jv *src = s ? n : o;
    for (int i = 0; i < src->n; i++) {
      bool seen = false;
      for (int k = 0; k < nk; k++)
        if (!strcmp(keys[k], src->keys[i])) seen = true;
      if (!seen) keys[nk++] = src->keys[i];
    }
  }
  for (int i = 1; i < nk; i++)
    for (int k = i; k > 0 && strcmp(keys[k - 1], keys[k]) > 0; k--) {
      const char *t = keys[k];
      keys[k] = keys[k - 1];
      keys[k - 1] = t;
    }
  for (int i = 0; i < nk; i++) {
    const ms_jv *ov = ms_jv_get(o, keys[i]), *nv = ms_jv_get(n, keys[i]);
    if (ov && nv && jv_equal(ov, nv)) continue;
    if (!ov && nv && is_empty_default(nv)) continue; /* a field added later, at its default */
    if (depth == 0 && !strcmp(keys[i], "aggregation") && ov && nv && ov->t == MS_J_OBJ &&
        nv->t == MS_J_OBJ) {
      diff_keys(b, ov, nv, depth + 1, "");
      continue;
    }
    if (depth == 0 && !strcmp(keys[i], "logging") && ov && nv && ov->t == MS_J_OBJ &&
        nv->t == MS_J_OBJ) { /* "logging.sample_rate: 1 -> 0.5" */
      diff_keys(b, ov, nv, depth + 1, "logging.");
      continue;
    }
    if (depth == 1 && ov && nv && ov->t == MS_J_OBJ && nv->t == MS_J_OBJ) {
      char pre[128];
      snprintf(pre, sizeof pre, "%s%s.", prefix, keys[i]);
      diff_keys(b, ov, nv, depth + 1, pre);
      continue;
    }
    const named_list_kind *lk = NULL;
    for (int k = 0; k < (int)(sizeof k_lists / sizeof *k_lists); k++)
      if (!strcmp(keys[i], k_lists[k].key)) lk = &k_lists[k];
    if (lk && !((!ov || ov->t == MS_J_ARR) && (!nv || nv->t == MS_J_ARR))) lk = NULL;
    bool is_items = !strcmp(keys[i], "features") && ((ov && ov->t == MS_J_ARR &&
                    ov->n && ov->items[0]->t == MS_J_OBJ) ||
                    (nv && nv->t == MS_J_ARR && nv->n && nv->items[0]->t == MS_J_OBJ));
    size_t before = b->n;
    if (lk) diff_named_list(b, ov, nv, lk->item_key, lk->label, lk->detail);
    else if (is_items) diff_named_list(b, ov, nv, "feature_view", "view", "features");
    if ((lk || is_items) && b->n == before) {
      sb_sep(b); /* same members, another order */
      sb_str(b, keys[i]);
      sb_str(b, ": order changed");
    } else if (!lk && !is_items) {
      sb_sep(b);
      sb_str(b, prefix);
      sb_str(b, keys[i]);
      sb_str(b, ": ");
      short_value(b, ov);
      sb_str(b, " -> ");
      short_value(b, nv);
    }
  }
  ms_free(keys);
}

char *ms_repo_diff_summary(const char *kind, const char *old_json, const char *new_json) {
  (void)kind;
  if (!old_json) return ms_strdup("created");
  if (!new_json) return ms_strdup("deleted");
  ms_jv *o = ms_jv_parse(old_json), *n = ms_jv_parse(new_json);
  sbuf b = {0};
  if (!o || !n || o->t != MS_J_OBJ || n->t != MS_J_OBJ) {
    ms_jv_free(o);
    ms_jv_free(n);
    return ms_strdup(strcmp(old_json, new_json) ? "changed" : "");
  }
  diff_keys(&b, o, n, 0, "");
  ms_jv_free(o);
  ms_jv_free(n);
  if (b.oom) {
    ms_free(b.p);
    return NULL;
  }
  return b.p ? b.p : ms_strdup("");
}
