/* The registry's reader cache (ms_registry_set_cache_ttl): a reader keeps list answers for
 * the ttl, sees another handle's writes once the entry expires, and sees its own writes at
 * once. Two handles on one SQLite file stand in for two processes. */
#include <time.h>

#include "morsel/registry.h"
#include "ms_test.h"

static ms_status apply_entities(ms_registry *reg, const char *const *names, int n, ms_error *err) {
  ms_reg_object objs[8];
  for (int i = 0; i < n; i++) {
    objs[i].kind = "entity";
    objs[i].name = names[i];
    objs[i].json = "{}";
    objs[i].hash = names[i];
  }
  ms_reg_change *ch = NULL;
  int nch = 0;
  ms_status st = ms_registry_apply(reg, "p", objs, n, NULL, 0, -1, "u", "h", 0, NULL, &ch, &nch, err);
  ms_reg_changes_free(ch, nch);
  return st;
}

static int count_entities(ms_registry *reg, ms_error *err) {
  ms_reg_object *o = NULL;
  int n = -1;
  if (ms_registry_list(reg, "p", "entity", &o, &n, err) != MS_OK) return -1;
  ms_reg_objects_free(o, n);
  return n;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void test_cache_ttl(void) {
  char path[1200];
  snprintf(path, sizeof path, "%s/cache.db", ms_test_tmpdir());
  remove(path);
  ms_error err;
  ms_error_init(&err);
  ms_registry *writer, *reader;
  CHECK_OK(ms_registry_open(path, &writer, &err), &err);
  CHECK_OK(ms_registry_open(path, &reader, &err), &err);
  const char *one[] = {"a"}, *two[] = {"a", "b"}, *three[] = {"a", "b", "c"};
  CHECK_OK(apply_entities(writer, one, 1, &err), &err);
  ms_registry_set_cache_ttl(reader, 1);
  CHECK_EQ_INT(count_entities(reader, &err), 1);
  CHECK_OK(apply_entities(writer, two, 2, &err), &err);
  CHECK_EQ_INT(count_entities(reader, &err), 1); /* still the cached answer */
  CHECK_EQ_INT(count_entities(writer, &err), 2); /* the writer has no cache */
  sleep_ms(1100);
  CHECK_EQ_INT(count_entities(reader, &err), 2); /* expired: fresh answer */
  /* the reader's own write clears its cache at once */
  CHECK_OK(apply_entities(reader, three, 3, &err), &err);
  CHECK_EQ_INT(count_entities(reader, &err), 3);
  /* ttl 0 turns caching off */
  ms_registry_set_cache_ttl(reader, 0);
  CHECK_OK(apply_entities(writer, one, 1, &err), &err);
  CHECK_EQ_INT(count_entities(reader, &err), 1);
  ms_registry_close(reader);
  ms_registry_close(writer);
}

MS_TEST_MAIN(MS_TEST(test_cache_ttl))
