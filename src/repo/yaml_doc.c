/* A small YAML document tree over libyaml's event parser, keeping line:column marks.
 *
 * libyaml reports 0-based marks; the tree stores them 1-based so that every message can
 * say "file:line:col". Only what repository files need is kept: scalars (with whether they
 * were plain, for null detection), sequences and mappings whose keys are scalars. Aliases
 * are refused (they would let a tiny file expand without bound), nesting is limited, and a
 * key repeated in one mapping is a problem (libyaml accepts it silently). Also here: the
 * problem list, ${ENV_VAR} substitution and "did you mean" suggestions. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "morsel/alloc.h"
#include "repo_int.h"

#define MS_YAML_MAX_DEPTH 64

void ms_probs_add(ms_probs *p, const char *file, int line, int col, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (p->n == p->cap) {
    int cap = p->cap ? p->cap * 2 : 8;
    char **v = ms_realloc(p->v, (size_t)cap * sizeof *v);
    if (!v) return; /* out of memory: the problem is dropped, the load still fails */
    p->v = v;
    p->cap = cap;
  }
  char *s = line > 0 ? ms_asprintf("%s:%d:%d: %s", file, line, col, msg)
                     : ms_asprintf("%s: %s", file, msg);
  if (s) p->v[p->n++] = s;
}

void ms_probs_free(ms_probs *p) {
  for (int i = 0; i < p->n; i++) ms_free(p->v[i]);
  ms_free(p->v);
  memset(p, 0, sizeof *p);
}

void ms_ynode_free(ms_ynode *n) {
  if (!n) return;
  for (int i = 0; i < n->n; i++) {
    ms_ynode_free(n->items[i]);
    if (n->keys) ms_ynode_free(n->keys[i]);
  }
  ms_free(n->items);
  ms_free(n->keys);
  ms_free(n->value);
  ms_free(n);
}

bool ms_ynode_is_null(const ms_ynode *n) {
  if (!n) return true;
  if (n->kind != MS_YN_SCALAR || !n->plain) return false;
  const char *v = n->value;
  return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
         !strcmp(v, "NULL");
}

ms_ynode *ms_ynode_get(const ms_ynode *map, const char *key) {
  if (!map || map->kind != MS_YN_MAP) return NULL;
  for (int i = 0; i < map->n; i++)
    if (!strcmp(map->keys[i]->value, key)) return map->items[i];
  return NULL;
}

typedef struct yparse {
  yaml_parser_t parser;
  const char *file;
  ms_probs *probs;
  bool failed;
} yparse;

static ms_ynode *node_new(ms_yn_kind kind, yaml_mark_t mark) {
  ms_ynode *n = ms_calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->line = (int)mark.line + 1;
  n->col = (int)mark.column + 1;
  return n;
}

static bool next_event(yparse *y, yaml_event_t *ev) {
  if (!yaml_parser_parse(&y->parser, ev)) {
    const yaml_parser_t *p = &y->parser;
    yaml_mark_t m = p->problem_mark;
    ms_probs_add(y->probs, y->file, (int)m.line + 1, (int)m.column + 1, "YAML error: %s%s%s",
                 p->problem ? p->problem : "malformed YAML", p->context ? " " : "",
                 p->context ? p->context : "");
    y->probs->yaml_error = true;
    y->failed = true;
    return false;
  }
  return true;
}

static bool node_append(ms_ynode *parent, ms_ynode *key, ms_ynode *val) {
  ms_ynode **items = ms_realloc(parent->items, (size_t)(parent->n + 1) * sizeof *items);
  if (!items) return false;
  parent->items = items;
  if (key) {
    ms_ynode **keys = ms_realloc(parent->keys, (size_t)(parent->n + 1) * sizeof *keys);
    if (!keys) return false;
    parent->keys = keys;
    keys[parent->n] = key;
  }
  items[parent->n++] = val;
  return true;
}

