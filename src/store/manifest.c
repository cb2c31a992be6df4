/* The manifest of a managed dataset: `<root>/_morsel_manifest.json` (docs/storage.md).
 *
 * Format (one JSON object; one line per file so a diff of two generations reads well):
 *
 *   {"format":"morsel-manifest","version":1,"generation":3,"kind":"compact",
 *    "committed_at":"2026-11-24T03:15:00.123456789Z","committed_at_ns":1795490100123456789,
 *   "files":[
 *   {"path":"d=2024-01-01/part-….m3f9a0c1d2e4b5a6f.parquet","rows":100,"bytes":2048,"generation":1},
 *   ...],
 *   "removed":[
 *   {"path":"…","rows":10,"bytes":512,"generation":3,"removed_at_ns":1795490100123456789}]}
 *
 * The reader is a small strict parser of its own (no dependency, and it reports the byte
 * offset of what is wrong): any JSON whitespace and key order, unknown keys skipped (a
 * later morsel may add some), integers only where integers belong, `version` above 1
 * refused as written by a newer morsel. Paths must be relative, '/'-separated, without
 * "." or ".." segments and unique; files come back sorted by path. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "morsel/alloc.h"
#include "morsel/fs.h"
#include "store/store_int.h"

#define MS_MANIFEST_FORMAT "morsel-manifest"
#define MS_MANIFEST_VERSION 1

/* ---------------------------------------------------------------- names */

static bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool ms_store_is_token_name(const char *base_name) {
  if (!base_name) return false;
  const char *slash = strrchr(base_name, '/');
  if (slash) base_name = slash + 1;
  size_t n = strlen(base_name);
  /* ".m" + 16 hex + "." */
  for (size_t i = 0; i + 19 <= n; i++) {
    if (base_name[i] != '.' || base_name[i + 1] != 'm' || base_name[i + 18] != '.') continue;
    bool ok = i > 0; /* a stem before the token: hidden ".m…" names are temporaries */
    for (size_t k = 0; ok && k < 16; k++) ok = is_lower_hex(base_name[i + 2 + k]);
    if (ok) return true;
  }
  return false;
}

bool ms__store_rel_path_ok(const char *rel) {
  if (!rel || !*rel || rel[0] == '/') return false;
  const char *p = rel;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len == 0) return false;
    if (len == 1 && p[0] == '.') return false;
    if (len == 2 && p[0] == '.' && p[1] == '.') return false;
    if (!slash) return true;
    p = slash + 1;
  }
}

void ms_manifest_reset(ms_manifest *m) {
  if (!m) return;
  for (int i = 0; i < m->n_files; i++) ms_free(m->files[i].path);
  for (int i = 0; i < m->n_removed; i++) ms_free(m->removed[i].path);
  ms_free(m->files);
  ms_free(m->removed);
  ms_free(m->removed_at_ns);
  memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------- parser */

typedef struct mparse {
  const char *s;
  size_t n, i;
  const char *display;
  ms_error *err;
  ms_status st;
} mparse;

static bool fail_at(mparse *p, size_t at, ms_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail_at(mparse *p, size_t at, ms_status st, const char *fmt, ...) {
  if (p->st != MS_OK) return false;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  p->st = st;
  ms_error_set_file(p->err, p->display);
  ms_error_set_byte_offset(p->err, (int64_t)at);
  ms_error_set(p->err, st, "malformed manifest: %s", msg);
  return false;
}

#define FAIL(p, ...) fail_at((p), (p)->i, MS_ERR_CORRUPT, __VA_ARGS__)

static void ws(mparse *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\n' || p->s[p->i] == '\r' ||
                         p->s[p->i] == '\t'))
    p->i++;
}

