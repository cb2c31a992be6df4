/* Expression checker: resolves names against the inputs and functions, assigns every node
 * a value kind, and rewrites the tree so that the compiler only sees operations on equal
 * kinds:
 *   - int mixed with float converts the int (so int = int stays exact, int = float is a
 *     float comparison); a date mixed with a timestamp converts the date (midnight, UTC);
 *   - a string literal next to a timestamp or date is parsed as one at compile time
 *     (ts >= '2011-01-01');
 *   - a null literal takes the kind its context needs ("settling"); an expression that is
 *     null whatever its inputs becomes a null literal;
 *   - x [not] in (a, b) becomes [not] (x = a or x = b), which is SQL's null semantics.
 * Conversions are N_CAST nodes whose vk is the target kind. Errors name the position of
 * the operator or function and the kinds involved. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "expr/expr_int.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"

const ms_expr_func_info ms_expr_funcs[] = {
    {"coalesce", F_COALESCE, 1, -1}, {"if", F_IF, 3, 3},
    {"abs", F_ABS, 1, 1},            {"round", F_ROUND, 1, 2},
    {"floor", F_FLOOR, 1, 1},        {"ceil", F_CEIL, 1, 1},
    {"sqrt", F_SQRT, 1, 1},          {"log", F_LOG, 1, 1},
    {"exp", F_EXP, 1, 1},            {"pow", F_POW, 2, 2},
    {"least", F_LEAST, 1, -1},       {"greatest", F_GREATEST, 1, -1},
    {"clip", F_CLIP, 3, 3},          {"starts_with", F_STARTS_WITH, 2, 2},
    {"ends_with", F_ENDS_WITH, 2, 2}, {"contains", F_CONTAINS, 2, 2},
    {"lower", F_LOWER, 1, 1},        {"upper", F_UPPER, 1, 1},
    {"length", F_LENGTH, 1, 1},      {"substr", F_SUBSTR, 2, 3},
    {"concat", F_CONCAT, 1, -1},     {"date_diff", F_DATE_DIFF, 3, 3},
    {"extract", F_EXTRACT, 2, 2},    {"cast", 0, 0, 0},
};
const int ms_expr_n_funcs = (int)(sizeof ms_expr_funcs / sizeof ms_expr_funcs[0]);

const char *ms_expr_kind_name(ms_expr_kind k) {
  static const char *n[] = {"null", "bool", "int64", "float64", "string", "timestamp",
                            "duration", "date"};
  return n[k];
}

int ms_expr_extract_part(const char *name) {
  static const char *parts[] = {"year", "month", "day", "hour", "minute", "second", "dow", "doy"};
  for (int i = 0; i < 8; i++)
    if (strcasecmp(name, parts[i]) == 0) return i;
  return -1;
}

int64_t ms_expr_unit_ns(const char *name) {
  static const struct { const char *n; int64_t ns; } u[] = {
      {"week", 7 * 86400000000000LL}, {"day", 86400000000000LL}, {"hour", 3600000000000LL},
      {"minute", 60000000000LL},      {"second", 1000000000LL},   {"millisecond", 1000000LL},
      {"microsecond", 1000LL},        {"nanosecond", 1LL}};
  for (size_t i = 0; i < sizeof u / sizeof *u; i++)
    if (strcasecmp(name, u[i].n) == 0) return u[i].ns;
  return 0;
}

/* Levenshtein distance, capped (strings of names are short). */
static int edit_distance(const char *a, const char *b) {
  int la = (int)strlen(a), lb = (int)strlen(b);
  if (la > 64 || lb > 64) return 99;
  int d[65][65];
  for (int i = 0; i <= la; i++) d[i][0] = i;
  for (int j = 0; j <= lb; j++) d[0][j] = j;
  for (int i = 1; i <= la; i++)
    for (int j = 1; j <= lb; j++) {
      int ca = a[i - 1], cb = b[j - 1];
      if (ca >= 'A' && ca <= 'Z') ca += 32;
      if (cb >= 'A' && cb <= 'Z') cb += 32;
      int v = d[i - 1][j - 1] + (ca != cb);
      if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      d[i][j] = v;
    }
  return d[la][lb];
}