/* Builds the node that starts with event ev (consumed by this call). */
static ms_ynode *build(yparse *y, yaml_event_t *ev, int depth) {
  if (depth > MS_YAML_MAX_DEPTH) {
    ms_probs_add(y->probs, y->file, (int)ev->start_mark.line + 1,
                 (int)ev->start_mark.column + 1, "YAML nesting deeper than %d levels",
                 MS_YAML_MAX_DEPTH);
    y->failed = true;
    return NULL;
  }
  ms_ynode *n = NULL;
  switch (ev->type) {
  case YAML_SCALAR_EVENT:
    n = node_new(MS_YN_SCALAR, ev->start_mark);
    if (!n) break;
    n->value = ms_strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (!n->value) {
      ms_free(n);
      n = NULL;
    }
    break;
  case YAML_ALIAS_EVENT:
    ms_probs_add(y->probs, y->file, (int)ev->start_mark.line + 1,
                 (int)ev->start_mark.column + 1, "YAML aliases (*name) are not supported");
    y->failed = true;
    break;
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT: {
    bool is_map = ev->type == YAML_MAPPING_START_EVENT;
    n = node_new(is_map ? MS_YN_MAP : MS_YN_SEQ, ev->start_mark);
    yaml_event_delete(ev); /* the start event may own an anchor or tag */
    if (!n) {
      y->failed = true;
      return NULL;
    }
    for (;;) {
      yaml_event_t child;
      if (!next_event(y, &child)) break;
      if (child.type == YAML_SEQUENCE_END_EVENT || child.type == YAML_MAPPING_END_EVENT) {
        yaml_event_delete(&child);
        return n;
      }
      ms_ynode *key = NULL;
      if (is_map) {
        key = build(y, &child, depth + 1);
        if (!key) break;
        if (key->kind != MS_YN_SCALAR) {
          ms_probs_add(y->probs, y->file, key->line, key->col, "mapping keys must be plain text");
          y->failed = true;
          ms_ynode_free(key);
          break;
        }
        if (!next_event(y, &child)) {
          ms_ynode_free(key);
          break;
        }
      }
      ms_ynode *val = build(y, &child, depth + 1);
      if (!val) {
        ms_ynode_free(key);
        break;
      }
      if (key) {
        const ms_ynode *dup = NULL;
        for (int i = 0; i < n->n; i++)
          if (!strcmp(n->keys[i]->value, key->value)) dup = n->keys[i];
        if (dup) {
          ms_probs_add(y->probs, y->file, key->line, key->col,
                       "duplicate key '%s' (first at line %d, column %d)", key->value,
                       dup->line, dup->col);
          y->failed = true;
        }
      }
      if (!node_append(n, key, val)) {
        ms_ynode_free(key);
        ms_ynode_free(val);
        break;
      }
    }
    ms_ynode_free(n);
    y->failed = true;
    return NULL;
  }
  default:
    break;
  }
  yaml_event_delete(ev);
  if (!n) y->failed = true;
  return n;
}

bool ms_ydoc_parse(const char *file, const char *text, size_t len, ms_ynode **out,
                   ms_probs *probs) {
  *out = NULL;
  yparse y = {.file = file, .probs = probs};
  if (!yaml_parser_initialize(&y.parser)) {
    ms_probs_add(probs, file, 0, 0, "out of memory starting the YAML parser");
    return false;
  }
  yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
  ms_ynode *root = NULL;
  int before = probs->n;
  for (;;) {
    yaml_event_t ev;
    if (!next_event(&y, &ev)) break;
    yaml_event_type_t t = ev.type;
    if (t == YAML_STREAM_END_EVENT) {
      yaml_event_delete(&ev);
      break;
    }
    if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT ||
        t == YAML_SCALAR_EVENT || t == YAML_ALIAS_EVENT) {
      if (root) { /* a second document: refuse rather than silently ignore it */
        ms_probs_add(probs, file, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                     "only one YAML document per file is supported");
        yaml_event_delete(&ev);
        y.failed = true;
        break;
      }
      root = build(&y, &ev, 0);
      if (!root) break;
      continue;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&y.parser);
  if (y.failed || probs->n > before) {
    if (probs->n == before) ms_probs_add(probs, file, 0, 0, "out of memory reading YAML");
    ms_ynode_free(root);
    return false;
  }
  *out = root;
  return true;
}