static int peek(mparse *p) {
  ws(p);
  return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

static bool expect(mparse *p, char c) {
  if (peek(p) != (unsigned char)c) {
    if (p->i >= p->n) return FAIL(p, "unexpected end of file, expected '%c'", c);
    return FAIL(p, "expected '%c'", c);
  }
  p->i++;
  return true;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool hex4(mparse *p, unsigned *out) {
  if (p->i + 4 > p->n) return FAIL(p, "truncated \\u escape");
  unsigned v = 0;
  for (int k = 0; k < 4; k++) {
    int h = hexval(p->s[p->i + (size_t)k]);
    if (h < 0) return FAIL(p, "bad \\u escape");
    v = v * 16 + (unsigned)h;
  }
  p->i += 4;
  *out = v;
  return true;
}

/* A JSON string; *out (may be NULL to skip) is a new NUL-terminated string. */
static bool str(mparse *p, char **out) {
  if (out) *out = NULL;
  if (peek(p) != '"') return p->i >= p->n ? FAIL(p, "unexpected end of file, expected a string")
                                          : FAIL(p, "expected a string");
  size_t start = ++p->i;
  char *buf = out ? ms_malloc(p->n - start + 1) : NULL;
  if (out && !buf) return fail_at(p, start, MS_ERR_NOMEM, "out of memory");
  size_t w = 0;
  for (;;) {
    if (p->i >= p->n) {
      ms_free(buf);
      return FAIL(p, "unterminated string (opened at byte %zu)", start - 1);
    }
    unsigned char c = (unsigned char)p->s[p->i];
    if (c == '"') break;
    if (c < 0x20) {
      ms_free(buf);
      return FAIL(p, "control character in a string");
    }
    if (c != '\\') {
      if (buf) buf[w++] = (char)c;
      p->i++;
      continue;
    }
    p->i++;
    if (p->i >= p->n) {
      ms_free(buf);
      return FAIL(p, "unterminated escape");
    }
    char e = p->s[p->i++];
    unsigned cp = 0;
    switch (e) {
    case '"': cp = '"'; break;
    case '\\': cp = '\\'; break;
    case '/': cp = '/'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'u':
      if (!hex4(p, &cp)) {
        ms_free(buf);
        return false;
      }
      if (cp >= 0xD800 && cp < 0xDC00 && p->i + 6 <= p->n && p->s[p->i] == '\\' &&
          p->s[p->i + 1] == 'u') {
        p->i += 2;
        unsigned lo;
        if (!hex4(p, &lo)) {
          ms_free(buf);
          return false;
        }
        if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      if (cp == 0) {
        ms_free(buf);
        return FAIL(p, "\\u0000 in a string");
      }
      break;
    default:
      p->i -= 2; /* point at the backslash */
      ms_free(buf);
      return FAIL(p, "bad escape '\\%c'", e);
    }
    if (!buf) continue;
    /* UTF-8 of cp; every escape is at least as long as its encoding, so buf fits. */
    if (cp < 0x80) {
      buf[w++] = (char)cp;
    } else if (cp < 0x800) {
      buf[w++] = (char)(0xC0 | (cp >> 6));
      buf[w++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      buf[w++] = (char)(0xE0 | (cp >> 12));
      buf[w++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      buf[w++] = (char)(0x80 | (cp & 0x3F));
    } else {
      buf[w++] = (char)(0xF0 | (cp >> 18));
      buf[w++] = (char)(0x80 | ((cp >> 12) & 0x3F));
      buf[w++] = (char)(0x80 | ((cp >> 6) & 0x3F));
      buf[w++] = (char)(0x80 | (cp & 0x3F));
    }
  }
  p->i++; /* closing quote */
  if (buf) {
    buf[w] = '\0';
    *out = buf;
  }
  return true;
}

/* An integer (no fraction, no exponent) within int64. */
static bool integer(mparse *p, const char *key, int64_t *out) {
  int c = peek(p);
  size_t start = p->i;
  if (c != '-' && !(c >= '0' && c <= '9'))
    return FAIL(p, "\"%s\" must be an integer", key);
  bool neg = c == '-';
  if (neg) p->i++;
  if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9')
    return FAIL(p, "\"%s\" must be an integer", key);
  uint64_t v = 0;
  while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
    unsigned d = (unsigned)(p->s[p->i] - '0');
    if (v > (UINT64_MAX - d) / 10) return fail_at(p, start, MS_ERR_CORRUPT, "\"%s\" is out of range", key);
    v = v * 10 + d;
    p->i++;
  }
  if (p->i < p->n && (p->s[p->i] == '.' || p->s[p->i] == 'e' || p->s[p->i] == 'E'))
    return fail_at(p, start, MS_ERR_CORRUPT, "\"%s\" must be an integer", key);
  if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
    return fail_at(p, start, MS_ERR_CORRUPT, "\"%s\" is out of range", key);
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

/* Skips any JSON value (for keys this version does not know). */
static bool skip_value(mparse *p, int depth) {
  if (depth > 32) return FAIL(p, "nested too deeply");
  int c = peek(p);
  if (c == '"') return str(p, NULL);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    p->i++;
    if (peek(p) == close) {
      p->i++;
      return true;
    }
    for (;;) {
      if (c == '{' && (!str(p, NULL) || !expect(p, ':'))) return false;
      if (!skip_value(p, depth + 1)) return false;
      int d = peek(p);
      if (d == ',') {
        p->i++;
        continue;
      }
      if (d == close) {
        p->i++;
        return true;
      }
      return FAIL(p, "expected ',' or '%c'", close);
    }
  }
  static const char *const words[] = {"true", "false", "null"};
  for (int k = 0; k < 3; k++) {
    size_t l = strlen(words[k]);
    if (p->i + l <= p->n && memcmp(p->s + p->i, words[k], l) == 0) {
      p->i += l;
      return true;
    }
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    p->i++;
    while (p->i < p->n && strchr("0123456789.eE+-", p->s[p->i]) && p->s[p->i]) p->i++;
    return true;
  }
  if (c < 0) return FAIL(p, "unexpected end of file");
  return FAIL(p, "unexpected character '%c'", (char)c);
}

typedef struct flist {
  ms_store_file *f;
  int64_t *at;
  int n, cap;
} flist;

static bool push_file(mparse *p, flist *l, const ms_store_file *f, int64_t at) {
  if (l->n == l->cap) {
    int nc = l->cap ? l->cap * 2 : 16;
    ms_store_file *nf = ms_realloc(l->f, (size_t)nc * sizeof *nf);
    if (nf) l->f = nf;
    int64_t *na = ms_realloc(l->at, (size_t)nc * sizeof *na);
    if (na) l->at = na;
    if (!nf || !na) return fail_at(p, p->i, MS_ERR_NOMEM, "out of memory");
    l->cap = nc;
  }
  l->f[l->n] = *f;
  l->at[l->n] = at;
  l->n++;
  return true;
}

/* One {"path":…, "rows":…, "bytes":…, "generation":…, "removed_at_ns":…} entry. */
static bool file_entry(mparse *p, flist *l, bool removed) {
  size_t start = p->i;
  if (!expect(p, '{')) return false;
  ms_store_file f = {0};
  int64_t at = 0;
  bool have_gen = false, have_at = false;
  if (peek(p) == '}') {
    p->i++;
  } else {
    for (;;) {
      char *key;
      size_t key_at = p->i;
      if (!str(p, &key)) goto fail;
      bool ok = expect(p, ':');
      if (ok && !strcmp(key, "path")) {
        if (f.path) ok = fail_at(p, key_at, MS_ERR_CORRUPT, "duplicate key \"path\"");
        size_t at_path = p->i;
        ws(p);
        at_path = p->i;
        if (ok) ok = str(p, &f.path);
        if (ok && !ms__store_rel_path_ok(f.path))
          ok = fail_at(p, at_path, MS_ERR_CORRUPT,
                       "file path '%s' is not a relative path inside the dataset", f.path);
      } else if (ok && !strcmp(key, "rows")) {
        ok = integer(p, key, &f.rows);
      } else if (ok && !strcmp(key, "bytes")) {
        ok = integer(p, key, &f.bytes);
      } else if (ok && !strcmp(key, "generation")) {
        ok = integer(p, key, &f.generation);
        have_gen = true;
      } else if (ok && !strcmp(key, "removed_at_ns")) {
        ok = integer(p, key, &at);
        have_at = true;
      } else if (ok) {
        ok = skip_value(p, 1);
      }
      ms_free(key);
      if (!ok) goto fail;
      int c = peek(p);
      if (c == ',') {
        p->i++;
        continue;
      }
      if (c == '}') {
        p->i++;
        break;
      }
      FAIL(p, "expected ',' or '}' in a file entry");
      goto fail;
    }
  }
  if (!f.path) {
    fail_at(p, start, MS_ERR_CORRUPT, "file entry without \"path\"");
    goto fail;
  }
  if (!have_gen || f.generation < 1 || f.rows < 0 || f.bytes < 0) {
    fail_at(p, start, MS_ERR_CORRUPT,
            "file entry '%s' needs \"generation\" >= 1 and non-negative \"rows\" and \"bytes\"",
            f.path);
    goto fail;
  }
  if (removed && !have_at) {
    fail_at(p, start, MS_ERR_CORRUPT, "removed entry '%s' without \"removed_at_ns\"", f.path);
    goto fail;
  }
  if (push_file(p, l, &f, at)) return true;
fail:
  ms_free(f.path);
  return false;
}

static bool file_array(mparse *p, flist *l, bool removed) {
  if (!expect(p, '[')) return false;
  if (peek(p) == ']') {
    p->i++;
    return true;
  }
  for (;;) {
    if (!file_entry(p, l, removed)) return false;
    int c = peek(p);
    if (c == ',') {
      p->i++;
      continue;
    }
    if (c == ']') {
      p->i++;
      return true;
    }
    return FAIL(p, "expected ',' or ']' in the %s list", removed ? "removed" : "files");
  }
}

static int file_cmp(const void *a, const void *b) {
  return strcmp(((const ms_store_file *)a)->path, ((const ms_store_file *)b)->path);
}

static void flist_free(flist *l) {
  for (int i = 0; i < l->n; i++) ms_free(l->f[i].path);
  ms_free(l->f);
  ms_free(l->at);
}

ms_status ms__manifest_parse(const char *text, size_t len, const char *display,
                             ms_manifest *out, ms__manifest_meta *meta, ms_error *err) {
  memset(out, 0, sizeof *out);
  if (meta) memset(meta, 0, sizeof *meta);
  mparse p = {text, len, 0, display, err, MS_OK};
  flist files = {0}, removed = {0};
  bool have_gen = false, have_format = false, have_version = false;
  bool have_files = false, have_removed = false;
  int64_t gen = 0;
  bool ok = expect(&p, '{');
  if (ok && peek(&p) == '}') {
    p.i++;
  } else {
    while (ok) {
      char *key;
      size_t key_at;
      ws(&p);
      key_at = p.i;
      if (!(ok = str(&p, &key))) break;
      ok = expect(&p, ':');
      if (ok && !strcmp(key, "format")) {
        char *f = NULL;
        ws(&p);
        size_t at = p.i;
        ok = str(&p, &f);
        if (ok && strcmp(f, MS_MANIFEST_FORMAT))
          ok = fail_at(&p, at, MS_ERR_CORRUPT, "\"format\" is '%s', expected '%s'", f,
                       MS_MANIFEST_FORMAT);
        ms_free(f);
        have_format = true;
      } else if (ok && !strcmp(key, "version")) {
        int64_t v;
        ws(&p);
        size_t at = p.i;
        ok = integer(&p, key, &v);
        if (ok && v > MS_MANIFEST_VERSION)
          ok = fail_at(&p, at, MS_ERR_UNSUPPORTED,
                       "version %lld was written by a newer morsel (this build reads %d)",
                       (long long)v, MS_MANIFEST_VERSION);
        else if (ok && v < 1)
          ok = fail_at(&p, at, MS_ERR_CORRUPT, "bad version %lld", (long long)v);
        have_version = true;
      } else if (ok && !strcmp(key, "generation")) {
        ws(&p);
        size_t at = p.i;
        ok = integer(&p, key, &gen);
        if (ok && gen < 1) ok = fail_at(&p, at, MS_ERR_CORRUPT, "\"generation\" must be >= 1");
        have_gen = true;
      } else if (ok && !strcmp(key, "kind")) {
        char *k = NULL;
        ok = str(&p, &k);
        if (ok && meta) snprintf(meta->kind, sizeof meta->kind, "%s", k);
        ms_free(k);
      } else if (ok && !strcmp(key, "committed_at_ns")) {
        int64_t v;
        ok = integer(&p, key, &v);
        if (ok && meta) meta->committed_at_ns = v;
      } else if (ok && !strcmp(key, "files")) {
        if (have_files) ok = fail_at(&p, key_at, MS_ERR_CORRUPT, "duplicate key \"files\"");
        if (ok) ok = file_array(&p, &files, false);
        have_files = true;
      } else if (ok && !strcmp(key, "removed")) {
        if (have_removed) ok = fail_at(&p, key_at, MS_ERR_CORRUPT, "duplicate key \"removed\"");
        if (ok) ok = file_array(&p, &removed, true);
        have_removed = true;
      } else if (ok) {
        ok = skip_value(&p, 1);
      }
      ms_free(key);
      if (!ok) break;
      int c = peek(&p);
      if (c == ',') {
        p.i++;
        continue;
      }
      if (c == '}') {
        p.i++;
        break;
      }
      ok = FAIL(&p, c < 0 ? "unexpected end of file, expected ',' or '}'" : "expected ',' or '}'");
    }
  }
  if (ok && peek(&p) >= 0) ok = FAIL(&p, "text after the manifest object");
  if (ok && (!have_format || !have_version || !have_gen || !have_files))
    ok = fail_at(&p, 0, MS_ERR_CORRUPT, "missing \"%s\"",
                 !have_format ? "format" : !have_version ? "version" : !have_gen ? "generation"
                                                                                   : "files");
  if (ok && files.n > 0) {
    qsort(files.f, (size_t)files.n, sizeof *files.f, file_cmp);
    for (int i = 1; ok && i < files.n; i++)
      if (!strcmp(files.f[i - 1].path, files.f[i].path))
        ok = fail_at(&p, 0, MS_ERR_CORRUPT, "file '%s' is listed twice", files.f[i].path);
  }
  if (!ok) {
    flist_free(&files);
    flist_free(&removed);
    if (meta) memset(meta, 0, sizeof *meta);
    return p.st;
  }
  out->generation = gen;
  out->n_files = files.n;
  out->files = files.f;
  ms_free(files.at);
  out->n_removed = removed.n;
  out->removed = removed.f;
  out->removed_at_ns = removed.at;
  return MS_OK;
}

ms_status ms__manifest_read_meta(const char *root, ms_manifest *out, ms__manifest_meta *meta,
                                 ms_error *err) {
  memset(out, 0, sizeof *out);
  if (meta) memset(meta, 0, sizeof *meta);
  if (!root) return ms_error_set(err, MS_ERR_INVALID, "manifest: no dataset root");
  char *path = ms_asprintf("%s/%s", root, MS_MANIFEST_NAME);
  if (!path) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  ms_error sub;
  ms_error_init(&sub);
  uint8_t *buf = NULL;
  int64_t len = 0;
  ms_status st = ms_fs_read_all(NULL, path, &buf, &len, &sub);
  if (st == MS_ERR_NOT_FOUND) {
    /* Absent (or root is not a directory): an unmanaged or never committed dataset. */
    ms_free(path);
    return MS_OK;
  }
  if (st != MS_OK) {
    if (err) *err = sub;
    ms_error_set_file(err, path);
    ms_free(path);
    return st;
  }
  st = ms__manifest_parse((const char *)buf, (size_t)len, path, out, meta, err);
  ms_free(buf);
  ms_free(path);
  return st;
}

ms_status ms_manifest_read(const char *root, ms_manifest *out, ms_error *err) {
  return ms__manifest_read_meta(root, out, NULL, err);
}

/* ---------------------------------------------------------------- writer */

typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 4096;
    while (nc < b->n + n + 1) nc *= 2;
    char *np = ms_realloc(b->p, nc);
    if (!np) {
      b->oom = true;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static void putf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(sbuf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_jstr(sbuf *b, const char *s) {
  put(b, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      char e[2] = {'\\', (char)*c};
      put(b, e, 2);
    } else if (*c < 0x20) {
      putf(b, "\\u%04x", *c);
    } else {
      put(b, (const char *)c, 1);
    }
  }
  put(b, "\"", 1);
}

static void put_entry(sbuf *b, const ms_store_file *f, const int64_t *removed_at) {
  puts_(b, "{\"path\":");
  put_jstr(b, f->path);
  putf(b, ",\"rows\":%lld,\"bytes\":%lld,\"generation\":%lld", (long long)f->rows,
       (long long)f->bytes, (long long)f->generation);
  if (removed_at) putf(b, ",\"removed_at_ns\":%lld", (long long)*removed_at);
  puts_(b, "}");
}

char *ms__manifest_format(const ms_manifest *m, const ms__manifest_meta *meta) {
  sbuf b = {0};
  putf(&b, "{\"format\":\"%s\",\"version\":%d,\"generation\":%lld", MS_MANIFEST_FORMAT,
       MS_MANIFEST_VERSION, (long long)m->generation);
  if (meta && meta->kind[0]) {
    puts_(&b, ",\"kind\":");
    put_jstr(&b, meta->kind);
  }
  if (meta && meta->committed_at_ns > 0) {
    time_t secs = (time_t)(meta->committed_at_ns / 1000000000);
    struct tm tm;
    char when[40];
    gmtime_r(&secs, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    putf(&b, ",\"committed_at\":\"%s.%09lldZ\",\"committed_at_ns\":%lld", when,
         (long long)(meta->committed_at_ns % 1000000000), (long long)meta->committed_at_ns);
  }
  puts_(&b, ",\n\"files\":[");
  for (int i = 0; i < m->n_files; i++) {
    puts_(&b, i ? ",\n" : "\n");
    put_entry(&b, &m->files[i], NULL);
  }
  puts_(&b, "],\n\"removed\":[");
  for (int i = 0; i < m->n_removed; i++) {
    puts_(&b, i ? ",\n" : "\n");
    put_entry(&b, &m->removed[i], &m->removed_at_ns[i]);
  }
  puts_(&b, "]}\n");
  if (b.oom) {
    ms_free(b.p);
    return NULL;
  }
  return b.p;
}

ms_status ms__manifest_write(const char *root, const ms_manifest *m,
                             const ms__manifest_meta *meta, ms_error *err) {
  char *text = ms__manifest_format(m, meta);
  char *path = ms_asprintf("%s/%s", root, MS_MANIFEST_NAME);
  if (!text || !path) {
    ms_free(text);
    ms_free(path);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  /* The local atomic writer is exactly the recipe: hidden temporary name in root, fsync,
   * rename over the manifest, fsync of root. */
  ms_file_writer *w = NULL;
  ms_status st = ms_fs_create_writer(NULL, path, &w, err);
  if (st == MS_OK) st = ms_writer_write(w, text, (int64_t)strlen(text), err);
  if (st == MS_OK) st = ms_writer_commit(w, err);
  else ms_writer_abort(w);
  if (st != MS_OK) ms_error_set_file(err, path);
  ms_free(text);
  ms_free(path);
  return st;
}