const char *ms_expr_suggest(const char *name, const char *const *cands, int n) {
  const char *best = NULL;
  int best_d = 1 << 30;
  int len = (int)strlen(name);
  int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
  for (int i = 0; i < n; i++) {
    int d = edit_distance(name, cands[i]);
    if (d < best_d) {
      best_d = d;
      best = cands[i];
    }
  }
  return best_d <= limit ? best : NULL;
}

typedef struct checker {
  const char *src;
  ms_expr_pool *pool;
  const ms_field *inputs;
  int n_inputs;
  ms_error *err;
} checker;

static ms_status nomem(checker *c) { return ms_error_set(c->err, MS_ERR_NOMEM, "out of memory"); }

static ms_status fail(checker *c, int pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ms_status fail(checker *c, int pos, const char *fmt, ...) {
  char msg[800];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ms_expr_error_at(c->err, MS_ERR_INVALID, c->src, pos, "%s", msg);
}

static const char *op_name(int op) {
  switch (op) {
    case T_PLUS: return "+";
    case T_MINUS: return "-";
    case T_STAR: return "*";
    case T_SLASH: return "/";
    case T_PERCENT: return "%";
    case T_EQ: return "=";
    case T_NE: return "!=";
    case T_LT: return "<";
    case T_LE: return "<=";
    case T_GT: return ">";
    case T_GE: return ">=";
    case OPK_AND: return "and";
    case OPK_OR: return "or";
    case OPK_NOT: return "not";
    default: return "?";
  }
}

/* Turns *pn into a null literal of kind k. */
static void make_null(ms_expr_node *n, ms_expr_kind k, bool aware) {
  n->kind = N_LIT;
  n->lit_kind = EK_NULL;
  n->n_args = 0;
  n->vk = k;
  n->aware = aware;
}

/* Wraps *pn in a conversion to kind k. */
static ms_status convert(checker *c, ms_expr_node **pn, ms_expr_kind k, bool aware) {
  ms_expr_node *n = *pn;
  if (n->vk == k && (k != EK_TS || n->aware == aware)) return MS_OK;
  if (n->vk == EK_NULL) {
    make_null(n, k, aware);
    return MS_OK;
  }
  if (n->vk == EK_TS && k == EK_TS) { /* naive <-> UTC: same ns */
    n->aware = aware;
    return MS_OK;
  }
  ms_expr_node *w = ms_expr_node_new(c->pool, N_CAST, n->pos);
  if (!w || ms_expr_node_add_arg(w, n)) return nomem(c);
  w->vk = k;
  w->aware = aware;
  *pn = w;
  return MS_OK;
}

static bool is_num(ms_expr_kind k) { return k == EK_INT || k == EK_FLOAT; }

/* A string literal used as a timestamp/date: parsed now. */
static bool literal_as_time(ms_expr_node *n, ms_expr_kind k) {
  if (n->kind != N_LIT || n->lit_kind != EK_STR) return false;
  if (k == EK_DATE) {
    int32_t d;
    if (!ms_parse_date(n->sval, (size_t)n->slen, &d)) return false;
    n->lit_kind = EK_DATE;
    n->ival = d;
    n->vk = EK_DATE;
    return true;
  }
  bool aware;
  int64_t ns;
  if (!ms_parse_timestamp_ns(n->sval, (size_t)n->slen, &ns, &aware)) return false;
  n->lit_kind = EK_TS;
  n->ival = ns;
  n->lit_aware = aware;
  n->vk = EK_TS;
  n->aware = aware;
  return true;
}

/* The common kind of a set of already checked nodes, converting them to it. Returns false
 * (nothing changed that matters) when they have none. */
static ms_status unify(checker *c, ms_expr_node **args, int n, bool *ok) {
  ms_expr_kind k = EK_NULL;
  bool aware = false;
  *ok = true;
  /* time literals first: a string literal next to a timestamp/date column is one */
  bool has_ts = false, has_date = false;
  for (int i = 0; i < n; i++) {
    if (args[i]->vk == EK_TS) has_ts = true;
    if (args[i]->vk == EK_DATE) has_date = true;
  }
  if (has_ts || has_date)
    for (int i = 0; i < n; i++) literal_as_time(args[i], has_ts ? EK_TS : EK_DATE);
  for (int i = 0; i < n; i++) {
    ms_expr_kind ak = args[i]->vk;
    if (ak == EK_NULL) continue;
    if (ak == EK_TS && args[i]->aware) aware = true;
    if (k == EK_NULL || k == ak) {
      k = ak;
    } else if (is_num(k) && is_num(ak)) {
      k = EK_FLOAT;
    } else if ((k == EK_TS && ak == EK_DATE) || (k == EK_DATE && ak == EK_TS)) {
      k = EK_TS;
    } else {
      *ok = false;
      return MS_OK;
    }
  }
  for (int i = 0; i < n; i++) {
    ms_status st = convert(c, &args[i], k, aware);
    if (st) return st;
  }
  return MS_OK;
}

static ms_status check(checker *c, ms_expr_node **pn);

static ms_status check_args(checker *c, ms_expr_node *n) {
  for (int i = 0; i < n->n_args; i++) {
    ms_status st = check(c, &n->args[i]);
    if (st) return st;
  }
  return MS_OK;
}

static ms_status check_column(checker *c, ms_expr_node *n) {
  for (int i = 0; i < c->n_inputs; i++) {
    if (strcmp(c->inputs[i].name, n->name) != 0) continue;
    const ms_datatype *t = &c->inputs[i].type;
    n->input = i;
    if (ms_type_is_integer(t)) n->vk = EK_INT;
    else if (ms_type_is_float(t)) n->vk = EK_FLOAT;
    else if (ms_type_is_string(t)) n->vk = EK_STR;
    else if (t->id == MS_TYPE_BOOL) n->vk = EK_BOOL;
    else if (t->id == MS_TYPE_DATE32) n->vk = EK_DATE;
    else if (t->id == MS_TYPE_NULL) n->vk = EK_NULL;
    else if (t->id == MS_TYPE_TIMESTAMP) {
      n->vk = EK_TS;
      n->aware = t->tz[0] != 0;
    } else {
      char b[128];
      return fail(c, n->pos, "column '%s' has type %s, which expressions do not support",
                  n->name, ms_type_to_string(t, b, sizeof b));
    }
    return MS_OK;
  }
  const char **cands = ms_malloc(sizeof(char *) * (size_t)(c->n_inputs + 1));
  if (!cands) return nomem(c);
  for (int i = 0; i < c->n_inputs; i++) cands[i] = c->inputs[i].name;
  const char *s = ms_expr_suggest(n->name, cands, c->n_inputs);
  ms_status st = s ? fail(c, n->pos, "unknown column '%s' (did you mean '%s'?)", n->name, s)
                   : fail(c, n->pos, "unknown column '%s'", n->name);
  ms_free(cands);
  return st;
}

/* Result kind of arithmetic; converts arguments. */
static ms_status check_arith(checker *c, ms_expr_node *n) {
  ms_expr_node **a = &n->args[0], **b = &n->args[1];
  ms_expr_kind ka = (*a)->vk, kb = (*b)->vk;
  int op = n->op;
  ms_status st = MS_OK;
  if (ka == EK_NULL && kb == EK_NULL) {
    make_null(n, EK_NULL, false);
    return MS_OK;
  }
  /* a null takes the kind that makes the operation valid with the other side */
  if (ka == EK_NULL) {
    ms_expr_kind k = kb;
    if (kb == EK_TS && op == T_PLUS) k = EK_DUR;
    else if (kb == EK_DUR && op == T_STAR) k = EK_INT;
    if ((st = convert(c, a, k, (*b)->aware))) return st;
    ka = k;
  } else if (kb == EK_NULL) {
    ms_expr_kind k = ka;
    if ((ka == EK_TS || ka == EK_DATE) && op != T_MINUS) k = EK_DUR;
    else if (ka == EK_DUR && op == T_STAR) k = EK_INT;
    if (ka == EK_DATE && op == T_MINUS) k = EK_DATE;
    if ((st = convert(c, b, k, (*a)->aware))) return st;
    kb = k;
  }
  if (is_num(ka) && is_num(kb)) {
    if (op == T_SLASH || ka == EK_FLOAT || kb == EK_FLOAT) {
      if ((st = convert(c, a, EK_FLOAT, false)) || (st = convert(c, b, EK_FLOAT, false))) return st;
      n->vk = EK_FLOAT;
    } else {
      n->vk = EK_INT;
    }
    return MS_OK;
  }
  bool aware = (*a)->aware || (*b)->aware;
  if (ka == EK_DATE && (kb == EK_DUR || kb == EK_TS || kb == EK_DATE) &&
      (op == T_PLUS || op == T_MINUS)) {
    if ((st = convert(c, a, EK_TS, aware))) return st;
    ka = EK_TS;
  }
  if (kb == EK_DATE && (ka == EK_DUR || ka == EK_TS) && (op == T_PLUS || op == T_MINUS)) {
    if (!(ka == EK_DUR && op == T_MINUS)) {
      if ((st = convert(c, b, EK_TS, aware))) return st;
      kb = EK_TS;
    }
  }
  switch (op) {
    case T_PLUS:
      if (ka == EK_TS && kb == EK_DUR) { n->vk = EK_TS; n->aware = (*a)->aware; return MS_OK; }
      if (ka == EK_DUR && kb == EK_TS) { n->vk = EK_TS; n->aware = (*b)->aware; return MS_OK; }
      if (ka == EK_DUR && kb == EK_DUR) { n->vk = EK_DUR; return MS_OK; }
      break;
    case T_MINUS:
      if (ka == EK_TS && kb == EK_DUR) { n->vk = EK_TS; n->aware = (*a)->aware; return MS_OK; }
      if (ka == EK_TS && kb == EK_TS) { n->vk = EK_DUR; return MS_OK; }
      if (ka == EK_DUR && kb == EK_DUR) { n->vk = EK_DUR; return MS_OK; }
      break;
    case T_STAR:
      if ((ka == EK_DUR && kb == EK_INT) || (ka == EK_INT && kb == EK_DUR)) { n->vk = EK_DUR; return MS_OK; }
      break;
    case T_SLASH:
      if (ka == EK_DUR && kb == EK_DUR) {
        if ((st = convert(c, a, EK_FLOAT, false)) || (st = convert(c, b, EK_FLOAT, false))) return st;
        n->vk = EK_FLOAT;
        return MS_OK;
      }
      break;
    default:
      break;
  }
  const char *needs = op == T_PLUS || op == T_MINUS ? "numbers, timestamps or durations"
                      : op == T_STAR ? "numbers (or a duration and an int64)"
                                     : "numbers";
  return fail(c, n->pos, "'%s' needs %s; got %s and %s", op_name(op), needs,
              ms_expr_kind_name(ka), ms_expr_kind_name(kb));
}

static ms_status check_compare(checker *c, ms_expr_node *n) {
  bool ok;
  ms_expr_kind ka = n->args[0]->vk, kb = n->args[1]->vk;
  ms_status st = unify(c, n->args, 2, &ok);
  if (st) return st;
  if (!ok)
    return fail(c, n->pos, "cannot compare %s with %s", ms_expr_kind_name(ka), ms_expr_kind_name(kb));
  if (n->args[0]->vk == EK_NULL) {
    make_null(n, EK_BOOL, false);
    return MS_OK;
  }
  n->vk = EK_BOOL;
  return MS_OK;
}

static ms_status need(checker *c, ms_expr_node **pn, ms_expr_kind k, const char *what, int pos,
                      const char *fname) {
  ms_expr_node *n = *pn;
  if (n->vk == k) return MS_OK;
  if (n->vk == EK_NULL) return convert(c, pn, k, false);
  if (k == EK_FLOAT && n->vk == EK_INT) return convert(c, pn, k, false);
  return fail(c, pos, "%s needs %s; got %s", fname, what, ms_expr_kind_name(n->vk));
}

static const ms_expr_func_info *find_func(const char *name) {
  for (int i = 0; i < ms_expr_n_funcs; i++)
    if (strcasecmp(ms_expr_funcs[i].name, name) == 0) return &ms_expr_funcs[i];
  return NULL;
}

/* Can a value of kind `from` be cast to `to`? */
static bool castable(ms_expr_kind from, ms_expr_kind to) {
  if (from == to || from == EK_NULL) return true;
  switch (to) {
    case EK_INT: return from == EK_FLOAT || from == EK_BOOL || from == EK_STR;
    case EK_FLOAT: return from == EK_INT || from == EK_BOOL || from == EK_STR;
    case EK_BOOL: return from == EK_INT || from == EK_FLOAT || from == EK_STR;
    case EK_STR: return from != EK_DUR;
    case EK_TS: return from == EK_STR || from == EK_DATE;
    case EK_DATE: return from == EK_STR || from == EK_TS;
    default: return false;
  }
}

static ms_status check_cast(checker *c, ms_expr_node *n) {
  const ms_datatype *t = &n->cast_to;
  ms_expr_kind k;
  bool aware = false;
  if (ms_type_is_integer(t)) k = EK_INT;
  else if (ms_type_is_float(t)) k = EK_FLOAT;
  else if (ms_type_is_string(t)) k = EK_STR;
  else if (t->id == MS_TYPE_BOOL) k = EK_BOOL;
  else if (t->id == MS_TYPE_DATE32) k = EK_DATE;
  else if (t->id == MS_TYPE_TIMESTAMP) {
    k = EK_TS;
    aware = t->tz[0] != 0;
  } else {
    char b[128];
    return fail(c, n->pos, "cannot cast to %s (expressions use int64, float64, string, bool, "
                "timestamp and date)", ms_type_to_string(t, b, sizeof b));
  }
  ms_expr_node *a = n->args[0];
  if (!castable(a->vk, k))
    return fail(c, n->pos, "cannot cast %s to %s", ms_expr_kind_name(a->vk), ms_expr_kind_name(k));
  if (a->vk == EK_NULL) {
    make_null(n, k, aware);
    return MS_OK;
  }
  n->vk = k;
  n->aware = aware;
  if (a->vk == EK_TS && k == EK_TS) n->aware = aware;
  return MS_OK;
}

static ms_status check_call(checker *c, ms_expr_node **pn) {
  ms_expr_node *n = *pn;
  const ms_expr_func_info *f = find_func(n->name);
  if (!f || f->id == 0) {
    const char *names[64];
    for (int i = 0; i < ms_expr_n_funcs; i++) names[i] = ms_expr_funcs[i].name;
    const char *s = ms_expr_suggest(n->name, names, ms_expr_n_funcs);
    if (f) s = NULL;
    return s ? fail(c, n->pos, "unknown function '%s' (did you mean '%s'?)", n->name, s)
             : fail(c, n->pos, "unknown function '%s'", n->name);
  }
  n->func = f->id;
  if (n->n_args < f->min_args || (f->max_args >= 0 && n->n_args > f->max_args)) {
    if (f->min_args == f->max_args)
      return fail(c, n->pos, "%s takes %d argument%s, got %d", f->name, f->min_args,
                  f->min_args == 1 ? "" : "s", n->n_args);
    if (f->max_args < 0)
      return fail(c, n->pos, "%s takes at least %d argument%s, got %d", f->name, f->min_args,
                  f->min_args == 1 ? "" : "s", n->n_args);
    return fail(c, n->pos, "%s takes %d to %d arguments, got %d", f->name, f->min_args,
                f->max_args, n->n_args);
  }
  ms_status st = check_args(c, n);
  if (st) return st;
  ms_expr_node **a = n->args;
  bool ok;
  const char *fn = f->name;
  switch (f->id) {
    case F_COALESCE:
    case F_LEAST:
    case F_GREATEST:
    case F_CLIP:
      if ((st = unify(c, a, n->n_args, &ok))) return st;
      if (!ok) {
        char kinds[256] = "";
        for (int i = 0; i < n->n_args; i++) {
          if (i) strcat(kinds, i == n->n_args - 1 ? " and " : ", ");
          if (strlen(kinds) < 200) strcat(kinds, ms_expr_kind_name(a[i]->vk));
        }
        return fail(c, n->pos, "%s needs arguments of one type; got %s", fn, kinds);
      }
      n->vk = a[0]->vk;
      n->aware = a[0]->aware;
      if (n->vk == EK_NULL) make_null(n, EK_NULL, false);
      return MS_OK;
    case F_IF:
      if ((st = need(c, &a[0], EK_BOOL, "a bool condition", n->pos, fn))) return st;
      if ((st = unify(c, a + 1, 2, &ok))) return st;
      if (!ok)
        return fail(c, n->pos, "if needs both branches of one type; got %s and %s",
                    ms_expr_kind_name(a[1]->vk), ms_expr_kind_name(a[2]->vk));
      n->vk = a[1]->vk;
      n->aware = a[1]->aware;
      if (n->vk == EK_NULL) make_null(n, EK_NULL, false);
      return MS_OK;
    case F_ABS:
      if (a[0]->vk == EK_NULL) { make_null(n, EK_NULL, false); return MS_OK; }
      if (!is_num(a[0]->vk) && a[0]->vk != EK_DUR)
        return fail(c, n->pos, "abs needs a number or duration; got %s", ms_expr_kind_name(a[0]->vk));
      n->vk = a[0]->vk;
      return MS_OK;
    case F_ROUND:
    case F_FLOOR:
    case F_CEIL:
      if (a[0]->vk == EK_NULL && (st = convert(c, &a[0], EK_FLOAT, false))) return st;
      if (!is_num(a[0]->vk))
        return fail(c, n->pos, "%s needs a number; got %s", fn, ms_expr_kind_name(a[0]->vk));
      if (n->n_args == 2 && (st = need(c, &a[1], EK_INT, "int64 digits", n->pos, fn))) return st;
      n->vk = a[0]->vk;
      return MS_OK;
    case F_SQRT:
    case F_LOG:
    case F_EXP:
    case F_POW:
      for (int i = 0; i < n->n_args; i++)
        if ((st = need(c, &a[i], EK_FLOAT, "numbers", n->pos, fn))) return st;
      n->vk = EK_FLOAT;
      return MS_OK;
    case F_STARTS_WITH:
    case F_ENDS_WITH:
    case F_CONTAINS:
      for (int i = 0; i < 2; i++)
        if ((st = need(c, &a[i], EK_STR, "strings", n->pos, fn))) return st;
      n->vk = EK_BOOL;
      return MS_OK;
    case F_LOWER:
    case F_UPPER:
    case F_LENGTH:
      if ((st = need(c, &a[0], EK_STR, "a string", n->pos, fn))) return st;
      n->vk = f->id == F_LENGTH ? EK_INT : EK_STR;
      return MS_OK;
    case F_SUBSTR:
      if ((st = need(c, &a[0], EK_STR, "a string", n->pos, fn))) return st;
      for (int i = 1; i < n->n_args; i++)
        if ((st = need(c, &a[i], EK_INT, "int64 positions", n->pos, fn))) return st;
      n->vk = EK_STR;
      return MS_OK;
    case F_CONCAT:
      for (int i = 0; i < n->n_args; i++) {
        if (a[i]->vk == EK_DUR)
          return fail(c, a[i]->pos, "concat cannot format a duration");
        if ((st = convert(c, &a[i], EK_STR, false))) return st;
      }
      n->vk = EK_STR;
      return MS_OK;
    case F_DATE_DIFF:
    case F_EXTRACT: {
      bool dd = f->id == F_DATE_DIFF;
      if (a[0]->kind != N_LIT || a[0]->lit_kind != EK_STR)
        return fail(c, a[0]->pos, dd ? "date_diff needs a unit string first ('day', 'hour', ...)"
                                     : "extract needs a part name first (year, month, ...)");
      if (dd ? ms_expr_unit_ns(a[0]->sval) == 0 : ms_expr_extract_part(a[0]->sval) < 0)
        return fail(c, a[0]->pos, dd ? "unknown date_diff unit '%s' (week, day, hour, minute, "
                                       "second, millisecond, microsecond, nanosecond)"
                                     : "unknown extract part '%s' (year, month, day, hour, "
                                       "minute, second, dow, doy)", a[0]->sval);
      a[0]->vk = EK_STR;
      for (int i = 1; i < n->n_args; i++) {
        literal_as_time(a[i], EK_TS);
        if (a[i]->vk == EK_NULL) {
          if ((st = convert(c, &a[i], EK_TS, false))) return st;
        } else if (a[i]->vk == EK_DATE && dd) {
          if ((st = convert(c, &a[i], EK_TS, false))) return st;
        } else if (a[i]->vk != EK_TS && a[i]->vk != EK_DATE) {
          return fail(c, a[i]->pos, "%s needs a timestamp or date; got %s", fn,
                      ms_expr_kind_name(a[i]->vk));
        }
      }
      n->vk = EK_INT;
      return MS_OK;
    }
    default:
      return fail(c, n->pos, "internal: unhandled function %s", fn);
  }
  return MS_OK;
}

static ms_status check_case(checker *c, ms_expr_node *n) {
  ms_status st = check_args(c, n);
  if (st) return st;
  int n_when = n->n_args / 2;
  for (int i = 0; i < n_when; i++)
    if ((st = need(c, &n->args[2 * i], EK_BOOL, "bool conditions", n->args[2 * i]->pos, "case")))
      return st;
  /* values: odd positions plus the else */
  int nv = n_when + (n->has_else ? 1 : 0);
  ms_expr_node **vals = ms_malloc(sizeof(ms_expr_node *) * (size_t)nv);
  if (!vals) return nomem(c);
  for (int i = 0; i < n_when; i++) vals[i] = n->args[2 * i + 1];
  if (n->has_else) vals[n_when] = n->args[n->n_args - 1];
  bool ok;
  st = unify(c, vals, nv, &ok);
  if (!st && !ok) {
    ms_expr_kind k0 = vals[0]->vk;
    int bad = 0;
    for (int i = 1; i < nv; i++)
      if (vals[i]->vk != EK_NULL && vals[i]->vk != k0) { bad = i; break; }
    st = fail(c, vals[bad]->pos, "case needs values of one type; got %s and %s",
              ms_expr_kind_name(k0), ms_expr_kind_name(vals[bad]->vk));
  }
  if (!st) {
    for (int i = 0; i < n_when; i++) n->args[2 * i + 1] = vals[i];
    if (n->has_else) n->args[n->n_args - 1] = vals[n_when];
    n->vk = vals[0]->vk;
    n->aware = vals[0]->aware;
    if (n->vk == EK_NULL) make_null(n, EK_NULL, false);
  }
  ms_free(vals);
  return st;
}

/* x [not] in (a, b, ...) -> [not] (x = a or x = b ...). */
static ms_status check_in(checker *c, ms_expr_node **pn) {
  ms_expr_node *n = *pn;
  ms_status st = check_args(c, n);
  if (st) return st;
  ms_expr_node *acc = NULL;
  for (int i = 1; i < n->n_args; i++) {
    ms_expr_node *eq = ms_expr_node_new(c->pool, N_BINARY, n->args[i]->pos);
    if (!eq || ms_expr_node_add_arg(eq, n->args[0]) || ms_expr_node_add_arg(eq, n->args[i]))
      return nomem(c);
    eq->op = T_EQ;
    ms_expr_kind ka = n->args[0]->vk, kb = n->args[i]->vk;
    if ((st = check_compare(c, eq)))
      return fail(c, n->args[i]->pos, "in: cannot compare %s with %s", ms_expr_kind_name(ka),
                  ms_expr_kind_name(kb));
    if (!acc) {
      acc = eq;
    } else {
      ms_expr_node *o = ms_expr_node_new(c->pool, N_BINARY, n->pos);
      if (!o || ms_expr_node_add_arg(o, acc) || ms_expr_node_add_arg(o, eq)) return nomem(c);
      o->op = OPK_OR;
      o->vk = EK_BOOL;
      acc = o;
    }
  }
  if (n->negate) {
    ms_expr_node *o = ms_expr_node_new(c->pool, N_UNARY, n->pos);
    if (!o || ms_expr_node_add_arg(o, acc)) return nomem(c);
    o->op = OPK_NOT;
    o->vk = EK_BOOL;
    acc = o;
  }
  *pn = acc;
  return MS_OK;
}

static ms_status check(checker *c, ms_expr_node **pn) {
  ms_expr_node *n = *pn;
  ms_status st;
  switch (n->kind) {
    case N_LIT:
      n->vk = n->lit_kind;
      n->aware = n->lit_aware;
      return MS_OK;
    case N_COL:
      return check_column(c, n);
    case N_CALL:
      return check_call(c, pn);
    case N_CASE:
      return check_case(c, n);
    case N_IN:
      return check_in(c, pn);
    case N_CAST:
      if ((st = check_args(c, n))) return st;
      return check_cast(c, n);
    case N_ISNULL:
      if ((st = check_args(c, n))) return st;
      n->vk = EK_BOOL;
      if (n->args[0]->vk == EK_NULL) { /* null is null: a constant */
        n->kind = N_LIT;
        n->lit_kind = EK_BOOL;
        n->ival = !n->negate;
        n->n_args = 0;
      }
      return MS_OK;
    case N_UNARY:
      if ((st = check_args(c, n))) return st;
      if (n->op == OPK_NOT) {
        if ((st = need(c, &n->args[0], EK_BOOL, "a bool", n->pos, "not"))) return st;
        n->vk = EK_BOOL;
        return MS_OK;
      }
      if (n->args[0]->vk == EK_NULL) { make_null(n, EK_NULL, false); return MS_OK; }
      if (!is_num(n->args[0]->vk) && n->args[0]->vk != EK_DUR)
        return fail(c, n->pos, "'-' needs a number or duration; got %s",
                    ms_expr_kind_name(n->args[0]->vk));
      n->vk = n->args[0]->vk;
      return MS_OK;
    case N_BINARY:
      if ((st = check_args(c, n))) return st;
      if (n->op == OPK_AND || n->op == OPK_OR) {
        for (int i = 0; i < 2; i++)
          if (n->args[i]->vk != EK_BOOL && n->args[i]->vk != EK_NULL)
            return fail(c, n->pos, "'%s' needs bools; got %s and %s", op_name(n->op),
                        ms_expr_kind_name(n->args[0]->vk), ms_expr_kind_name(n->args[1]->vk));
        for (int i = 0; i < 2; i++)
          if ((st = convert(c, &n->args[i], EK_BOOL, false))) return st;
        n->vk = EK_BOOL;
        return MS_OK;
      }
      if (n->op >= T_EQ && n->op <= T_GE) return check_compare(c, n);
      return check_arith(c, n);
  }
  return MS_OK;
}

ms_status ms_expr_check(const char *text, ms_expr_node **root, ms_expr_pool *pool,
                        const ms_field *inputs, int n_inputs, ms_error *err) {
  checker c = {text, pool, inputs, n_inputs, err};
  return check(&c, root);
}
