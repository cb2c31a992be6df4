/* Tests of the managed-dataset store (include/morsel/store.h): token names, new paths,
 * the manifest's JSON (round trip of random manifests, malformed ones with the byte
 * offset), directory commits adding and removing files checked against a brute-force model
 * of the live set (and the SQLite registry's records), MS_ERR_CONFLICT for a remove that
 * is no longer live, readers through ms_dataset_open seeing exactly the manifest's files
 * plus hand-placed ones, recovery of prepared records both ways, the single-file identity
 * protocol, crash points (a forked child killed at each), concurrent committers, GC and
 * the registry schema migration 1 -> 2. Data files are small CSV files written as text. */
/* Paths are built in fixed buffers far larger than the scratch paths they hold. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "morsel/alloc.h"
#include "morsel/dataset.h"
#include "morsel/fs.h"
#include "morsel/registry.h"
#include "morsel/store.h"
#include "ms_test.h"
#include "store/store_int.h"

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

/* A fresh directory under the test's scratch directory. */
static const char *fresh_dir(const char *name) {
  static char buf[8][1200];
  static int k;
  k = (k + 1) % 8;
  snprintf(buf[k], sizeof buf[k], "%s/%s", ms_test_tmpdir(), name);
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", buf[k]);
  if (system(cmd) != 0) return NULL;
  mkdir(buf[k], 0777);
  return buf[k];
}

static bool write_file(const char *dir, const char *rel, const char *text) {
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  for (char *p = path + strlen(dir) + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(path, 0777);
      *p = '/';
    }
  FILE *f = fopen(path, "w");
  if (!f) return false;
  fputs(text, f);
  return fclose(f) == 0;
}

static bool exists(const char *dir, const char *rel) {
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* A CSV data file with `rows` rows (id = base + i). */
static bool write_rows(const char *dir, const char *rel, int rows, int base) {
  char text[8192];
  size_t n = (size_t)snprintf(text, sizeof text, "id,v\n");
  for (int i = 0; i < rows && n < sizeof text - 64; i++)
    n += (size_t)snprintf(text + n, sizeof text - n, "%d,%d\n", base + i, (base + i) * 10);
  return write_file(dir, rel, text);
}

/* The registry: SQLite in the test's directory, or the PostgreSQL server named by
 * MS_REGISTRY_LOCATION (test_store_pg.sh), where each test uses its own project. */
static char g_proj[256] = "p";

static bool pg_mode(void) {
  const char *env = getenv("MS_REGISTRY_LOCATION");
  return env && *env;
}

static ms_registry *open_reg(const char *dir, ms_error *err) {
  char loc[1300];
  snprintf(loc, sizeof loc, "%s/registry.db", dir);
  if (pg_mode()) {
    snprintf(loc, sizeof loc, "%s", getenv("MS_REGISTRY_LOCATION"));
    const char *slash = strrchr(dir, '/');
    static int run; /* set before any fork, so children name the same project */
    if (!run) run = (int)getpid();
    snprintf(g_proj, sizeof g_proj, "p_%d_%s", run, slash ? slash + 1 : dir);
  }
  ms_registry *reg = NULL;
  if (ms_registry_open(loc, &reg, err) != MS_OK) return NULL;
  return reg;
}

static ms_store *open_store(const char *root, ms_registry *reg, bool single, int64_t retention,
                            ms_error *err) {
  ms_store_options o;
  ms_store_options_init(&o);
  o.registry = reg;
  o.project = g_proj;
  o.dataset = single ? "source:single" : "source:dir";
  o.single_file = single;
  o.retention_seconds = retention;
  ms_store *s = NULL;
  if (ms_store_open(root, &o, &s, err) != MS_OK) return NULL;
  return s;
}

/* ---------------------------------------------------------------- names */

/* Reference for the token rule, written differently: look for ".m" at every position and
 * count 16 lowercase hex characters then a '.' with sscanf-free character tests. */
static bool ref_token(const char *name) {
  size_t n = strlen(name);
  for (size_t i = 1; i + 19 <= n; i++) {
    if (strncmp(name + i, ".m", 2) != 0) continue;
    size_t k = 0;
    while (k < 16 && strchr("0123456789abcdef", name[i + 2 + k]) && name[i + 2 + k]) k++;
    if (k == 16 && name[i + 18] == '.') return true;
  }
  return false;
}

static void test_token_names(void) {
  CHECK(ms_store_is_token_name("part-1.m0123456789abcdef.parquet"));
  CHECK(ms_store_is_token_name("d=2024-01-01/part-1.m0123456789abcdef.csv"));
  CHECK(!ms_store_is_token_name("part-1.m0123456789ABCDEF.parquet")); /* upper case */
  CHECK(!ms_store_is_token_name("part-1.m0123456789abcde.parquet"));  /* 15 hex */
  CHECK(!ms_store_is_token_name("part-1.m0123456789abcdef"));         /* no extension dot */
  CHECK(!ms_store_is_token_name(".m0123456789abcdef.parquet"));       /* hidden, no stem */
  CHECK(!ms_store_is_token_name("plain.parquet"));
  CHECK(!ms_store_is_token_name("x.m0123456789abcdef.parquet/plain.csv")); /* base name only */
  const char alphabet[] = "m.0a9fgF-_x";
  for (int iter = 0; iter < 20000; iter++) {
    char name[40];
    int len = 1 + (int)(rnd() % 30);
    for (int i = 0; i < len; i++) name[i] = alphabet[rnd() % (sizeof alphabet - 1)];
    name[len] = '\0';
    if (rnd() % 3 == 0 && len > 22) { /* plant a token, sometimes damaged */
      int at = 1 + (int)(rnd() % (uint64_t)(len - 20));
      name[at] = '.';
      name[at + 1] = 'm';
      for (int k = 0; k < 16; k++) name[at + 2 + k] = "0123456789abcdef"[rnd() % 16];
      name[at + 18] = '.';
      if (rnd() % 4 == 0) name[at + 2 + (int)(rnd() % 17)] = 'G';
    }
    CHECK_MSG(ms_store_is_token_name(name) == ref_token(name), "%s", name);
  }
}

static void test_new_path(void) {
  ms_error err;
  ms_error_init(&err);
  const char *root = fresh_dir("newpath");
  ms_store *s = open_store(root, NULL, false, -1, &err);
  CHECK_OK(s ? MS_OK : err.status, &err);
  char *a = NULL, *b = NULL, *c = NULL;
  CHECK_OK(ms_store_new_path(s, NULL, NULL, "parquet", &a, &err), &err);
  usleep(2000);
  CHECK_OK(ms_store_new_path(s, "event_date=2024-01-01", NULL, ".csv", &b, &err), &err);
  CHECK_OK(ms_store_new_path(s, "", "part-20240101T000000.000000000Z", "parquet", &c, &err),
           &err);
  /* part-YYYYMMDDTHHMMSS.nnnnnnnnnZ.m<16 hex>.parquet */
  CHECK_EQ_INT(strlen(a), strlen("part-20261124T031500.123456789Z.m3f9a0c1d2e4b5a6f.parquet"));
  CHECK(strncmp(a, "part-20", 7) == 0 && a[13] == 'T' && a[20] == '.' && a[30] == 'Z');
  CHECK(ms_store_is_token_name(a) && ms_store_is_token_name(b) && ms_store_is_token_name(c));
  CHECK(strncmp(b, "event_date=2024-01-01/part-", 27) == 0);
  CHECK(strcmp(a, b + 22) < 0); /* later writes sort later */
  CHECK(strncmp(c, "part-20240101T000000.000000000Z.m", 33) == 0);
  CHECK(strcmp(c + strlen(c) - 8, ".parquet") == 0);
  char dir[1300];
  snprintf(dir, sizeof dir, "%s/event_date=2024-01-01", root);
  struct stat sb;
  CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)); /* subdir created */
  CHECK(!exists(root, b));                           /* the file itself is not */
  char *d = NULL;
  CHECK(ms_store_new_path(s, "../x", NULL, "csv", &d, &err) == MS_ERR_INVALID);
  CHECK(ms_store_new_path(s, NULL, "a/b", "csv", &d, &err) == MS_ERR_INVALID);
  ms_free(a);
  ms_free(b);
  ms_free(c);
  ms_store_close(s);
}

