/* Helpers shared by the definitions parsers (definitions.c, derived_defs.c): typed reads
 * of YAML values that report problems at the value's file:line:col, key checking with
 * "did you mean", and problems placed at a recorded "file:line:col" mark. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "morsel/alloc.h"
#include "repo_int.h"

static const char *const k_dtypes[] = {"bool",   "int32",  "int64",     "float32", "float64",
                                       "string", "bytes",  "timestamp", "date"};
#define N_DTYPES ((int)(sizeof k_dtypes / sizeof *k_dtypes))


char *ms_def_where(const ms_dctx *c, const ms_ynode *n) {
  return ms_asprintf("%s:%d:%d", c->file, n->line, n->col);
}

char *ms_def_str(ms_dctx *c, const ms_ynode *n, const char *what) {
  if (!n || ms_ynode_is_null(n)) return NULL;
  if (n->kind != MS_YN_SCALAR) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be a text value", what);
    return NULL;
  }
  return ms_strdup(n->value);
}

char **ms_def_str_list(ms_dctx *c, const ms_ynode *n, const char *what, int *out_n) {
  *out_n = 0;
  if (!n || ms_ynode_is_null(n)) return NULL;
  if (n->kind != MS_YN_SEQ) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be a list", what);
    return NULL;
  }
  char **v = ms_calloc((size_t)n->n + 1, sizeof *v);
  if (!v) return NULL;
  for (int i = 0; i < n->n; i++) {
    const ms_ynode *it = n->items[i];
    if (it->kind != MS_YN_SCALAR || ms_ynode_is_null(it)) {
      ms_probs_add(c->probs, c->file, it->line, it->col, "each item of %s must be a name", what);
      continue;
    }
    v[(*out_n)++] = ms_strdup(it->value);
  }
  return v;
}

ms_kv_pair *ms_def_kv(ms_dctx *c, const ms_ynode *n, const char *what, int *out_n) {
  *out_n = 0;
  if (!n || ms_ynode_is_null(n)) return NULL;
  if (n->kind != MS_YN_MAP) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be a mapping", what);
    return NULL;
  }
  ms_kv_pair *v = ms_calloc((size_t)n->n + 1, sizeof *v);
  if (!v) return NULL;
  for (int i = 0; i < n->n; i++) {
    const ms_ynode *it = n->items[i];
    if (it->kind != MS_YN_SCALAR) {
      ms_probs_add(c->probs, c->file, it->line, it->col, "values of %s must be text", what);
      continue;
    }
    v[*out_n].key = ms_strdup(n->keys[i]->value);
    v[*out_n].value = ms_strdup(it->value);
    (*out_n)++;
  }
  return v;
}

bool ms_def_bool(ms_dctx *c, const ms_ynode *n, const char *what, bool dflt) {
  if (!n || ms_ynode_is_null(n)) return dflt;
  if (n->kind == MS_YN_SCALAR) {
    const char *s = n->value;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes")) return true;
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no")) return false;
  }
  ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be true or false", what);
  return dflt;
}

bool ms_def_known_dtype(const char *s) {
  for (int i = 0; i < N_DTYPES; i++)
    if (!strcmp(s, k_dtypes[i])) return true;
  return false;
}

char *ms_def_dtype(ms_dctx *c, const ms_ynode *n, const char *what) {
  char *s = ms_def_str(c, n, what);
  if (s && !ms_def_known_dtype(s)) {
    const char *sug = ms_repo_suggest(s, k_dtypes, N_DTYPES);
    ms_probs_add(c->probs, c->file, n->line, n->col,
                 "unknown dtype '%s'%s%s%s (use bool, int32, int64, float32, float64, string, "
                 "bytes, timestamp or date)",
                 s, sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    ms_free(s);
    return NULL;
  }
  return s;
}

/* Checks keys of an item mapping against `known`; reports missing `required` ones. */
bool ms_def_check_keys(ms_dctx *c, const ms_ynode *m, const char *desc, const char *const *known,
                       int n_known, const char *const *required, int n_required) {
  if (m->kind != MS_YN_MAP) {
    ms_probs_add(c->probs, c->file, m->line, m->col, "each item of %s must be a mapping", desc);
    return false;
  }
  for (int i = 0; i < m->n; i++) {
    bool ok = false;
    for (int j = 0; j < n_known; j++)
      if (!strcmp(m->keys[i]->value, known[j])) ok = true;
    if (!ok) ms_repo_unknown_key(c->probs, c->file, m->keys[i], desc, known, n_known);
  }
  for (int j = 0; j < n_required; j++) {
    const ms_ynode *v = ms_ynode_get(m, required[j]);
    if (!v || ms_ynode_is_null(v))
      ms_probs_add(c->probs, c->file, m->line, m->col, "%s item is missing required key '%s'",
                   desc, required[j]);
  }
  return true;
}


void *ms_def_grow(void *arr, int n, size_t size) {
  void *p = ms_realloc(arr, (size_t)(n + 1) * size);
  if (p) memset((char *)p + (size_t)n * size, 0, size);
  return p;
}

static void split_where(const char *where, char *file, size_t fsize, int *line, int *col) {
  /* where = "file:line:col"; the file may itself contain ':' */
  snprintf(file, fsize, "%s", where);
  *line = *col = 0;
  char *c2 = strrchr(file, ':');
  if (!c2) return;
  *col = atoi(c2 + 1);
  *c2 = 0;
  char *c1 = strrchr(file, ':');
  if (!c1) return;
  *line = atoi(c1 + 1);
  *c1 = 0;
}

void ms_def_vprob(ms_probs *p, const char *where, const char *fmt, const char *a,
                  const char *b, const char *d) {
  char file[1024];
  int line, col;
  split_where(where ? where : "?:0:0", file, sizeof file, &line, &col);
  ms_probs_add(p, file, line, col, fmt, a, b, d);
}

void ms_def_prob(ms_probs *p, const char *where, const char *fmt, ...) {
  char file[1024];
  int line, col;
  split_where(where ? where : "?:0:0", file, sizeof file, &line, &col);
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ms_probs_add(p, file, line, col, "%s", msg);
}

const ms_entity_def *ms_def_find_entity(const ms_repo *r, const char *name) {
  for (int i = 0; i < r->n_entities; i++)
    if (r->entities[i].name && !strcmp(r->entities[i].name, name)) return &r->entities[i];
  return NULL;
}


/* The mark of part i when known, else the object's. */
const char *ms_def_at(char **marks, int i, const char *dflt) {
  return marks && marks[i] ? marks[i] : dflt;
}

void ms_def_free_kv(ms_kv_pair *kv, int n) {
  for (int i = 0; i < n; i++) {
    ms_free(kv[i].key);
    ms_free(kv[i].value);
  }
  ms_free(kv);
}
void ms_def_free_strs(char **v, int n) {
  for (int i = 0; i < n; i++) ms_free(v[i]);
  ms_free(v);
}

