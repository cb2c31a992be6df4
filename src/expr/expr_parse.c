/* Expression parser: recursive descent over the tokens of expr_lex.c into a syntax tree.
 *
 * Precedence, loosest first: or; and; not; comparisons (= == != <> < <= > >=, is [not]
 * null, [not] in (...)); + -; * / %; unary - +; primary (literal, name, call, (expr),
 * case, cast(x as type), extract(part from x), timestamp '...', date '...'). Binary
 * operators associate to the left. Keywords are case-insensitive; "quoted" names never
 * are keywords. */
#include <stdio.h>
#include <string.h>

#include "expr/expr_int.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"

ms_expr_node *ms_expr_node_new(ms_expr_pool *pool, ms_expr_node_kind kind, int pos) {
  if (pool->n == pool->cap) {
    int cap = pool->cap ? pool->cap * 2 : 32;
    ms_expr_node **nn = ms_realloc(pool->nodes, (size_t)cap * sizeof *nn);
    if (!nn) return NULL;
    pool->nodes = nn;
    pool->cap = cap;
  }
  ms_expr_node *n = ms_calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->pos = pos;
  n->input = -1;
  n->reg = -1;
  pool->nodes[pool->n++] = n;
  return n;
}

ms_status ms_expr_node_add_arg(ms_expr_node *n, ms_expr_node *arg) {
  ms_expr_node **na = ms_realloc(n->args, (size_t)(n->n_args + 1) * sizeof *na);
  if (!na) return MS_ERR_NOMEM;
  n->args = na;
  n->args[n->n_args++] = arg;
  return MS_OK;
}

void ms_expr_pool_free(ms_expr_pool *pool) {
  for (int i = 0; i < pool->n; i++) {
    ms_expr_node *n = pool->nodes[i];
    ms_free(n->name);
    ms_free(n->args);
    ms_free(n->sval);
    ms_free(n);
  }
  ms_free(pool->nodes);
  memset(pool, 0, sizeof *pool);
}

typedef struct parser {
  const char *src;
  ms_expr_token *t;
  int i, n;
  ms_expr_pool *pool;
  ms_error *err;
  int depth;
} parser;

static ms_expr_token *cur(parser *p) { return &p->t[p->i]; }
static ms_expr_token *peek(parser *p, int k) {
  return &p->t[p->i + k < p->n ? p->i + k : p->n - 1];
}
static bool is_kw(parser *p, const char *kw) { return ms_expr_tok_is_kw(cur(p), kw); }

static const char *tok_desc(const ms_expr_token *t, char *buf, size_t n) {
  static const char *names[] = {"end of expression", "number", "number", "duration", "string",
                                "name", "'('", "')'", "','", "'+'", "'-'", "'*'", "'/'",
                                "'%'", "'='", "'!='", "'<'", "'<='", "'>'", "'>='", "'['"};
  if (t->kind == T_IDENT) {
    snprintf(buf, n, "'%s'", t->text);
    return buf;
  }
  return names[t->kind];
}

static ms_status unexpected(parser *p, const char *want) {
  char b[300];
  return ms_expr_error_at(p->err, MS_ERR_PARSE, p->src, cur(p)->pos, "expected %s, got %s",
                          want, tok_desc(cur(p), b, sizeof b));
}

static ms_status nomem(parser *p) { return ms_error_set(p->err, MS_ERR_NOMEM, "out of memory"); }

static ms_status expect(parser *p, ms_expr_tok k, const char *want) {
  if (cur(p)->kind != k) return unexpected(p, want);
  p->i++;
  return MS_OK;
}

static ms_status parse_expr(parser *p, ms_expr_node **out);

static ms_expr_node *mk(parser *p, ms_expr_node_kind k, int pos) {
  return ms_expr_node_new(p->pool, k, pos);
}

static ms_status mk2(parser *p, ms_expr_node_kind k, int pos, int op, ms_expr_node *a,
                     ms_expr_node *b, ms_expr_node **out) {
  ms_expr_node *n = mk(p, k, pos);
  if (!n) return nomem(p);
  n->op = op;
  if (ms_expr_node_add_arg(n, a) || (b && ms_expr_node_add_arg(n, b))) return nomem(p);
  *out = n;
  return MS_OK;
}

static bool reserved(const ms_expr_token *t) {
  static const char *kws[] = {"and", "or", "not", "is", "in", "case", "when", "then",
                              "else", "end", "as", "from"};
  if (t->kind != T_IDENT || t->quoted) return false;
  for (size_t i = 0; i < sizeof kws / sizeof *kws; i++)
    if (strcasecmp(t->text, kws[i]) == 0) return true;
  return false;
}