/* ---------------------------------------------------------------- manifest text */

static void random_path(char *buf, size_t size) {
  static const char *const pieces[] = {"a", "d=2024-01-01", "x y", "q\"uote", "back\\slash",
                                       "tab\t", "\xc3\xa9t\xc3\xa9", "k=v%2F"};
  size_t n = 0;
  int segs = 1 + (int)(rnd() % 3);
  for (int i = 0; i < segs - 1; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s/", pieces[rnd() % 8]);
  snprintf(buf + n, size - n, "part-%llu.m%016llx.csv", (unsigned long long)(rnd() % 1000),
           (unsigned long long)rnd());
}

static void test_manifest_roundtrip(void) {
  ms_error err;
  ms_error_init(&err);
  for (int iter = 0; iter < 200; iter++) {
    ms_manifest m = {0};
    m.generation = 1 + (int64_t)(rnd() % 1000000);
    m.n_files = (int)(rnd() % 20);
    m.n_removed = (int)(rnd() % 5);
    m.files = ms_calloc((size_t)m.n_files + 1, sizeof *m.files);
    m.removed = ms_calloc((size_t)m.n_removed + 1, sizeof *m.removed);
    m.removed_at_ns = ms_calloc((size_t)m.n_removed + 1, sizeof *m.removed_at_ns);
    char p[512];
    for (int i = 0; i < m.n_files; i++) {
      random_path(p, sizeof p);
      m.files[i] = (ms_store_file){ms_strdup(p), (int64_t)(rnd() % 1000000),
                                   (int64_t)(rnd() >> 1), 1 + (int64_t)(rnd() % 100)};
    }
    /* sorted, unique (the parser sorts and refuses duplicates) */
    for (int i = 0; i < m.n_files; i++)
      for (int j = i + 1; j < m.n_files; j++)
        if (strcmp(m.files[j].path, m.files[i].path) < 0) {
          ms_store_file t = m.files[i];
          m.files[i] = m.files[j];
          m.files[j] = t;
        }
    for (int i = 0; i < m.n_removed; i++) {
      random_path(p, sizeof p);
      m.removed[i] = (ms_store_file){ms_strdup(p), (int64_t)(rnd() % 1000), 7, m.generation};
      m.removed_at_ns[i] = (int64_t)(rnd() >> 2);
    }
    ms__manifest_meta meta = {"compact", 1795490100123456789LL}, meta2;
    char *text = ms__manifest_format(&m, &meta);
    CHECK(text != NULL);
    ms_manifest back;
    ms_status st = ms__manifest_parse(text, strlen(text), "t.json", &back, &meta2, &err);
    CHECK_OK(st, &err);
    CHECK_EQ_INT(back.generation, m.generation);
    CHECK_EQ_INT(back.n_files, m.n_files);
    CHECK_EQ_INT(back.n_removed, m.n_removed);
    CHECK_STR(meta2.kind, "compact");
    CHECK_EQ_INT(meta2.committed_at_ns, meta.committed_at_ns);
    for (int i = 0; i < m.n_files; i++) {
      CHECK_STR(back.files[i].path, m.files[i].path);
      CHECK_EQ_INT(back.files[i].rows, m.files[i].rows);
      CHECK_EQ_INT(back.files[i].bytes, m.files[i].bytes);
      CHECK_EQ_INT(back.files[i].generation, m.files[i].generation);
    }
    for (int i = 0; i < m.n_removed; i++) {
      CHECK_STR(back.removed[i].path, m.removed[i].path);
      CHECK_EQ_INT(back.removed_at_ns[i], m.removed_at_ns[i]);
    }
    /* one line per file */
    int lines = 0;
    for (const char *c = text; *c; c++) lines += *c == '\n';
    CHECK_EQ_INT(lines, 3 + m.n_files + m.n_removed);
    ms_free(text);
    ms_manifest_reset(&back);
    ms_manifest_reset(&m);
  }
}

typedef struct bad_case {
  const char *text;
  ms_status status;
  long offset; /* -1: the offset of the marker '@' in text (removed before parsing) */
  const char *says;
} bad_case;

static void test_manifest_malformed(void) {
  static const bad_case cases[] = {
      {"@", MS_ERR_CORRUPT, -1, "expected '{'"},
      {"{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":1,\"files\":[@}", MS_ERR_CORRUPT,
       -1, "expected '{'"},
      {"{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":@\"3\",\"files\":[]}",
       MS_ERR_CORRUPT, -1, "\"generation\" must be an integer"},
      {"{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":@1.5,\"files\":[]}",
       MS_ERR_CORRUPT, -1, "must be an integer"},
      {"{\"format\":\"morsel-manifest\",\"version\":@2,\"generation\":1,\"files\":[]}",
       MS_ERR_UNSUPPORTED, -1, "newer morsel"},
      {"{\"format\":@\"other\",\"version\":1,\"generation\":1,\"files\":[]}", MS_ERR_CORRUPT, -1,
       "expected 'morsel-manifest'"},
      {"{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":1,\"files\":[{\"path\":@\"../x.m0123456789abcdef.csv\",\"rows\":1,\"bytes\":1,\"generation\":1}]}",
       MS_ERR_CORRUPT, -1, "not a relative path"},
      {"@{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":1}", MS_ERR_CORRUPT, -1,
       "missing \"files\""},
      {"{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":1,\"files\":[]}@x",
       MS_ERR_CORRUPT, -1, "text after the manifest"},
      {"{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":1,\"files\":[{\"path\":\"a.csv\",\"rows\":1,@",
       MS_ERR_CORRUPT, -1, "end of file"},
      {"{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":1,\"files\":[{\"path\":\"a.csv\",\"rows\":1,\"bytes\":1,\"generation\":1},{\"path\":\"a.csv\",\"rows\":1,\"bytes\":1,\"generation\":1}]}",
       MS_ERR_CORRUPT, 0, "listed twice"},
      {"{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":1,\"files\":[@{\"rows\":1}]}",
       MS_ERR_CORRUPT, -1, "without \"path\""},
      {"{\"format\":\"morsel-manifest\",\"version\":1,\"generation\":1,\"files\":[{\"path\":\"a@\\q\"}]}",
       MS_ERR_CORRUPT, -1, "bad escape"},
  };
  const char *root = fresh_dir("malformed");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[1024];
    long at = cases[i].offset;
    const char *marker = strchr(cases[i].text, '@');
    size_t w = 0;
    for (const char *c = cases[i].text; *c; c++)
      if (c != marker) text[w++] = *c;
    text[w] = '\0';
    if (at < 0) at = (long)(marker - cases[i].text);
    CHECK(write_file(root, MS_MANIFEST_NAME, text));
    ms_error err;
    ms_error_init(&err);
    ms_manifest m;
    ms_status st = ms_manifest_read(root, &m, &err);
    CHECK_MSG(st == cases[i].status, "case %zu: status %d: %s", i, (int)st, err.message);
    CHECK_MSG(err.byte_offset == at, "case %zu: offset %lld, expected %ld (%s)", i,
              (long long)err.byte_offset, at, err.message);
    CHECK_MSG(strstr(err.message, cases[i].says) != NULL, "case %zu: %s", i, err.message);
    CHECK_MSG(strstr(err.message, "malformed manifest") != NULL, "case %zu: %s", i, err.message);
    CHECK(strstr(err.file, MS_MANIFEST_NAME) != NULL && strstr(err.file, root) == err.file);
    CHECK_EQ_INT(m.generation, 0);
    CHECK(m.files == NULL);
    /* Readers refuse the directory the same way. */
    ms_dataset *ds = NULL;
    ms_error_init(&err);
    CHECK(write_rows(root, "plain.csv", 2, 0));
    st = ms_dataset_open(NULL, root, NULL, &ds, &err);
    CHECK(st == cases[i].status && ds == NULL);
    CHECK(strstr(err.file, MS_MANIFEST_NAME) != NULL);
  }
  /* absent: generation 0, no error */
  const char *empty = fresh_dir("absent");
  ms_error err;
  ms_error_init(&err);
  ms_manifest m;
  CHECK_OK(ms_manifest_read(empty, &m, &err), &err);
  CHECK_EQ_INT(m.generation, 0);
  CHECK_EQ_INT(m.n_files, 0);
}

