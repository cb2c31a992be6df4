/* Path expansion for datasets: recursive directory listing and glob patterns.
 *
 * A glob is split at '/' into segments. The leading segments without wildcards name the
 * base directory; from there each segment is matched against directory entries by
 * ms__glob_match_segment ('*' and '?' never cross a '/', '[...]' is a character class with
 * '!' or '^' negation and ranges, '\' escapes). A segment that is exactly '**' matches zero
 * or more directories, and as the last segment every file below. Hidden and '_' names are
 * skipped by wildcards, as in a directory scan, unless the pattern segment itself starts
 * with that character. Recursion is bounded (symlink loops cannot run forever). Results
 * are unsorted and may hold duplicates (a/ ** /b/ ** patterns); the caller sorts and
 * de-duplicates. */
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset_int.h"
#include "morsel/alloc.h"

#define MS_GLOB_MAX_DEPTH 64

ms_status ms__strvec_push(ms__strvec *v, char *s) {
  if (!s) return MS_ERR_NOMEM;
  if (v->n == v->cap) {
    int64_t cap = v->cap ? v->cap * 2 : 16;
    char **grown = ms_realloc(v->items, sizeof *grown * (size_t)cap);
    if (!grown) { ms_free(s); return MS_ERR_NOMEM; }
    v->items = grown;
    v->cap = cap;
  }
  v->items[v->n++] = s;
  return MS_OK;
}

void ms__strvec_reset(ms__strvec *v) {
  for (int64_t i = 0; i < v->n; i++) ms_free(v->items[i]);
  ms_free(v->items);
  v->items = NULL;
  v->n = v->cap = 0;
}

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void ms__strvec_sort(ms__strvec *v) {
  if (v->n > 1) qsort(v->items, (size_t)v->n, sizeof *v->items, str_cmp);
}

bool ms__glob_has_magic(const char *s) { return strpbrk(s, "*?[") != NULL; }

bool ms__is_hidden_name(const char *name) { return name[0] == '.' || name[0] == '_'; }

/* A directory entry the walk skips: hidden names, except a hive folder `_key=value`
 * (Feast's log partitions are `__log_date=YYYY-MM-DD/`; Arrow does not ignore partition
 * folders for their prefix either). Files starting with '_' stay hidden (_SUCCESS,
 * _morsel_manifest.json). */
static bool skip_entry(const char *name, bool is_dir) {
  if (!ms__is_hidden_name(name)) return false;
  if (!is_dir || name[0] != '_') return true;
  const char *eq = strchr(name, '=');
  return !eq || eq == name;
}

/* Matches a bracket expression starting after '['; *p_end receives the position after ']'.
 * Returns -1 when the class is unterminated (then '[' is a literal). */
static int match_class(const char *p, unsigned char c, const char **p_end) {
  bool negate = false, matched = false;
  if (*p == '!' || *p == '^') { negate = true; p++; }
  bool first = true;
  while (*p && (*p != ']' || first)) {
    first = false;
    unsigned char lo = (unsigned char)*p;
    if (lo == '\\' && p[1]) { p++; lo = (unsigned char)*p; }
    p++;
    unsigned char hi = lo;
    if (*p == '-' && p[1] && p[1] != ']') {
      p++;
      hi = (unsigned char)*p;
      if (hi == '\\' && p[1]) { p++; hi = (unsigned char)*p; }
      p++;
    }
    if (c >= lo && c <= hi) matched = true;
  }
  if (*p != ']') return -1;
  *p_end = p + 1;
  return matched != negate;
}

