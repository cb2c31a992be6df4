/* Durations as written in repository files: "90d", "12h", "30m", "45s", "2w", combinations
 * in decreasing unit order ("1h30m", "1d12h"), and a plain "0". Formatting writes the
 * largest exact units (days, hours, minutes, seconds) so that "90m" and "1h30m" have one
 * canonical spelling. */
#include <stdio.h>
#include <string.h>

#include "morsel/repo.h"

bool ms_parse_duration(const char *text, int64_t *out_seconds) {
  if (!text || !*text) return false;
  if (!strcmp(text, "0")) {
    *out_seconds = 0;
    return true;
  }
  static const char units[] = "wdhms";
  static const int64_t mult[] = {604800, 86400, 3600, 60, 1};
  int last_unit = -1;
  int64_t total = 0;
  const char *p = text;
  while (*p) {
    if (*p < '0' || *p > '9') return false;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
      if (v > (INT64_MAX - 9) / 10) return false;
      v = v * 10 + (*p - '0');
      p++;
    }
    const char *u = *p ? strchr(units, *p) : NULL;
    if (!u) return false;
    int ui = (int)(u - units);
    if (ui <= last_unit) return false; /* each unit once, largest first */
    last_unit = ui;
    if (v > INT64_MAX / mult[ui] || total > INT64_MAX - v * mult[ui]) return false;
    total += v * mult[ui];
    p++;
  }
  *out_seconds = total;
  return true;
}

void ms_format_duration(int64_t seconds, char *buf, size_t buf_size) {
  if (!buf || buf_size == 0) return;
  if (seconds <= 0) {
    snprintf(buf, buf_size, seconds == 0 ? "0s" : "%llds", (long long)seconds);
    return;
  }
  static const char units[] = "dhms";
  static const int64_t mult[] = {86400, 3600, 60, 1};
  size_t len = 0;
  buf[0] = 0;
  for (int i = 0; i < 4 && seconds > 0; i++) {
    int64_t q = seconds / mult[i];
    if (q == 0) continue;
    seconds -= q * mult[i];
    int w = snprintf(buf + len, buf_size - len, "%lld%c", (long long)q, units[i]);
    if (w < 0 || (size_t)w >= buf_size - len) return;
    len += (size_t)w;
  }
}