/* ---------------------------------------------------------------- directory commits */

typedef struct model_file {
  char path[256];
  int rows, base;
  bool live, removed;
} model_file;

/* The files a dataset read must take: the model's live token files plus hand-placed
 * files, in sorted path order; checked by path and by total rows (ids in sorted order). */
static void check_reader(const char *root, const model_file *mf, int n, int hand_rows,
                         const char *hand_path, int *failed) {
  *failed = 1;
  ms_error err;
  ms_error_init(&err);
  ms_dataset *ds = NULL;
  CHECK_OK(ms_dataset_open(NULL, root, NULL, &ds, &err), &err);
  /* expected: sorted relative paths */
  char *want[256];
  int nw = 0;
  for (int i = 0; i < n; i++)
    if (mf[i].live) want[nw++] = (char *)mf[i].path;
  if (hand_path) want[nw++] = (char *)hand_path;
  for (int i = 0; i < nw; i++)
    for (int j = i + 1; j < nw; j++)
      if (strcmp(want[j], want[i]) < 0) {
        char *t = want[i];
        want[i] = want[j];
        want[j] = t;
      }
  CHECK_EQ_INT(ms_dataset_num_files(ds), nw);
  for (int i = 0; i < nw; i++) {
    char full[2048];
    snprintf(full, sizeof full, "%s/%s", root, want[i]);
    CHECK_STR(ms_dataset_file_path(ds, i), full);
  }
  int64_t rows = hand_rows;
  for (int i = 0; i < n; i++)
    if (mf[i].live) rows += mf[i].rows;
  ms_table *t = NULL;
  CHECK_OK(ms_dataset_read(ds, NULL, &t, NULL, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), rows);
  ms_table_release(t);
  ms_dataset_close(ds);
  *failed = 0;
}