/* ${VAR} -> value; $$ -> $; other '$' are kept. */
static void subst_scalar(const char *file, ms_ynode *n, ms_probs *probs) {
  const char *v = n->value;
  if (!strchr(v, '$')) return;
  size_t cap = strlen(v) + 1, len = 0;
  char *out = ms_malloc(cap);
  if (!out) return;
  for (const char *p = v; *p;) {
    const char *piece = p;
    size_t plen = 1;
    if (p[0] == '$' && p[1] == '$') {
      p += 2;
    } else if (p[0] == '$' && p[1] == '{') {
      const char *end = strchr(p + 2, '}');
      if (!end) {
        ms_probs_add(probs, file, n->line, n->col, "unterminated '${' in '%s'", v);
        ms_free(out);
        return;
      }
      char name[256];
      size_t nl = (size_t)(end - p - 2);
      if (nl == 0 || nl >= sizeof name) {
        ms_probs_add(probs, file, n->line, n->col, "bad environment variable reference in '%s'",
                     v);
        ms_free(out);
        return;
      }
      memcpy(name, p + 2, nl);
      name[nl] = 0;
      piece = getenv(name);
      if (!piece) {
        ms_probs_add(probs, file, n->line, n->col, "environment variable '%s' is not set", name);
        ms_free(out);
        return;
      }
      plen = strlen(piece);
      p = end + 1;
    } else {
      p++;
    }
    if (len + plen + 1 > cap) {
      size_t ncap = (len + plen + 1) * 2;
      char *o = ms_realloc(out, ncap);
      if (!o) {
        ms_free(out);
        return;
      }
      out = o;
      cap = ncap;
    }
    memcpy(out + len, piece, plen);
    len += plen;
  }
  out[len] = 0;
  ms_free(n->value);
  n->value = out;
  n->plain = false; /* a substituted value is data, never YAML null */
}

void ms_ydoc_subst_env(const char *file, ms_ynode *n, ms_probs *probs) {
  if (!n) return;
  if (n->kind == MS_YN_SCALAR) {
    subst_scalar(file, n, probs);
    return;
  }
  for (int i = 0; i < n->n; i++) ms_ydoc_subst_env(file, n->items[i], probs);
}

static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return 1000;
  int row[65];
  for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int prev = row[0];
    row[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int cur = row[j];
      int best = prev + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best) best = row[j] + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      prev = cur;
    }
  }
  return row[lb];
}

const char *ms_repo_suggest(const char *word, const char *const *cands, int n_cands) {
  const char *best = NULL;
  int best_d = 1000;
  for (int i = 0; i < n_cands; i++) {
    int d = edit_distance(word, cands[i]);
    if (d < best_d) {
      best_d = d;
      best = cands[i];
    }
  }
  int len = (int)strlen(word);
  if (best && (best_d <= 2 || best_d * 3 <= len) && best_d < len) return best;
  return NULL;
}

void ms_repo_unknown_key(ms_probs *p, const char *file, const ms_ynode *key,
                         const char *where_desc, const char *const *known, int n_known) {
  const char *s = ms_repo_suggest(key->value, known, n_known);
  if (s)
    ms_probs_add(p, file, key->line, key->col, "unknown key '%s' in %s; did you mean '%s'?",
                 key->value, where_desc, s);
  else
    ms_probs_add(p, file, key->line, key->col, "unknown key '%s' in %s", key->value,
                 where_desc);
}