/* Raw text of a type name after `as`, up to the closing parenthesis of the cast (type
 * names may hold brackets and commas: timestamp[us, tz=UTC]). */
static ms_status parse_cast_type(parser *p, ms_expr_node *n) {
  const char *s = p->src;
  int start = cur(p)->pos, e = start, d = 0;
  while (s[e] && !(s[e] == ')' && d <= 0)) {
    if (s[e] == '[' || s[e] == '(') d++;
    else if (s[e] == ']' || s[e] == ')') d--;
    e++;
  }
  while (e > start && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n')) e--;
  if (e == start || cur(p)->kind == T_END) return unexpected(p, "a type name");
  char *name = ms_strndup(s + start, (size_t)(e - start));
  if (!name) return nomem(p);
  if (!ms_type_parse(name, &n->cast_to)) {
    ms_status st = ms_expr_error_at(p->err, MS_ERR_PARSE, p->src, start,
                                    "unknown type '%s' (try int64, float64, string, bool, "
                                    "timestamp, date)", name);
    ms_free(name);
    return st;
  }
  ms_free(name);
  while (cur(p)->kind != T_END && cur(p)->pos < e) p->i++;
  return MS_OK;
}

static ms_status parse_args(parser *p, ms_expr_node *call) {
  /* after '(' */
  if (cur(p)->kind == T_RPAREN) {
    p->i++;
    return MS_OK;
  }
  for (;;) {
    ms_expr_node *a;
    ms_status st = parse_expr(p, &a);
    if (st) return st;
    if (ms_expr_node_add_arg(call, a)) return nomem(p);
    if (cur(p)->kind == T_COMMA) {
      p->i++;
      continue;
    }
    return expect(p, T_RPAREN, "',' or ')'");
  }
}

static ms_status parse_primary(parser *p, ms_expr_node **out) {
  ms_expr_token *t = cur(p);
  ms_expr_node *n;
  ms_status st;
  switch (t->kind) {
    case T_INT:
    case T_FLOAT:
    case T_DUR:
    case T_STR:
      n = mk(p, N_LIT, t->pos);
      if (!n) return nomem(p);
      n->lit_kind = t->kind == T_INT ? EK_INT : t->kind == T_FLOAT ? EK_FLOAT
                    : t->kind == T_DUR ? EK_DUR : EK_STR;
      n->ival = t->ival;
      n->fval = t->fval;
      if (t->kind == T_STR) {
        n->sval = ms_strndup(t->text, (size_t)t->len);
        if (!n->sval) return nomem(p);
        n->slen = t->len;
      }
      p->i++;
      *out = n;
      return MS_OK;
    case T_LPAREN:
      p->i++;
      st = parse_expr(p, out);
      if (st) return st;
      return expect(p, T_RPAREN, "')'");
    case T_IDENT:
      break;
    default:
      return unexpected(p, "an expression");
  }
  if (!t->quoted) {
    if (is_kw(p, "true") || is_kw(p, "false") || is_kw(p, "null")) {
      n = mk(p, N_LIT, t->pos);
      if (!n) return nomem(p);
      n->lit_kind = is_kw(p, "null") ? EK_NULL : EK_BOOL;
      n->ival = is_kw(p, "true");
      p->i++;
      *out = n;
      return MS_OK;
    }
    if ((is_kw(p, "timestamp") || is_kw(p, "date")) && peek(p, 1)->kind == T_STR) {
      bool is_date = is_kw(p, "date");
      ms_expr_token *s = peek(p, 1);
      n = mk(p, N_LIT, t->pos);
      if (!n) return nomem(p);
      if (is_date) {
        int32_t days;
        if (!ms_parse_date(s->text, (size_t)s->len, &days))
          return ms_expr_error_at(p->err, MS_ERR_PARSE, p->src, s->pos,
                                  "invalid date literal '%s' (expected YYYY-MM-DD)", s->text);
        n->lit_kind = EK_DATE;
        n->ival = days;
      } else {
        bool aware;
        if (!ms_parse_timestamp_ns(s->text, (size_t)s->len, &n->ival, &aware))
          return ms_expr_error_at(p->err, MS_ERR_PARSE, p->src, s->pos,
                                  "invalid timestamp literal '%s' (expected "
                                  "YYYY-MM-DD[ hh:mm[:ss[.f]]][Z|+hh:mm])", s->text);
        n->lit_kind = EK_TS;
        n->lit_aware = aware;
      }
      p->i += 2;
      *out = n;
      return MS_OK;
    }
    if (is_kw(p, "case")) {
      n = mk(p, N_CASE, t->pos);
      if (!n) return nomem(p);
      p->i++;
      if (!is_kw(p, "when")) return unexpected(p, "when");
      while (is_kw(p, "when")) {
        p->i++;
        ms_expr_node *c, *v;
        if ((st = parse_expr(p, &c))) return st;
        if (!is_kw(p, "then")) return unexpected(p, "then");
        p->i++;
        if ((st = parse_expr(p, &v))) return st;
        if (ms_expr_node_add_arg(n, c) || ms_expr_node_add_arg(n, v)) return nomem(p);
      }
      if (is_kw(p, "else")) {
        p->i++;
        ms_expr_node *e;
        if ((st = parse_expr(p, &e))) return st;
        if (ms_expr_node_add_arg(n, e)) return nomem(p);
        n->has_else = true;
      }
      if (!is_kw(p, "end")) return unexpected(p, n->has_else ? "end" : "when, else or end");
      p->i++;
      *out = n;
      return MS_OK;
    }
    if (is_kw(p, "cast") && peek(p, 1)->kind == T_LPAREN) {
      n = mk(p, N_CAST, t->pos);
      if (!n) return nomem(p);
      p->i += 2;
      ms_expr_node *a;
      if ((st = parse_expr(p, &a))) return st;
      if (ms_expr_node_add_arg(n, a)) return nomem(p);
      if (!is_kw(p, "as")) return unexpected(p, "as");
      p->i++;
      if ((st = parse_cast_type(p, n))) return st;
      if ((st = expect(p, T_RPAREN, "')'"))) return st;
      *out = n;
      return MS_OK;
    }
    if (is_kw(p, "extract") && peek(p, 1)->kind == T_LPAREN && peek(p, 2)->kind == T_IDENT &&
        ms_expr_tok_is_kw(peek(p, 3), "from")) {
      /* extract(part from x): the part becomes a string literal argument */
      n = mk(p, N_CALL, t->pos);
      if (!n) return nomem(p);
      n->name = ms_strdup("extract");
      ms_expr_node *part = mk(p, N_LIT, peek(p, 2)->pos);
      if (!n->name || !part) return nomem(p);
      part->lit_kind = EK_STR;
      part->sval = ms_strdup(peek(p, 2)->text);
      if (!part->sval) return nomem(p);
      part->slen = (int64_t)strlen(part->sval);
      p->i += 4;
      ms_expr_node *x;
      if ((st = parse_expr(p, &x))) return st;
      if (ms_expr_node_add_arg(n, part) || ms_expr_node_add_arg(n, x)) return nomem(p);
      if ((st = expect(p, T_RPAREN, "')'"))) return st;
      *out = n;
      return MS_OK;
    }
    if (reserved(t)) return unexpected(p, "an expression");
    if (peek(p, 1)->kind == T_LPAREN) {
      n = mk(p, N_CALL, t->pos);
      if (!n) return nomem(p);
      n->name = ms_strdup(t->text);
      if (!n->name) return nomem(p);
      p->i += 2;
      if ((st = parse_args(p, n))) return st;
      *out = n;
      return MS_OK;
    }
  }
  n = mk(p, N_COL, t->pos);
  if (!n) return nomem(p);
  n->name = ms_strdup(t->text);
  if (!n->name) return nomem(p);
  p->i++;
  *out = n;
  return MS_OK;
}

static ms_status parse_unary(parser *p, ms_expr_node **out) {
  ms_expr_token *t = cur(p);
  if (t->kind == T_MINUS || t->kind == T_PLUS) {
    if (++p->depth > 200)
      return ms_expr_error_at(p->err, MS_ERR_PARSE, p->src, t->pos, "expression nested too deeply");
    p->i++;
    ms_expr_node *a;
    ms_status st = parse_unary(p, &a);
    p->depth--;
    if (st) return st;
    if (t->kind == T_PLUS) {
      *out = a;
      return MS_OK;
    }
    /* fold -literal so that -1 and -1.5 are literals (typed and printed as such) */
    if (a->kind == N_LIT && ((a->lit_kind == EK_INT && a->ival != INT64_MIN) ||
                             a->lit_kind == EK_FLOAT || a->lit_kind == EK_DUR)) {
      a->ival = -a->ival;
      a->fval = -a->fval;
      a->pos = t->pos;
      *out = a;
      return MS_OK;
    }
    return mk2(p, N_UNARY, t->pos, T_MINUS, a, NULL, out);
  }
  return parse_primary(p, out);
}

static ms_status parse_mul(parser *p, ms_expr_node **out) {
  ms_status st = parse_unary(p, out);
  while (!st && (cur(p)->kind == T_STAR || cur(p)->kind == T_SLASH || cur(p)->kind == T_PERCENT)) {
    ms_expr_token *t = cur(p);
    p->i++;
    ms_expr_node *b;
    if ((st = parse_unary(p, &b))) return st;
    st = mk2(p, N_BINARY, t->pos, t->kind, *out, b, out);
  }
  return st;
}

static ms_status parse_add(parser *p, ms_expr_node **out) {
  ms_status st = parse_mul(p, out);
  while (!st && (cur(p)->kind == T_PLUS || cur(p)->kind == T_MINUS)) {
    ms_expr_token *t = cur(p);
    p->i++;
    ms_expr_node *b;
    if ((st = parse_mul(p, &b))) return st;
    st = mk2(p, N_BINARY, t->pos, t->kind, *out, b, out);
  }
  return st;
}

static ms_status parse_cmp(parser *p, ms_expr_node **out) {
  ms_status st = parse_add(p, out);
  while (!st) {
    ms_expr_token *t = cur(p);
    if (t->kind >= T_EQ && t->kind <= T_GE) {
      p->i++;
      ms_expr_node *b;
      if ((st = parse_add(p, &b))) return st;
      st = mk2(p, N_BINARY, t->pos, t->kind, *out, b, out);
    } else if (is_kw(p, "is")) {
      p->i++;
      bool neg = false;
      if (is_kw(p, "not")) {
        neg = true;
        p->i++;
      }
      if (!is_kw(p, "null")) return unexpected(p, neg ? "null" : "null or not null");
      p->i++;
      if ((st = mk2(p, N_ISNULL, t->pos, 0, *out, NULL, out))) return st;
      (*out)->negate = neg;
    } else if (is_kw(p, "in") || (is_kw(p, "not") && ms_expr_tok_is_kw(peek(p, 1), "in"))) {
      bool neg = is_kw(p, "not");
      p->i += neg ? 2 : 1;
      if ((st = expect(p, T_LPAREN, "'(' after in"))) return st;
      ms_expr_node *n = mk(p, N_IN, t->pos);
      if (!n) return nomem(p);
      n->negate = neg;
      if (ms_expr_node_add_arg(n, *out)) return nomem(p);
      if (cur(p)->kind == T_RPAREN) return unexpected(p, "a value");
      if ((st = parse_args(p, n))) return st;
      *out = n;
    } else {
      break;
    }
  }
  return st;
}

static ms_status parse_not(parser *p, ms_expr_node **out) {
  if (is_kw(p, "not")) {
    ms_expr_token *t = cur(p);
    if (++p->depth > 200)
      return ms_expr_error_at(p->err, MS_ERR_PARSE, p->src, t->pos, "expression nested too deeply");
    p->i++;
    ms_expr_node *a;
    ms_status st = parse_not(p, &a);
    p->depth--;
    if (st) return st;
    return mk2(p, N_UNARY, t->pos, OPK_NOT, a, NULL, out);
  }
  return parse_cmp(p, out);
}

static ms_status parse_and(parser *p, ms_expr_node **out) {
  ms_status st = parse_not(p, out);
  while (!st && is_kw(p, "and")) {
    int pos = cur(p)->pos;
    p->i++;
    ms_expr_node *b;
    if ((st = parse_not(p, &b))) return st;
    st = mk2(p, N_BINARY, pos, OPK_AND, *out, b, out);
  }
  return st;
}

static ms_status parse_expr(parser *p, ms_expr_node **out) {
  if (++p->depth > 200)
    return ms_expr_error_at(p->err, MS_ERR_PARSE, p->src, cur(p)->pos, "expression nested too deeply");
  ms_status st = parse_and(p, out);
  while (!st && is_kw(p, "or")) {
    int pos = cur(p)->pos;
    p->i++;
    ms_expr_node *b;
    if ((st = parse_and(p, &b))) break;
    st = mk2(p, N_BINARY, pos, OPK_OR, *out, b, out);
  }
  p->depth--;
  return st;
}

ms_status ms_expr_parse(const char *text, ms_expr_pool *pool, ms_expr_node **out,
                        ms_error *err) {
  *out = NULL;
  ms_expr_lexer lx;
  ms_status st = ms_expr_lex(text, &lx, err);
  if (st) {
    ms_expr_lex_free(&lx);
    return st;
  }
  parser p = {text, lx.toks, 0, lx.n_tokens, pool, err, 0};
  if (lx.toks[0].kind == T_END) {
    st = ms_expr_error_at(err, MS_ERR_PARSE, text, 0, "empty expression");
  } else {
    st = parse_expr(&p, out);
    if (!st && cur(&p)->kind != T_END) {
      char b[300];
      st = ms_expr_error_at(err, MS_ERR_PARSE, text, cur(&p)->pos,
                            "unexpected %s after the expression", tok_desc(cur(&p), b, sizeof b));
    }
  }
  ms_expr_lex_free(&lx);
  if (st) *out = NULL;
  return st;
}