static void test_commits_model(void) {
  ms_error err;
  ms_error_init(&err);
  const char *dir = fresh_dir("commits");
  ms_registry *reg = open_reg(dir, &err);
  CHECK_OK(reg ? MS_OK : err.status, &err);
  char root[1300];
  snprintf(root, sizeof root, "%s/data", dir);
  ms_store *s = open_store(root, reg, false, 3600, &err);
  CHECK_OK(s ? MS_OK : err.status, &err);
  /* A hand-placed file (no token) is always live; an uncommitted token file never. */
  CHECK(write_rows(root, "d=hand/by_hand.csv", 3, 1000));
  char *orphan = NULL;
  CHECK_OK(ms_store_new_path(s, "d=x", NULL, "csv", &orphan, &err), &err);
  CHECK(write_rows(root, orphan, 5, 5000));
  model_file mf[200];
  int n = 0, failed = 0;
  int64_t gen = 0;
  check_reader(root, mf, n, 3, "d=hand/by_hand.csv", &failed);
  CHECK(!failed);
  for (int step = 0; step < 25; step++) {
    ms_store_commit c = {0};
    ms_store_file adds[4];
    const char *removes[4];
    char *paths[4];
    int n_adds = (int)(rnd() % 4), n_live = 0;
    for (int i = 0; i < n; i++) n_live += mf[i].live;
    int n_rm = n_live ? (int)(rnd() % 3) : 0;
    for (int i = 0; i < n_adds; i++) {
      static const char *const subs[] = {"d=2024-01-03", "d=2024-01-01", "d=2024-01-02"};
      CHECK_OK(ms_store_new_path(s, subs[rnd() % 3], NULL, "csv", &paths[i], &err), &err);
      int rows = 1 + (int)(rnd() % 4);
      CHECK(write_rows(root, paths[i], rows, step * 100 + i * 10));
      adds[i] = (ms_store_file){paths[i], rows, 0, 0};
      snprintf(mf[n + i].path, sizeof mf[n + i].path, "%s", paths[i]);
      mf[n + i].rows = rows;
      mf[n + i].live = false;
      mf[n + i].removed = false;
    }
    int rm_idx[4], got = 0;
    for (int tries = 0; got < n_rm && tries < 50; tries++) {
      int k = (int)(rnd() % (uint64_t)n);
      bool dup = false;
      for (int j = 0; j < got; j++) dup |= rm_idx[j] == k;
      if (mf[k].live && !dup) rm_idx[got++] = k;
    }
    for (int j = 0; j < got; j++) removes[j] = mf[rm_idx[j]].path;
    c.kind = got ? "compact" : "write_batch";
    c.adds = adds;
    c.n_adds = n_adds;
    c.removes = removes;
    c.n_removes = got;
    int64_t g = 0;
    CHECK_OK(ms_store_commit_files(s, &c, &g, &err), &err);
    CHECK_EQ_INT(g, gen + 1);
    gen = g;
    for (int i = 0; i < n_adds; i++) {
      mf[n + i].live = true;
      ms_free(paths[i]);
    }
    n += n_adds;
    for (int j = 0; j < got; j++) {
      mf[rm_idx[j]].live = false;
      mf[rm_idx[j]].removed = true;
    }
    /* manifest == model */
    ms_manifest m;
    CHECK_OK(ms_manifest_read(root, &m, &err), &err);
    CHECK_EQ_INT(m.generation, gen);
    int live = 0, removed = 0;
    for (int i = 0; i < n; i++) {
      live += mf[i].live;
      removed += mf[i].removed;
    }
    CHECK_EQ_INT(m.n_files, live);
    CHECK_EQ_INT(m.n_removed, removed);
    for (int i = 0; i < n; i++) {
      bool listed = false;
      for (int k = 0; k < m.n_files; k++) listed |= !strcmp(m.files[k].path, mf[i].path);
      CHECK_MSG(listed == mf[i].live, "%s", mf[i].path);
      CHECK(exists(root, mf[i].path)); /* removed files stay for the retention */
    }
    ms_manifest_reset(&m);
    check_reader(root, mf, n, 3, "d=hand/by_hand.csv", &failed);
    CHECK(!failed);
    /* A remove of a file that is no longer live: conflict, nothing changes. */
    int dead = -1;
    for (int i = 0; i < n; i++)
      if (mf[i].removed) dead = i;
    if (dead >= 0) {
      const char *rm[] = {mf[dead].path};
      ms_store_commit bad = {.kind = "compact", .removes = rm, .n_removes = 1};
      ms_error e2;
      ms_error_init(&e2);
      CHECK(ms_store_commit_files(s, &bad, &g, &e2) == MS_ERR_CONFLICT);
      CHECK_MSG(strstr(e2.message, "not live") && strstr(e2.message, MS_MANIFEST_NAME), "%s",
                e2.message);
      CHECK_OK(ms_manifest_read(root, &m, &err), &err);
      CHECK_EQ_INT(m.generation, gen);
      ms_manifest_reset(&m);
    }
  }
  /* The registry recorded every commit, committed, with the live totals. */
  ms_reg_data_commit *rc = NULL;
  int nrc = 0;
  CHECK_OK(ms_registry_data_commits(reg, g_proj, "source:dir", &rc, &nrc, &err), &err);
  CHECK_EQ_INT(nrc, gen);
  for (int i = 0; i < nrc; i++) {
    CHECK_EQ_INT(rc[i].generation, i + 1);
    CHECK_STR(rc[i].state, "committed");
    CHECK_STR(rc[i].path, root);
    CHECK(rc[i].user && rc[i].host && rc[i].created_at);
  }
  int64_t live_rows = 0, live_files = 0;
  for (int i = 0; i < n; i++)
    if (mf[i].live) {
      live_rows += mf[i].rows;
      live_files++;
    }
  if (nrc) {
    CHECK_EQ_INT(rc[nrc - 1].total_rows, live_rows);
    CHECK_EQ_INT(rc[nrc - 1].total_files, live_files);
  }
  ms_reg_data_commits_free(rc, nrc);
  ms_store_status stt;
  CHECK_OK(ms_store_check(s, &stt, &err), &err);
  CHECK_MSG(stt.agrees, "%s", stt.message);
  CHECK_EQ_INT(stt.manifest_generation, gen);
  CHECK_EQ_INT(stt.registry_generation, gen);
  CHECK_EQ_INT(stt.live_rows, live_rows);
  CHECK_EQ_INT(stt.orphans, 1); /* the uncommitted token file */
  /* remove_all leaves only hand-placed files to readers */
  ms_store_commit all = {.kind = "compute", .remove_all = true};
  int64_t g;
  CHECK_OK(ms_store_commit_files(s, &all, &g, &err), &err);
  for (int i = 0; i < n; i++) mf[i].live = false;
  check_reader(root, mf, n, 3, "d=hand/by_hand.csv", &failed);
  CHECK(!failed);
  /* Commit argument errors: no token, missing file. */
  ms_store_file plain = {"d=hand/by_hand.csv", 3, 0, 0};
  ms_store_commit c1 = {.kind = "write_batch", .adds = &plain, .n_adds = 1};
  CHECK(ms_store_commit_files(s, &c1, &g, &err) == MS_ERR_INVALID);
  ms_store_file ghost = {"part-x.m0123456789abcdef.csv", 1, 0, 0};
  ms_store_commit c2 = {.kind = "write_batch", .adds = &ghost, .n_adds = 1};
  CHECK(ms_store_commit_files(s, &c2, &g, &err) == MS_ERR_NOT_FOUND);
  ms_free(orphan);
  ms_store_close(s);
  ms_registry_close(reg);
}

