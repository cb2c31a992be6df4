/* `morsel example-data retail --out FILE [--scale X] [--seed N]`: deterministic synthetic
 * transactions with the UCI Online Retail schema (InvoiceNo, StockCode, Description,
 * Quantity, InvoiceDate, UnitPrice, CustomerID, Country) and, at scale 1, the real data's
 * shape: 2010-12-01 08:26 .. 2011-12-09 12:50, ~541,909 rows, ~4,372 customers, ~25,900
 * invoices, ~4,070 stock codes (the catalogue scales with --scale), ~16.5% of identified
 * invoices cancelled, ~25% of rows without CustomerID, no Saturdays, a November peak; the
 * first and the last invoice have a customer, as in the real file.
 *
 * How: a day table weights each day by month (rising to November, closed over Christmas
 * and on Saturdays). Each customer draws a heavy-tailed number of invoices (a third buy
 * once; a Pareto tail reaches a few hundred); guest invoices (no CustomerID) are fewer but
 * longer. Lines per invoice are drawn with a mean chosen so the row count lands near
 * scale x 541,909. A fraction of identified invoices gets a cancellation later in time by
 * the same customer, mirroring some of its lines with negative quantities. Invoices are
 * then sorted by time and numbered from 536365 ('C' prefix for cancellations). All
 * randomness is one splitmix64 stream seeded by --seed, used in a fixed order on one
 * thread, so the same seed and scale give the same bytes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/parquet.h"

typedef struct {
  uint64_t s;
} rng;

static uint64_t rnext(rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
/* uniform in (0, 1] */
static double runif(rng *r) { return ((double)(rnext(r) >> 11) + 1.0) / 9007199254740992.0; }
static int64_t rint_below(rng *r, int64_t n) { return n <= 1 ? 0 : (int64_t)(rnext(r) % (uint64_t)n); }

#define N_DAYS 374                /* 2010-12-01 .. 2011-12-09 */
#define START_MIN 21519360LL      /* 2010-12-01T00:00 in minutes since the epoch */
#define FIRST_MINUTE (8 * 60 + 26)
#define LAST_MINUTE (12 * 60 + 50)
#define N_PRODUCTS 4066           /* the catalogue at scale 1, plus POST, M, D, DOT */
#define FIRST_INVOICE 536365

enum { P_POST = -4, P_M, P_D, P_DOT }; /* special codes; catalogue products are >= 0 */

typedef struct {
  int64_t minute; /* minutes since the epoch */
  int32_t cust;   /* index into the customer table, -1 = guest */
  int32_t cancel; /* 1 = cancellation */
  int64_t line0, nlines, idx;
} invoice;

typedef struct {
  int32_t product, qty;
  int32_t cents;
} line;

typedef struct {
  invoice *inv;
  int64_t n_inv, cap_inv;
  line *ln;
  int64_t n_ln, cap_ln;
  int32_t n_products; /* the catalogue: N_PRODUCTS x scale */
} gen;

static ms_status grow(void **p, int64_t *cap, int64_t need, size_t elem, ms_error *err) {
  if (need <= *cap) return MS_OK;
  int64_t nc = *cap ? *cap * 2 : 1024;
  while (nc < need) nc *= 2;
  void *q = ms_realloc(*p, (size_t)nc * elem);
  if (!q) return ms_error_set(err, MS_ERR_NOMEM, "out of memory generating retail data");
  *p = q;
  *cap = nc;
  return MS_OK;
}

static const double k_month_weight[13] = {/* Dec10 .. Dec11 */
                                          0.95, 0.80, 0.75, 0.95, 0.80, 0.95, 0.90, 0.90,
                                          0.95, 1.35, 1.55, 2.00, 1.60};

static const char *const k_words1[] = {"WHITE", "RED", "PINK", "BLUE", "GREEN", "VINTAGE", "REGENCY",
                                       "HANGING", "JUMBO", "SMALL", "LARGE", "RETROSPOT", "PAISLEY",
                                       "HEART", "GLASS", "WOODEN", "CERAMIC", "SET OF 3", "PACK OF 12",
                                       "FRENCH", "ENGLISH", "STRIPED", "POLKADOT", "SWEETHEART"};