bool ms__glob_match_segment(const char *pattern, const char *name) {
  const char *p = pattern, *n = name;
  const char *star_p = NULL, *star_n = NULL; /* backtrack point of the last '*' */
  while (*n) {
    if (*p == '*') {
      while (*p == '*') p++;
      if (!*p) return true;
      star_p = p;
      star_n = n;
      continue;
    }
    bool ok = false;
    const char *next = p + 1;
    if (*p == '?') {
      ok = true;
    } else if (*p == '[') {
      int m = match_class(p + 1, (unsigned char)*n, &next);
      if (m < 0) { ok = *n == '['; next = p + 1; }
      else ok = m == 1;
    } else if (*p == '\\' && p[1]) {
      ok = p[1] == *n;
      next = p + 2;
    } else if (*p) {
      ok = *p == *n;
    }
    if (ok) {
      p = next;
      n++;
    } else if (star_p) {
      p = star_p;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (*p == '*') p++;
  return *p == '\0';
}

static char *join_path(const char *dir, const char *name) {
  size_t dl = strlen(dir);
  if (dl == 0) return ms_strdup(name);
  if (dir[dl - 1] == '/') return ms_asprintf("%s%s", dir, name);
  return ms_asprintf("%s/%s", dir, name);
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* Lists dir ("" = the current directory). */
static ms_status list_dir(ms_fs *fs, const char *dir, ms_file_info **out, int64_t *n,
                          ms_error *err) {
  return ms_fs_list(fs, dir[0] ? dir : ".", out, n, err);
}

static ms_status list_rec(ms_fs *fs, const char *dir, ms__strvec *out, int depth, ms_error *err) {
  if (depth > MS_GLOB_MAX_DEPTH) {
    ms_error_set_file(err, dir);
    return ms_error_set(err, MS_ERR_LIMIT, "directories nested deeper than %d levels (a symlink loop?)",
                        MS_GLOB_MAX_DEPTH);
  }
  ms_file_info *infos;
  int64_t n;
  ms_status st = list_dir(fs, dir, &infos, &n, err);
  if (st) return st;
  for (int64_t i = 0; i < n && st == MS_OK; i++) {
    const char *name = base_name(infos[i].path);
    if (skip_entry(name, infos[i].is_dir)) continue;
    char *full = join_path(dir, name);
    if (!full) { st = ms_error_set(err, MS_ERR_NOMEM, "out of memory"); break; }
    if (infos[i].is_dir) {
      st = list_rec(fs, full, out, depth + 1, err);
      ms_free(full);
    } else if (ms__strvec_push(out, full) != MS_OK) {
      st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    }
  }
  ms_file_infos_free(infos, n);
  return st;
}

ms_status ms__list_files_recursive(ms_fs *fs, const char *dir, ms__strvec *out, ms_error *err) {
  return list_rec(fs, dir, out, 0, err);
}

typedef struct glob_ctx {
  ms_fs *fs;
  char **segs;
  int n_segs;
  ms__strvec *out;
  ms_error *err;
} glob_ctx;

static ms_status walk(glob_ctx *g, const char *dir, int i, int depth) {
  if (depth > MS_GLOB_MAX_DEPTH) {
    ms_error_set_file(g->err, dir);
    return ms_error_set(g->err, MS_ERR_LIMIT, "glob descends deeper than %d levels (a symlink loop?)",
                        MS_GLOB_MAX_DEPTH);
  }
  const char *seg = g->segs[i];
  bool last = i == g->n_segs - 1;
  if (seg[0] == '\0') return last ? MS_OK : walk(g, dir, i + 1, depth); /* "a//b" */
  if (strcmp(seg, "**") == 0) {
    if (last) {
      ms_error sub;
      ms_error_init(&sub);
      ms_status st = list_rec(g->fs, dir, g->out, depth, &sub);
      if (st == MS_ERR_NOT_FOUND) return MS_OK;
      if (st && g->err) *g->err = sub;
      return st;
    }
    ms_status st = walk(g, dir, i + 1, depth);
    if (st) return st;
    ms_file_info *infos;
    int64_t n;
    if (list_dir(g->fs, dir, &infos, &n, NULL) != MS_OK) return MS_OK;
    for (int64_t k = 0; k < n && st == MS_OK; k++) {
      const char *name = base_name(infos[k].path);
      if (!infos[k].is_dir || skip_entry(name, true)) continue;
      char *full = join_path(dir, name);
      if (!full) { st = ms_error_set(g->err, MS_ERR_NOMEM, "out of memory"); break; }
      st = walk(g, full, i, depth + 1);
      ms_free(full);
    }
    ms_file_infos_free(infos, n);
    return st;
  }
  if (!ms__glob_has_magic(seg)) {
    char *full = join_path(dir, seg);
    if (!full) return ms_error_set(g->err, MS_ERR_NOMEM, "out of memory");
    ms_file_info info = {0};
    ms_status st = MS_OK;
    if (ms_fs_stat(g->fs, full, &info, NULL) == MS_OK) {
      if (last && !info.is_dir) {
        st = ms__strvec_push(g->out, full);
        full = NULL;
        if (st) st = ms_error_set(g->err, MS_ERR_NOMEM, "out of memory");
      } else if (!last && info.is_dir) {
        st = walk(g, full, i + 1, depth + 1);
      }
      ms_free(info.path);
    }
    ms_free(full);
    return st;
  }
  ms_file_info *infos;
  int64_t n;
  if (list_dir(g->fs, dir, &infos, &n, NULL) != MS_OK) return MS_OK; /* no such directory */
  ms_status st = MS_OK;
  for (int64_t k = 0; k < n && st == MS_OK; k++) {
    const char *name = base_name(infos[k].path);
    if (ms__is_hidden_name(name) && seg[0] != name[0]) continue;
    if (!ms__glob_match_segment(seg, name)) continue;
    if (last && infos[k].is_dir) continue;
    if (!last && !infos[k].is_dir) continue;
    char *full = join_path(dir, name);
    if (!full) { st = ms_error_set(g->err, MS_ERR_NOMEM, "out of memory"); break; }
    if (last) {
      if (ms__strvec_push(g->out, full) != MS_OK) st = ms_error_set(g->err, MS_ERR_NOMEM, "out of memory");
    } else {
      st = walk(g, full, i + 1, depth + 1);
      ms_free(full);
    }
  }
  ms_file_infos_free(infos, n);
  return st;
}

ms_status ms__glob_expand(ms_fs *fs, const char *pattern, ms__strvec *out, char **out_base,
                          ms_error *err) {
  *out_base = NULL;
  char *copy = ms_strdup(pattern);
  if (!copy) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  /* Split into segments; an absolute pattern keeps "/" as its base. */
  int n_segs = 0, cap = 8;
  char **segs = ms_malloc(sizeof *segs * (size_t)cap);
  if (!segs) { ms_free(copy); return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }
  char *p = copy;
  bool absolute = *p == '/';
  while (*p == '/') p++;
  for (;;) {
    if (n_segs == cap) {
      char **grown = ms_realloc(segs, sizeof *segs * (size_t)(cap * 2));
      if (!grown) { ms_free(segs); ms_free(copy); return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }
      segs = grown;
      cap *= 2;
    }
    segs[n_segs++] = p;
    char *slash = strchr(p, '/');
    if (!slash) break;
    *slash = '\0';
    p = slash + 1;
  }
  /* The literal prefix: segments before the first one with a wildcard. */
  int first_magic = 0;
  while (first_magic < n_segs && !ms__glob_has_magic(segs[first_magic])) first_magic++;
  if (first_magic == n_segs) first_magic = n_segs - 1;
  size_t base_len = 0;
  for (int i = 0; i < first_magic; i++) base_len += strlen(segs[i]) + 1;
  char *base = ms_malloc(base_len + 2);
  ms_status st = MS_OK;
  if (!base) {
    st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  } else {
    base[0] = '\0';
    if (absolute) strcpy(base, "/");
    for (int i = 0; i < first_magic; i++) {
      if (!segs[i][0]) continue;
      size_t bl = strlen(base);
      if (bl > 0 && base[bl - 1] != '/') strcat(base, "/");
      strcat(base, segs[i]);
    }
    glob_ctx g = {fs, segs + first_magic, n_segs - first_magic, out, err};
    st = walk(&g, base, 0, 0);
  }
  ms_free(segs);
  ms_free(copy);
  if (st) { ms_free(base); return st; }
  *out_base = base;
  return MS_OK;
}

void ms__url_decode(char *s) {
  char *w = s;
  for (const char *r = s; *r; r++) {
    if (r[0] == '%' && r[1] && r[2]) {
      int hi = -1, lo = -1;
      char a = r[1], b = r[2];
      if (a >= '0' && a <= '9') hi = a - '0';
      else if (a >= 'a' && a <= 'f') hi = a - 'a' + 10;
      else if (a >= 'A' && a <= 'F') hi = a - 'A' + 10;
      if (b >= '0' && b <= '9') lo = b - '0';
      else if (b >= 'a' && b <= 'f') lo = b - 'a' + 10;
      else if (b >= 'A' && b <= 'F') lo = b - 'A' + 10;
      if (hi >= 0 && lo >= 0 && (hi | lo) != 0) { /* %00 would cut the string: kept */
        *w++ = (char)(hi * 16 + lo);
        r += 2;
        continue;
      }
    }
    *w++ = *r;
  }
  *w = '\0';
}