static void test_reader_rules(void) {
  ms_error err;
  ms_error_init(&err);
  const char *root = fresh_dir("readers");
  ms_store *s = open_store(root, NULL, false, -1, &err);
  CHECK_OK(s ? MS_OK : err.status, &err);
  char *a = NULL, *b = NULL;
  CHECK_OK(ms_store_new_path(s, "d=1", NULL, "csv", &a, &err), &err);
  CHECK_OK(ms_store_new_path(s, "d=2", NULL, "csv", &b, &err), &err);
  CHECK(write_rows(root, a, 2, 0));
  CHECK(write_rows(root, b, 3, 10));
  /* No manifest yet: token files are not live, so a directory of only those is empty. */
  ms_dataset *ds = NULL;
  CHECK(ms_dataset_open(NULL, root, NULL, &ds, &err) == MS_ERR_NOT_FOUND);
  ms_store_file adds[] = {{a, 2, 0, 0}, {b, 3, 0, 0}};
  ms_store_commit c = {.kind = "write_batch", .adds = adds, .n_adds = 2};
  int64_t g;
  CHECK_OK(ms_store_commit_files(s, &c, &g, &err), &err);
  CHECK_EQ_INT(g, 1);
  CHECK_OK(ms_dataset_open(NULL, root, NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(ds), 2);
  ms_dataset_close(ds);
  /* A glob sees the same rule. */
  char pattern[1400];
  snprintf(pattern, sizeof pattern, "%s/d=*/*.csv", root);
  CHECK(write_rows(root, "d=3/other.csv", 1, 99));
  char *orphan = NULL;
  CHECK_OK(ms_store_new_path(s, "d=3", NULL, "csv", &orphan, &err), &err);
  CHECK(write_rows(root, orphan, 1, 77));
  CHECK_OK(ms_dataset_open(NULL, pattern, NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(ds), 3); /* a, b, other.csv - not the orphan */
  ms_dataset_close(ds);
  /* A manifest that lists a missing file: corrupt, naming the manifest and the file. */
  char full[2048];
  snprintf(full, sizeof full, "%s/%s", root, b);
  CHECK(unlink(full) == 0);
  ms_error_init(&err);
  CHECK(ms_dataset_open(NULL, root, NULL, &ds, &err) == MS_ERR_CORRUPT);
  CHECK_MSG(strstr(err.message, b) && strstr(err.message, "missing"), "%s", err.message);
  CHECK(strstr(err.file, MS_MANIFEST_NAME) != NULL);
  /* An explicitly named file is read whatever the manifest says. */
  snprintf(full, sizeof full, "%s/%s", root, orphan);
  CHECK_OK(ms_dataset_open(NULL, full, NULL, &ds, &err), &err);
  ms_dataset_close(ds);
  ms_store_status st;
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK(!st.agrees);
  CHECK_MSG(strstr(st.message, "missing") != NULL, "%s", st.message);
  ms_free(a);
  ms_free(b);
  ms_free(orphan);
  ms_store_close(s);
}

/* Feast's log partition column `__log_date`: its folders start with '_' but are data;
 * other '_' names (the manifest, _SUCCESS, a _tmp/ folder) stay hidden. */
static void test_underscore_partitions(void) {
  ms_error err;
  ms_error_init(&err);
  const char *root = fresh_dir("underscore");
  ms_store *s = open_store(root, NULL, false, -1, &err);
  CHECK_OK(s ? MS_OK : err.status, &err);
  char *a = NULL, *b = NULL;
  CHECK_OK(ms_store_new_path(s, "__log_date=2024-01-01", NULL, "csv", &a, &err), &err);
  CHECK_OK(ms_store_new_path(s, "__log_date=2024-01-02", NULL, "csv", &b, &err), &err);
  CHECK(write_rows(root, a, 2, 0) && write_rows(root, b, 3, 10));
  CHECK(write_file(root, "_SUCCESS", ""));
  CHECK(write_rows(root, "_tmp/x.csv", 1, 0));
  CHECK(write_rows(root, "__log_date=2024-01-02/_side.csv", 1, 0));
  ms_store_file adds[] = {{a, 2, 0, 0}, {b, 3, 0, 0}};
  ms_store_commit c = {.kind = "write_logs", .adds = adds, .n_adds = 2};
  int64_t g;
  CHECK_OK(ms_store_commit_files(s, &c, &g, &err), &err);
  ms_dataset *ds = NULL;
  CHECK_OK(ms_dataset_open(NULL, root, NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(ds), 2);
  int part = -1;
  for (int i = 0; i < ms_dataset_num_fields(ds); i++)
    if (!strcmp(ms_dataset_field(ds, i)->name, "__log_date")) part = i;
  CHECK(part >= 0 && ms_dataset_field_is_partition(ds, part));
  CHECK(ms_dataset_field(ds, part)->type.id == MS_TYPE_DATE32);
  ms_dataset_close(ds);
  char pattern[1400];
  snprintf(pattern, sizeof pattern, "%s/__log_date=*/*.csv", root);
  CHECK_OK(ms_dataset_open(NULL, pattern, NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(ds), 2);
  ms_dataset_close(ds);
  snprintf(pattern, sizeof pattern, "%s/**/*.csv", root);
  CHECK_OK(ms_dataset_open(NULL, pattern, NULL, &ds, &err), &err);
  CHECK_EQ_INT(ms_dataset_num_files(ds), 2);
  ms_dataset_close(ds);
  ms_free(a);
  ms_free(b);
  ms_store_close(s);
}

/* ---------------------------------------------------------------- recovery */

static const char *state_of(ms_registry *reg, const char *dataset, int64_t gen) {
  static char buf[32];
  ms_reg_data_commit *c = NULL;
  int n = 0;
  buf[0] = '\0';
  if (ms_registry_data_commits(reg, g_proj, dataset, &c, &n, NULL) != MS_OK) return "error";
  for (int i = 0; i < n; i++)
    if (c[i].generation == gen) snprintf(buf, sizeof buf, "%s", c[i].state); /* last attempt */
  ms_reg_data_commits_free(c, n);
  return buf;
}

static void test_recovery_directory(void) {
  ms_error err;
  ms_error_init(&err);
  const char *dir = fresh_dir("recover");
  ms_registry *reg = open_reg(dir, &err);
  CHECK_OK(reg ? MS_OK : err.status, &err);
  char root[1300];
  snprintf(root, sizeof root, "%s/data", dir);
  ms_store *s = open_store(root, reg, false, -1, &err);
  CHECK_OK(s ? MS_OK : err.status, &err);
  char *a = NULL;
  CHECK_OK(ms_store_new_path(s, NULL, NULL, "csv", &a, &err), &err);
  CHECK(write_rows(root, a, 2, 0));
  ms_store_file add = {a, 2, 0, 0};
  ms_store_commit c = {.kind = "write_batch", .adds = &add, .n_adds = 1};
  int64_t g;
  CHECK_OK(ms_store_commit_files(s, &c, &g, &err), &err);
  /* 1. A writer died after prepare, before the rename: prepared gen 2, manifest at 1. */
  ms_reg_data_commit r = {.generation = 2, .dataset = "source:dir", .kind = "write_batch",
                          .path = root};
  CHECK_OK(ms_registry_data_prepare(reg, g_proj, &r, &err), &err);
  CHECK(ms_registry_data_prepare(reg, g_proj, &r, &err) == MS_ERR_CONFLICT); /* taken */
  ms_store_status st;
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK(!st.agrees && st.n_prepared == 1);
  int resolved = 0;
  CHECK_OK(ms_store_recover(s, &resolved, &err), &err);
  CHECK_EQ_INT(resolved, 1);
  CHECK_STR(state_of(reg, "source:dir", 2), "aborted");
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK_MSG(st.agrees, "%s", st.message);
  /* 2. A writer died after the rename, before committed: prepared gen 2, manifest at 2. */
  CHECK_OK(ms_registry_data_prepare(reg, g_proj, &r, &err), &err); /* aborted gen may retry */
  ms_manifest m;
  ms__manifest_meta meta = {"write_batch", 1};
  CHECK_OK(ms_manifest_read(root, &m, &err), &err);
  m.generation = 2;
  CHECK_OK(ms__manifest_write(root, &m, &meta, &err), &err);
  ms_manifest_reset(&m);
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK(!st.agrees && st.manifest_generation == 2 && st.registry_generation == 1);
  /* The next commit resolves it first, then commits generation 3. */
  char *b = NULL;
  CHECK_OK(ms_store_new_path(s, NULL, NULL, "csv", &b, &err), &err);
  CHECK(write_rows(root, b, 1, 50));
  ms_store_file add2 = {b, 1, 0, 0};
  ms_store_commit c2 = {.kind = "write_batch", .adds = &add2, .n_adds = 1};
  CHECK_OK(ms_store_commit_files(s, &c2, &g, &err), &err);
  CHECK_EQ_INT(g, 3);
  CHECK_STR(state_of(reg, "source:dir", 2), "committed");
  CHECK_STR(state_of(reg, "source:dir", 3), "committed");
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK_MSG(st.agrees, "%s", st.message);
  /* Records: gen 1 committed, gen 2 aborted then committed, gen 3 committed. */
  ms_reg_data_commit *rc;
  int n;
  CHECK_OK(ms_registry_data_commits(reg, g_proj, "source:dir", &rc, &n, &err), &err);
  CHECK_EQ_INT(n, 4);
  CHECK(rc[1].generation == 2 && !strcmp(rc[1].state, "aborted"));
  CHECK(rc[2].generation == 2 && !strcmp(rc[2].state, "committed"));
  ms_reg_data_commits_free(rc, n);
  char **names;
  CHECK_OK(ms_registry_data_datasets(reg, g_proj, &names, &n, &err), &err);
  CHECK_EQ_INT(n, 1);
  CHECK_STR(names[0], "source:dir");
  ms_registry_strings_free(names, n);
  ms_free(a);
  ms_free(b);
  ms_store_close(s);
  ms_registry_close(reg);
}

/* ---------------------------------------------------------------- single files */

static ms_status rewrite(const char *path, const char *text, ms_error *err) {
  ms_file_writer *w;
  ms_status st = ms_fs_create_writer(NULL, path, &w, err);
  if (st) return st;
  st = ms_writer_write(w, text, (int64_t)strlen(text), err);
  if (st) {
    ms_writer_abort(w);
    return st;
  }
  return ms_writer_commit(w, err);
}

static void identity(const char *path, char *buf, size_t size) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    snprintf(buf, size, "absent");
    return;
  }
  snprintf(buf, size, "%llu:%llu:%lld:%lld", (unsigned long long)sb.st_dev,
           (unsigned long long)sb.st_ino, (long long)sb.st_size,
           (long long)sb.st_mtim.tv_sec * 1000000000LL + (long long)sb.st_mtim.tv_nsec);
}

static void test_single_file(void) {
  ms_error err;
  ms_error_init(&err);
  const char *dir = fresh_dir("single");
  ms_registry *reg = open_reg(dir, &err);
  CHECK_OK(reg ? MS_OK : err.status, &err);
  char path[1300];
  snprintf(path, sizeof path, "%s/src/data.csv", dir);
  ms_store *s = open_store(path, reg, true, -1, &err);
  CHECK_OK(s ? MS_OK : err.status, &err);
  char lock[1400];
  snprintf(lock, sizeof lock, "%s/src/_data.csv.morsel.lock", dir);
  /* 1. the first write creates the file */
  ms_store_txn *t;
  CHECK_OK(ms_store_single_begin(s, "write_batch", &t, &err), &err);
  CHECK_EQ_INT(ms_store_txn_generation(t), 1);
  struct stat sb;
  CHECK(stat(lock, &sb) == 0);
  CHECK_STR(state_of(reg, "source:single", 1), "prepared");
  CHECK_OK(rewrite(path, "id,v\n1,10\n", &err), &err);
  CHECK_OK(ms_store_single_finish(t, 1, 1, &err), &err);
  char id1[128];
  identity(path, id1, sizeof id1);
  ms_reg_data_commit *rc;
  int n;
  CHECK_OK(ms_registry_data_commits(reg, g_proj, "source:single", &rc, &n, &err), &err);
  CHECK_EQ_INT(n, 1);
  CHECK_STR(rc[0].state, "committed");
  CHECK_STR(rc[0].identity_before, "absent");
  CHECK_STR(rc[0].identity_after, id1);
  CHECK_EQ_INT(rc[0].rows_added, 1);
  CHECK_EQ_INT(rc[0].total_rows, 1);
  ms_reg_data_commits_free(rc, n);
  ms_store_status st;
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK_MSG(st.agrees, "%s", st.message);
  CHECK_EQ_INT(st.manifest_generation, 1);
  CHECK_EQ_INT(st.live_rows, 1);
  /* 2. an aborted write leaves the file and records aborted */
  CHECK_OK(ms_store_single_begin(s, "write_batch", &t, &err), &err);
  CHECK_EQ_INT(ms_store_txn_generation(t), 2);
  ms_store_single_abort(t);
  CHECK_STR(state_of(reg, "source:single", 2), "aborted");
  /* 3. finishing without a rewrite is refused and recorded aborted */
  CHECK_OK(ms_store_single_begin(s, "write_batch", &t, &err), &err);
  CHECK(ms_store_single_finish(t, 1, 2, &err) == MS_ERR_INVALID);
  CHECK_STR(state_of(reg, "source:single", 2), "aborted");
  /* 4. recovery: prepared with the current identity (rename never happened) -> aborted */
  ms_reg_data_commit r = {.generation = 2, .dataset = "source:single", .kind = "write_batch",
                          .path = path, .identity_before = id1};
  CHECK_OK(ms_registry_data_prepare(reg, g_proj, &r, &err), &err);
  int resolved;
  CHECK_OK(ms_store_recover(s, &resolved, &err), &err);
  CHECK_EQ_INT(resolved, 1);
  CHECK_STR(state_of(reg, "source:single", 2), "aborted");
  /* 5. recovery: prepared, then the file was replaced (rename happened) -> committed */
  CHECK_OK(ms_registry_data_prepare(reg, g_proj, &r, &err), &err);
  CHECK_OK(rewrite(path, "id,v\n1,10\n2,20\n", &err), &err);
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK(!st.agrees);
  CHECK_OK(ms_store_recover(s, &resolved, &err), &err);
  CHECK_EQ_INT(resolved, 1);
  CHECK_STR(state_of(reg, "source:single", 2), "committed");
  char id2[128];
  identity(path, id2, sizeof id2);
  CHECK_OK(ms_registry_data_commits(reg, g_proj, "source:single", &rc, &n, &err), &err);
  CHECK_STR(rc[n - 1].identity_after, id2);
  ms_reg_data_commits_free(rc, n);
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK_MSG(st.agrees, "%s", st.message);
  /* 6. a change behind morsel's back is reported */
  CHECK_OK(rewrite(path, "id,v\n9,90\n", &err), &err);
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK(!st.agrees && strstr(st.message, "changed since generation 2"));
  /* single-file stores refuse directory calls and vice versa */
  ms_store_commit c = {.kind = "write_batch"};
  int64_t g;
  CHECK(ms_store_commit_files(s, &c, &g, &err) == MS_ERR_INVALID);
  char *p = NULL;
  CHECK(ms_store_new_path(s, NULL, NULL, "csv", &p, &err) == MS_ERR_INVALID);
  ms_store_close(s);
  ms_registry_close(reg);
}

/* ---------------------------------------------------------------- crash points */

/* Runs one commit (adding one new file) in a child with MORSEL_CRASH_POINT=point; returns
 * true when the child died of SIGKILL. */
static bool crash_child(const char *dir, const char *root, const char *point) {
  pid_t pid = fork();
  if (pid == 0) {
    setenv("MORSEL_CRASH_POINT", point, 1);
    ms_error err;
    ms_error_init(&err);
    ms_registry *reg = open_reg(dir, &err);
    ms_store *s = reg ? open_store(root, reg, false, -1, &err) : NULL;
    char *a = NULL;
    if (!s || ms_store_new_path(s, NULL, NULL, "csv", &a, &err) != MS_OK) _exit(2);
    if (!write_rows(root, a, 1, 1)) _exit(2);
    ms_store_file add = {a, 1, 0, 0};
    ms_store_commit c = {.kind = "write_batch", .adds = &add, .n_adds = 1};
    int64_t g;
    if (ms_store_commit_files(s, &c, &g, &err) != MS_OK) _exit(3);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static void test_crash_points(void) {
  ms_error err;
  ms_error_init(&err);
  const char *dir = fresh_dir("crash");
  char root[1300];
  snprintf(root, sizeof root, "%s/data", dir);
  ms_registry *reg = open_reg(dir, &err);
  CHECK_OK(reg ? MS_OK : err.status, &err);
  ms_store *s = open_store(root, reg, false, -1, &err);
  CHECK_OK(s ? MS_OK : err.status, &err);
  static const struct {
    const char *point;
    int64_t manifest_after;  /* manifest generation after the crash (relative: +0 / +1) */
    const char *state_before; /* record of the new generation before recovery ("" none) */
    const char *state_after;
  } cases[] = {{"after-data", 0, "", ""},
               {"after-prepare", 0, "prepared", "aborted"},
               {"after-rename", 1, "prepared", "committed"},
               {"after-commit", 1, "committed", "committed"}};
  int64_t gen = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_MSG(crash_child(dir, root, cases[i].point), "%s", cases[i].point);
    ms_manifest m;
    CHECK_OK(ms_manifest_read(root, &m, &err), &err);
    CHECK_EQ_INT(m.generation, gen + cases[i].manifest_after);
    ms_manifest_reset(&m);
    CHECK_STR(state_of(reg, "source:dir", gen + 1), cases[i].state_before);
    int resolved;
    CHECK_OK(ms_store_recover(s, &resolved, &err), &err);
    CHECK_STR(state_of(reg, "source:dir", gen + 1), cases[i].state_after);
    ms_store_status st;
    CHECK_OK(ms_store_check(s, &st, &err), &err);
    CHECK_MSG(st.agrees, "%s: %s", cases[i].point, st.message);
    gen += cases[i].manifest_after;
    /* Readers see exactly the committed files: as many as the generation. */
    if (gen > 0) {
      ms_dataset *ds;
      CHECK_OK(ms_dataset_open(NULL, root, NULL, &ds, &err), &err);
      CHECK_EQ_INT(ms_dataset_num_files(ds), gen);
      ms_dataset_close(ds);
    }
  }
  ms_store_status st;
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK_EQ_INT(st.orphans, 2); /* after-data and after-prepare left their files */
  ms_store_close(s);
  ms_registry_close(reg);
}

/* ---------------------------------------------------------------- concurrency, GC */

static void test_concurrent_appenders(void) {
  ms_error err;
  ms_error_init(&err);
  const char *dir = fresh_dir("concurrent");
  char root[1300];
  snprintf(root, sizeof root, "%s/data", dir);
  ms_registry *reg = open_reg(dir, &err); /* creates the schema before the children */
  CHECK_OK(reg ? MS_OK : err.status, &err);
  enum { PROCS = 4, EACH = 6 };
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++) {
    pids[p] = fork();
    if (pids[p] == 0) {
      ms_registry *r2 = open_reg(dir, &err);
      ms_store *s = r2 ? open_store(root, r2, false, -1, &err) : NULL;
      if (!s) _exit(2);
      for (int k = 0; k < EACH; k++) {
        char *a = NULL;
        if (ms_store_new_path(s, NULL, NULL, "csv", &a, &err) != MS_OK) _exit(2);
        if (!write_rows(root, a, 2, p * 1000 + k * 10)) _exit(2);
        ms_store_file add = {a, 2, 0, 0};
        ms_store_commit c = {.kind = "write_batch", .adds = &add, .n_adds = 1};
        int64_t g;
        if (ms_store_commit_files(s, &c, &g, &err) != MS_OK) {
          fprintf(stderr, "child %d: %s\n", p, err.message);
          _exit(3);
        }
        ms_free(a);
      }
      ms_store_close(s);
      ms_registry_close(r2);
      _exit(0);
    }
  }
  for (int p = 0; p < PROCS; p++) {
    int status;
    waitpid(pids[p], &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  ms_manifest m;
  CHECK_OK(ms_manifest_read(root, &m, &err), &err);
  CHECK_EQ_INT(m.generation, PROCS * EACH);
  CHECK_EQ_INT(m.n_files, PROCS * EACH);
  ms_manifest_reset(&m);
  ms_dataset *ds;
  CHECK_OK(ms_dataset_open(NULL, root, NULL, &ds, &err), &err);
  ms_table *t;
  CHECK_OK(ms_dataset_read(ds, NULL, &t, NULL, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), PROCS * EACH * 2);
  ms_table_release(t);
  ms_dataset_close(ds);
  ms_reg_data_commit *rc;
  int n;
  CHECK_OK(ms_registry_data_commits(reg, g_proj, "source:dir", &rc, &n, &err), &err);
  CHECK_EQ_INT(n, PROCS * EACH);
  for (int i = 0; i < n; i++) {
    CHECK_EQ_INT(rc[i].generation, i + 1);
    CHECK_STR(rc[i].state, "committed");
  }
  ms_reg_data_commits_free(rc, n);
  ms_registry_close(reg);
}

static void age(const char *root, const char *rel, int seconds) {
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  struct timespec ts[2];
  clock_gettime(CLOCK_REALTIME, &ts[0]);
  ts[0].tv_sec -= seconds;
  ts[1] = ts[0];
  utimensat(AT_FDCWD, path, ts, 0);
}

static void test_gc(void) {
  ms_error err;
  ms_error_init(&err);
  const char *root = fresh_dir("gc");
  ms_store *s = open_store(root, NULL, false, 100, &err);
  CHECK_OK(s ? MS_OK : err.status, &err);
  char *a, *b, *c, *orphan_old, *orphan_new;
  CHECK_OK(ms_store_new_path(s, "d=1", NULL, "csv", &a, &err), &err);
  CHECK_OK(ms_store_new_path(s, "d=1", NULL, "csv", &b, &err), &err);
  CHECK_OK(ms_store_new_path(s, "d=1", NULL, "csv", &c, &err), &err);
  CHECK_OK(ms_store_new_path(s, "d=2", NULL, "csv", &orphan_old, &err), &err);
  CHECK_OK(ms_store_new_path(s, "d=2", NULL, "csv", &orphan_new, &err), &err);
  CHECK(write_rows(root, a, 1, 0) && write_rows(root, b, 1, 1) && write_rows(root, c, 2, 2));
  CHECK(write_rows(root, orphan_old, 1, 0) && write_rows(root, orphan_new, 1, 0));
  CHECK(write_rows(root, "d=2/.x.csv.tmp-1-1", 1, 0) && write_rows(root, "d=2/.y.csv.tmp-1-2", 1, 0));
  CHECK(write_rows(root, "hand.csv", 1, 0));
  age(root, orphan_old, 200);
  age(root, "d=2/.x.csv.tmp-1-1", 200);
  age(root, "hand.csv", 200);
  ms_store_file adds[] = {{a, 1, 0, 0}, {b, 1, 0, 0}};
  ms_store_commit c1 = {.kind = "write_batch", .adds = adds, .n_adds = 2};
  int64_t g, deleted;
  CHECK_OK(ms_store_commit_files(s, &c1, &g, &err), &err);
  /* compaction: c replaces a and b */
  ms_store_file add_c = {c, 2, 0, 0};
  const char *rm[] = {a, b};
  ms_store_commit c2 = {.kind = "compact", .adds = &add_c, .n_adds = 1, .removes = rm,
                        .n_removes = 2};
  CHECK_OK(ms_store_commit_files(s, &c2, &g, &err), &err);
  CHECK_OK(ms_store_gc(s, &deleted, &err), &err);
  /* retention 100 s: a, b kept (just removed), orphan_new kept (young); old ones gone */
  CHECK_EQ_INT(deleted, 2);
  CHECK(exists(root, a) && exists(root, b) && exists(root, c) && exists(root, orphan_new));
  CHECK(!exists(root, orphan_old) && !exists(root, "d=2/.x.csv.tmp-1-1"));
  CHECK(exists(root, "d=2/.y.csv.tmp-1-2") && exists(root, "hand.csv"));
  ms_manifest m;
  CHECK_OK(ms_manifest_read(root, &m, &err), &err);
  CHECK_EQ_INT(m.n_removed, 2);
  ms_manifest_reset(&m);
  ms_store_close(s);
  /* retention 0: the removed files go and leave the manifest's removed list */
  s = open_store(root, NULL, false, 0, &err);
  CHECK_OK(s ? MS_OK : err.status, &err);
  CHECK_OK(ms_store_gc(s, &deleted, &err), &err);
  CHECK_EQ_INT(deleted, 4); /* a, b, orphan_new, the young temp */
  CHECK(!exists(root, a) && !exists(root, b) && exists(root, c) && exists(root, "hand.csv"));
  CHECK_OK(ms_manifest_read(root, &m, &err), &err);
  CHECK_EQ_INT(m.n_removed, 0);
  CHECK_EQ_INT(m.n_files, 1);
  CHECK_EQ_INT(m.generation, 2); /* a GC rewrite keeps the generation */
  ms_manifest_reset(&m);
  ms_store_status st;
  CHECK_OK(ms_store_check(s, &st, &err), &err);
  CHECK_MSG(st.agrees, "%s", st.message);
  CHECK_EQ_INT(st.orphans, 0);
  CHECK_EQ_INT(st.removed_pending, 0);
  ms_free(a);
  ms_free(b);
  ms_free(c);
  ms_free(orphan_old);
  ms_free(orphan_new);
  ms_store_close(s);
}

/* ---------------------------------------------------------------- registry migration */

static void test_registry_migration(void) {
  if (pg_mode()) return; /* the registry suite covers PostgreSQL's schema steps */
  ms_error err;
  ms_error_init(&err);
  const char *dir = fresh_dir("migrate");
  ms_registry *reg = open_reg(dir, &err);
  CHECK_OK(reg ? MS_OK : err.status, &err);
  ms_registry_close(reg);
  /* Make it a schema-1 registry: no data_commits table. */
  char loc[1300];
  snprintf(loc, sizeof loc, "%s/registry.db", dir);
  sqlite3 *db;
  CHECK(sqlite3_open(loc, &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "DROP TABLE data_commits; UPDATE meta SET value = '1' WHERE key = "
                         "'schema_version'",
                     NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  reg = open_reg(dir, &err);
  CHECK_OK(reg ? MS_OK : err.status, &err);
  ms_reg_data_commit r = {.generation = 1, .dataset = "logs:svc", .kind = "write_logs",
                          .path = "/x", .rows_added = 5, .total_rows = 5, .total_files = 1,
                          .user = "u", .host = "h", .detail_json = "{\"k\":1}"};
  CHECK_OK(ms_registry_data_prepare(reg, g_proj, &r, &err), &err);
  CHECK_OK(ms_registry_data_finish(reg, g_proj, "logs:svc", 1, true, NULL, &err), &err);
  CHECK(ms_registry_data_finish(reg, g_proj, "logs:svc", 1, true, NULL, &err) == MS_ERR_NOT_FOUND);
  ms_reg_data_commit *rc;
  int n;
  CHECK_OK(ms_registry_data_commits(reg, g_proj, "logs:svc", &rc, &n, &err), &err);
  CHECK_EQ_INT(n, 1);
  CHECK_STR(rc[0].kind, "write_logs");
  CHECK_STR(rc[0].user, "u");
  CHECK_STR(rc[0].detail_json, "{\"k\":1}");
  CHECK_EQ_INT(rc[0].rows_added, 5);
  ms_reg_data_commits_free(rc, n);
  int64_t pg;
  CHECK_OK(ms_registry_generation(reg, g_proj, &pg, &err), &err);
  CHECK_EQ_INT(pg, 0); /* data commits do not make definition plans stale */
  ms_registry_close(reg);
}

MS_TEST_MAIN(MS_TEST(test_token_names), MS_TEST(test_new_path), MS_TEST(test_manifest_roundtrip),
             MS_TEST(test_manifest_malformed), MS_TEST(test_commits_model),
             MS_TEST(test_reader_rules), MS_TEST(test_underscore_partitions),
             MS_TEST(test_recovery_directory),
             MS_TEST(test_single_file), MS_TEST(test_crash_points),
             MS_TEST(test_concurrent_appenders), MS_TEST(test_gc),
             MS_TEST(test_registry_migration))