static const char *const k_words2[] = {"T-LIGHT HOLDER", "LUNCH BAG", "CAKE STAND", "TEACUP AND SAUCER",
                                       "MUG", "CANDLE", "BUNTING", "DOORMAT", "NOTEBOOK", "CLOCK",
                                       "BAG", "BOX", "FRAME", "LANTERN", "CUSHION COVER", "KEY RING",
                                       "WATER BOTTLE", "CHALKBOARD", "TEA TOWEL", "PARTY BUNTING",
                                       "STORAGE JAR", "PHOTO FRAME", "COAT HANGER", "PURSE"};
static const char *const k_countries[] = {"Germany", "France", "EIRE", "Spain", "Netherlands",
                                          "Belgium", "Switzerland", "Portugal", "Australia", "Norway",
                                          "Italy", "Channel Islands", "Finland", "Cyprus", "Sweden",
                                          "Austria", "Denmark", "Japan", "Poland", "USA"};
#define N_COUNTRIES ((int)(sizeof k_countries / sizeof k_countries[0]))
static const int32_t k_qty[] = {1, 1, 1, 2, 2, 3, 4, 4, 6, 6, 8, 10, 12, 12, 12, 24, 24, 36, 48, 96};

/* The day at quantile u in (0, 1] of the day weights. */
static int64_t day_at(double u, const double *cdf) {
  u *= cdf[N_DAYS - 1];
  int64_t lo = 0, hi = N_DAYS - 1;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (cdf[mid] >= u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/* A minute of the day: 07:00-19:59 on weekdays, busiest around midday; 09:00-16:59 Sundays. */
static int64_t pick_minute(rng *r, int64_t day) {
  bool sunday = (3 + day) % 7 == 0;
  int64_t span = sunday ? 8 * 60 : 13 * 60, base = sunday ? 9 * 60 : 7 * 60;
  int64_t m = base + (rint_below(r, span) + rint_below(r, span)) / 2; /* triangular */
  if (day == 0 && m < FIRST_MINUTE) m = FIRST_MINUTE + rint_below(r, 600);
  if (day == N_DAYS - 1 && m > LAST_MINUTE) m = 9 * 60 + rint_below(r, LAST_MINUTE - 9 * 60 + 1);
  return START_MIN + day * 1440 + m;
}

static int32_t pick_product(rng *r, int32_t n_products) {
  double u = runif(r);
  return (int32_t)((double)n_products * u * u * u) % n_products; /* popular items first */
}

static int32_t product_cents(int32_t p) {
  switch (p) {
  case P_POST: return 1800;
  case P_DOT: return 0; /* set per line */
  case P_M: return 0;
  case P_D: return 0;
  default: break;
  }
  uint64_t h = (uint64_t)p * 0x9e3779b97f4a7c15ULL;
  h ^= h >> 29;
  static const int32_t tiers[] = {29, 42, 55, 65, 85, 125, 165, 195, 210, 250, 295, 375, 425, 495, 595, 795, 1250, 1695};
  return tiers[h % (sizeof tiers / sizeof tiers[0])];
}

static ms_status add_line(gen *g, int32_t product, int32_t qty, int32_t cents, ms_error *err) {
  ms_status st = grow((void **)&g->ln, &g->cap_ln, g->n_ln + 1, sizeof(line), err);
  if (st) return st;
  g->ln[g->n_ln++] = (line){product, qty, cents};
  return MS_OK;
}

/* Lines of one purchase invoice: a mean of `mean` lines, occasional duplicates, zero-price
 * lines, postage for foreign customers, DOT postage on guest invoices, manual lines. */
static ms_status fill_invoice(gen *g, rng *r, invoice *iv, double mean, bool foreign, ms_error *err) {
  int64_t n = 1 + (int64_t)(-log(runif(r)) * (mean - 1.0));
  if (n > 800) n = 800;
  iv->line0 = g->n_ln;
  ms_status st = MS_OK;
  for (int64_t k = 0; k < n && st == MS_OK; k++) {
    if (k > 0 && rint_below(r, 100) == 0) { /* a duplicate of the previous line */
      line prev = g->ln[g->n_ln - 1];
      st = add_line(g, prev.product, prev.qty, prev.cents, err);
      continue;
    }
    int32_t p = pick_product(r, g->n_products);
    int32_t q = k_qty[rint_below(r, (int64_t)(sizeof k_qty / sizeof k_qty[0]))];
    int32_t c = product_cents(p);
    if (rint_below(r, 2000) == 0) c = 0;
    if (rint_below(r, 1500) == 0) {
      p = P_M;
      q = 1;
      c = (int32_t)(50 + rint_below(r, 2000));
    }
    st = add_line(g, p, q, c, err);
  }
  if (st == MS_OK && foreign && rint_below(r, 3) == 0) st = add_line(g, P_POST, (int32_t)(1 + rint_below(r, 3)), 1800, err);
  if (st == MS_OK && iv->cust < 0 && rint_below(r, 5) == 0)
    st = add_line(g, P_DOT, 1, (int32_t)(500 + rint_below(r, 50000)), err);
  iv->nlines = g->n_ln - iv->line0;
  return st;
}

static int cmp_invoice(const void *pa, const void *pb) {
  const invoice *a = pa, *b = pb;
  if (a->minute != b->minute) return a->minute < b->minute ? -1 : 1;
  if (a->cancel != b->cancel) return a->cancel < b->cancel ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static ms_status new_invoice(gen *g, invoice **out, ms_error *err) {
  ms_status st = grow((void **)&g->inv, &g->cap_inv, g->n_inv + 1, sizeof(invoice), err);
  if (st) return st;
  *out = &g->inv[g->n_inv];
  memset(*out, 0, sizeof **out);
  (*out)->idx = g->n_inv++;
  return MS_OK;
}

static ms_status generate(gen *g, double scale, uint64_t seed, int32_t **cust_country_out,
                          int64_t *n_cust_out, ms_error *err) {
  rng r = {seed};
  double cdf[N_DAYS];
  double acc = 0;
  for (int64_t d = 0; d < N_DAYS; d++) {
    /* day d's month index: 0 = Dec 2010 .. 12 = Dec 2011 */
    static const int mdays[13] = {31, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t rem = d, m = 0;
    while (m < 12 && rem >= mdays[m]) rem -= mdays[m++];
    bool saturday = (3 + d) % 7 == 6;
    bool closed = d >= 23 && d <= 33; /* 2010-12-24 .. 2011-01-03 */
    acc += (saturday || closed) ? 0.0 : k_month_weight[m];
    cdf[d] = acc;
  }
  double np = llround((double)N_PRODUCTS * scale);
  g->n_products = np < 50 ? 50 : (int32_t)np;
  int64_t n_cust = (int64_t)llround(4372.0 * scale);
  if (n_cust < 1) n_cust = 1;
  int64_t n_guest = (int64_t)llround(3710.0 * scale);
  if (n_guest < 2) n_guest = 2;
  double rows = 541909.0 * scale / 1.01; /* ~1% duplicates are added on top */
  double guest_rows = 0.249 * rows, cancel_rows = 0.017 * rows;
  int32_t *country = ms_malloc((size_t)n_cust * sizeof *country);
  int64_t *count = ms_malloc((size_t)n_cust * sizeof *count);
  if (!country || !count) {
    ms_free(country);
    ms_free(count);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory generating retail data");
  }
  int64_t n_purchase = 0;
  for (int64_t c = 0; c < n_cust; c++) {
    country[c] = rint_below(&r, 100) < 90 ? -1 : (int32_t)rint_below(&r, N_COUNTRIES);
    int64_t k = 1;
    if (runif(&r) > 0.34) {
      k = (int64_t)(2.0 * pow(runif(&r), -1.0 / 1.5)); /* Pareto tail, alpha 1.5 */
      if (k < 2) k = 2;
      if (k > 300) k = 300;
    }
    count[c] = k;
    n_purchase += k;
  }
  /* Nudge the multi-invoice customers so the invoice count lands on the real data's
   * 18,536 identified purchases per unit of scale (the Pareto draw alone is noisy). */
  int64_t target = (int64_t)llround(18536.0 * scale);
  for (int64_t tries = 0; n_purchase != target && tries < 100 * (target + n_purchase); tries++) {
    int64_t c = rint_below(&r, n_cust);
    if (n_purchase < target && count[c] >= 2 && count[c] < 300) count[c]++, n_purchase++;
    else if (n_purchase > target && count[c] > 2) count[c]--, n_purchase--;
  }
  /* The days of all purchase invoices (identified, then guests), drawn stratified (one per
   * 1/n quantile of the day weights) and shuffled: the monthly shape, the November peak
   * included, holds at small scales too instead of up to sampling noise. */
  int64_t n_days = n_purchase + n_guest, next_day = 0;
  int64_t *days = ms_malloc((size_t)n_days * sizeof *days);
  if (!days) {
    ms_free(country);
    ms_free(count);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory generating retail data");
  }
  for (int64_t j = 0; j < n_days; j++) days[j] = day_at(((double)j + runif(&r)) / (double)n_days, cdf);
  for (int64_t j = n_days - 1; j > 0; j--) {
    int64_t o = rint_below(&r, j + 1), tmp = days[j];
    days[j] = days[o];
    days[o] = tmp;
  }
  double mean_id = ((rows - guest_rows - cancel_rows) / (double)n_purchase);
  double mean_guest = guest_rows / (double)n_guest;
  if (mean_id < 1.0) mean_id = 1.0;
  if (mean_guest < 1.0) mean_guest = 1.0;
  ms_status st = MS_OK;
  for (int64_t c = 0; c < n_cust && st == MS_OK; c++) {
    for (int64_t k = 0; k < count[c] && st == MS_OK; k++) {
      invoice *iv;
      st = new_invoice(g, &iv, err);
      if (st) break;
      iv->cust = (int32_t)c;
      iv->minute = pick_minute(&r, days[next_day++]);
      /* as in the real file, the first and the last invoice have a customer (so the
       * cleaned data keeps the full date range and the cutoffs fall at 08:26) */
      if (c == 0 && k == 0) iv->minute = START_MIN + FIRST_MINUTE;
      else if (c == n_cust - 1 && k == count[c] - 1) iv->minute = START_MIN + (N_DAYS - 1) * 1440 + LAST_MINUTE;
      st = fill_invoice(g, &r, iv, mean_id, country[c] >= 0, err);
    }
  }
  for (int64_t k = 0; k < n_guest && st == MS_OK; k++) {
    invoice *iv;
    st = new_invoice(g, &iv, err);
    if (st) break;
    iv->cust = -1;
    iv->minute = k == 0 ? START_MIN + FIRST_MINUTE
                 : k == 1 ? START_MIN + (N_DAYS - 1) * 1440 + LAST_MINUTE
                          : pick_minute(&r, days[next_day]);
    next_day++;
    st = fill_invoice(g, &r, iv, mean_guest, false, err);
  }
  /* Cancellations: ~19.8% of purchase invoices get one (16.5% of all identified invoices). */
  int64_t n_orig = g->n_inv;
  const int64_t end_min = START_MIN + (N_DAYS - 1) * 1440 + LAST_MINUTE;
  for (int64_t i = 0; i < n_orig && st == MS_OK; i++) {
    if (g->inv[i].cust < 0 || runif(&r) > 0.1976) continue;
    invoice *cv;
    st = new_invoice(g, &cv, err);
    if (st) break;
    invoice *o = &g->inv[i]; /* after the possible move in new_invoice */
    cv->cust = o->cust;
    cv->cancel = 1;
    int64_t t = o->minute + 1 + rint_below(&r, 20 * 1440);
    int64_t day = (t - START_MIN) / 1440;
    if (t > end_min || (3 + day) % 7 == 6 || (day >= 23 && day <= 33)) t = o->minute;
    cv->minute = t;
    int64_t want = 1 + (int64_t)(-log(runif(&r)) * 1.4);
    if (want > o->nlines) want = o->nlines;
    cv->line0 = g->n_ln;
    int64_t from = rint_below(&r, o->nlines - want + 1);
    for (int64_t k = 0; k < want && st == MS_OK; k++) {
      line src = g->ln[o->line0 + from + k];
      int32_t q = rint_below(&r, 4) == 0 && src.qty > 1 ? (int32_t)(1 + rint_below(&r, src.qty)) : src.qty;
      st = add_line(g, src.product, -q, src.cents, err);
    }
    if (st == MS_OK && rint_below(&r, 40) == 0) st = add_line(g, P_D, -1, (int32_t)(500 + rint_below(&r, 5000)), err);
    cv->nlines = g->n_ln - cv->line0;
  }
  ms_free(count);
  ms_free(days);
  if (st) {
    ms_free(country);
    return st;
  }
  qsort(g->inv, (size_t)g->n_inv, sizeof(invoice), cmp_invoice);
  *cust_country_out = country;
  *n_cust_out = n_cust;
  return MS_OK;
}

static int64_t customer_id(int64_t c, int64_t n_cust) {
  return n_cust <= 5942 ? 12346 + c * 5941 / (n_cust > 1 ? n_cust - 1 : 1) : 12346 + c;
}

#define N_COLS 8

ms_status cli_example_retail(const cli_args *a, const char *out, ms_file_format fmt, ms_error *err) {
  double scale = 1.0;
  const char *ss = cli_opt(a, "scale");
  if (ss) {
    char *end = NULL;
    scale = strtod(ss, &end);
    if (!end || *end || !(scale > 0.0) || scale > 100.0)
      return ms_error_set(err, MS_ERR_INVALID, "--scale must be a number in (0, 100], got '%s'", ss);
  }
  int64_t seed = 42;
  ms_status st = cli_opt_int(a, "seed", INT64_MIN, INT64_MAX, &seed, err);
  if (st) return st;
  gen g = {0};
  int32_t *country = NULL;
  int64_t n_cust = 0;
  st = generate(&g, scale, (uint64_t)seed, &country, &n_cust, err);

  ms_field fields[N_COLS] = {
      {"InvoiceNo", ms_type(MS_TYPE_UTF8), false},   {"StockCode", ms_type(MS_TYPE_UTF8), false},
      {"Description", ms_type(MS_TYPE_UTF8), false}, {"Quantity", ms_type(MS_TYPE_INT64), false},
      {"InvoiceDate", ms_type_timestamp(MS_UNIT_MICRO, NULL), false},
      {"UnitPrice", ms_type(MS_TYPE_FLOAT64), false}, {"CustomerID", ms_type(MS_TYPE_INT64), true},
      {"Country", ms_type(MS_TYPE_UTF8), false},
  };
  ms_column_builder *b[N_COLS] = {0};
  ms_column *cols[N_COLS] = {0};
  for (int j = 0; j < N_COLS && st == MS_OK; j++) st = ms_column_builder_create(&fields[j].type, g.n_ln, &b[j], err);
  char buf[96];
  for (int64_t i = 0; i < g.n_inv && st == MS_OK; i++) {
    const invoice *iv = &g.inv[i];
    char no[16];
    int nl = snprintf(no, sizeof no, "%s%lld", iv->cancel ? "C" : "", (long long)(FIRST_INVOICE + i));
    const char *ctry = iv->cust >= 0 && country[iv->cust] >= 0 ? k_countries[country[iv->cust]] : "United Kingdom";
    for (int64_t k = 0; k < iv->nlines && st == MS_OK; k++) {
      const line *l = &g.ln[iv->line0 + k];
      st = ms_builder_append_bytes(b[0], no, nl);
      const char *code, *desc;
      char codebuf[16];
      switch (l->product) {
      case P_POST: code = "POST", desc = "POSTAGE"; break;
      case P_M: code = "M", desc = "Manual"; break;
      case P_D: code = "D", desc = "Discount"; break;
      case P_DOT: code = "DOT", desc = "DOTCOM POSTAGE"; break;
      default: {
        int32_t p = l->product;
        static const char suffix[] = "\0ABCDEFGLPS";
        char sfx = suffix[p % 11];
        if (p < 4280) snprintf(codebuf, sizeof codebuf, "%d%c", 10002 + p * 21, sfx ? sfx : '\0');
        else snprintf(codebuf, sizeof codebuf, "%d%c", 100000 + p, sfx ? sfx : '\0'); /* scale > 1 */
        code = codebuf;
        snprintf(buf, sizeof buf, "%s %s", k_words1[(p / 7) % 24], k_words2[p % 24]);
        desc = buf;
      }
      }
      if (!st) st = ms_builder_append_bytes(b[1], code, (int64_t)strlen(code));
      if (!st) st = ms_builder_append_bytes(b[2], desc, (int64_t)strlen(desc));
      if (!st) st = ms_builder_append_i64(b[3], l->qty);
      if (!st) st = ms_builder_append_i64(b[4], iv->minute * 60 * 1000000);
      if (!st) st = ms_builder_append_f64(b[5], (double)l->cents / 100.0);
      if (!st) st = iv->cust < 0 ? ms_builder_append_null(b[6]) : ms_builder_append_i64(b[6], customer_id(iv->cust, n_cust));
      if (!st) st = ms_builder_append_bytes(b[7], ctry, (int64_t)strlen(ctry));
    }
  }
  for (int j = 0; j < N_COLS && st == MS_OK; j++) st = ms_builder_finish(b[j], &cols[j], err);
  ms_free(g.inv);
  ms_free(g.ln);
  ms_free(country);
  if (st == MS_OK) st = cli_example_write(fields, cols, N_COLS, out, fmt, "retail", err);
  for (int j = 0; j < N_COLS; j++) {
    ms_column_release(cols[j]);
    ms_column_builder_destroy(b[j]);
  }
  return st;
}
