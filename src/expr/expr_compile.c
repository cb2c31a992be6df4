/* Expression compiler and the public entry points of include/morsel/expr.h.
 *
 * The checked tree becomes a flat list of instructions, each writing one register (a
 * vector of a batch of rows) from registers written before it; literals become constant
 * registers filled once per evaluation. Shared subtrees (x in `x in (a, b)`) and repeated
 * column references get one register.
 *
 * Conditional evaluation: every branch is computed for the whole batch (no per-row
 * jumps), but an instruction that can fail (integer overflow, a cast of a string) carries
 * a mask register of the rows whose value is actually used: the rows where its if/case
 * branch is taken, or where the earlier arguments of coalesce were null. Rows outside the
 * mask never raise errors, so `if(s = '', 0, cast(s as int64))` is safe. */
#include <string.h>

#include "expr/expr_int.h"
#include "morsel/alloc.h"

typedef struct compiler {
  ms_expr *e;
  const char *src;
  int cap_regs, cap_instrs, cap_consts;
  int *input_reg; /* per input, -1 until loaded */
  ms_error *err;
  bool nomem;
} compiler;

static ms_expr_phys phys_of(ms_expr_kind k) {
  switch (k) {
    case EK_BOOL: return PH_BOOL;
    case EK_FLOAT: return PH_F64;
    case EK_STR: return PH_STR;
    default: return PH_I64;
  }
}

static int new_reg(compiler *c, ms_expr_kind k) {
  ms_expr *e = c->e;
  if (e->n_regs == c->cap_regs) {
    int cap = c->cap_regs ? c->cap_regs * 2 : 16;
    ms_expr_reginfo *r = ms_realloc(e->regs, (size_t)cap * sizeof *r);
    if (!r) {
      c->nomem = true;
      return 0;
    }
    e->regs = r;
    c->cap_regs = cap;
  }
  e->regs[e->n_regs].kind = k;
  e->regs[e->n_regs].phys = phys_of(k);
  return e->n_regs++;
}

static int emit(compiler *c, ms_expr_opcode op, ms_expr_kind k, int a, int b, int cc, int mask,
                int64_t imm, int pos) {
  ms_expr *e = c->e;
  int dst = new_reg(c, k);
  if (e->n_instrs == c->cap_instrs) {
    int cap = c->cap_instrs ? c->cap_instrs * 2 : 16;
    ms_expr_instr *r = ms_realloc(e->instrs, (size_t)cap * sizeof *r);
    if (!r) {
      c->nomem = true;
      return 0;
    }
    e->instrs = r;
    c->cap_instrs = cap;
  }
  ms_expr_instr *in = &e->instrs[e->n_instrs++];
  in->op = op;
  in->dst = dst;
  in->a = a;
  in->b = b;
  in->c = cc;
  in->mask = mask;
  in->imm = imm;
  in->pos = pos;
  return dst;
}

static int add_const(compiler *c, const ms_expr_node *n) {
  ms_expr *e = c->e;
  int reg = new_reg(c, n->vk);
  if (e->n_consts == c->cap_consts) {
    int cap = c->cap_consts ? c->cap_consts * 2 : 8;
    ms_expr_const *r = ms_realloc(e->consts, (size_t)cap * sizeof *r);
    if (!r) {
      c->nomem = true;
      return 0;
    }
    e->consts = r;
    c->cap_consts = cap;
  }
  ms_expr_const *k = &e->consts[e->n_consts++];
  memset(k, 0, sizeof *k);
  k->reg = reg;
  k->is_null = n->lit_kind == EK_NULL;
  k->ival = n->ival;
  k->fval = n->fval;
  if (!k->is_null && n->vk == EK_FLOAT && n->lit_kind == EK_INT) k->fval = (double)n->ival;
  if (!k->is_null && n->vk == EK_STR) {
    k->sval = ms_malloc((size_t)n->slen + 1);
    if (!k->sval) {
      c->nomem = true;
      return reg;
    }
    memcpy(k->sval, n->sval, (size_t)n->slen + 1);
    k->slen = n->slen;
  }
  return reg;
}

static int null_const(compiler *c, ms_expr_kind k) {
  ms_expr_node n;
  memset(&n, 0, sizeof n);
  n.lit_kind = EK_NULL;
  n.vk = k;
  return add_const(c, &n);
}

static int compile(compiler *c, ms_expr_node *n, int mask);

/* Mask of rows (within `mask`) where condition register r is true / not true / null. */
static int mask_of(compiler *c, ms_expr_opcode op, int r, int mask, int pos) {
  return emit(c, op, EK_BOOL, r, mask, -1, -1, 0, pos);
}

static int compile_cast(compiler *c, ms_expr_node *n, int mask) {
  ms_expr_node *a = n->args[0];
  int r = compile(c, a, mask);
  ms_expr_kind f = a->vk, t = n->vk;
  if (f == t) return r;
  ms_expr_opcode op;
  switch (t) {
    case EK_FLOAT: op = f == EK_BOOL ? OP_B2F : f == EK_STR ? OP_S2F : OP_I2F; break;
    case EK_INT: op = f == EK_FLOAT ? OP_F2I : f == EK_BOOL ? OP_B2I : OP_S2I; break;
    case EK_BOOL: op = f == EK_INT ? OP_I2B : f == EK_FLOAT ? OP_F2B : OP_S2B; break;
    case EK_STR:
      op = f == EK_INT ? OP_I2S : f == EK_FLOAT ? OP_F2S : f == EK_BOOL ? OP_B2S
           : f == EK_TS ? OP_TS2S : OP_D2S;
      break;
    case EK_TS: op = f == EK_DATE ? OP_D2TS : OP_S2TS; break;
    case EK_DATE: op = f == EK_TS ? OP_TS2D : OP_S2D; break;
    default: op = OP_I2F; c->nomem = true; break; /* unreachable: the checker refuses */
  }
  /* imm of TS2S carries awareness (writes +00:00) */
  return emit(c, op, t, r, -1, -1, mask, f == EK_TS ? a->aware : 0, n->pos);
}

static int compile_call(compiler *c, ms_expr_node *n, int mask) {
  ms_expr_node **a = n->args;
  int k = n->vk, pos = n->pos;
  int r, m;
  switch ((ms_expr_func)n->func) {
    case F_COALESCE:
      r = compile(c, a[0], mask);
      for (int i = 1; i < n->n_args; i++) {
        m = mask_of(c, OP_MASK_NULL, r, mask, pos);
        int b = compile(c, a[i], m);
        r = emit(c, OP_COALESCE, k, r, b, -1, -1, 0, pos);
      }
      return r;
    case F_IF: {
      int cond = compile(c, a[0], mask);
      int ma = mask_of(c, OP_MASK_TRUE, cond, mask, pos);
      int mb = mask_of(c, OP_MASK_NOTTRUE, cond, mask, pos);
      int x = compile(c, a[1], ma), y = compile(c, a[2], mb);
      return emit(c, OP_SELECT, k, x, y, cond, -1, 0, pos);
    }
    case F_ABS:
      return emit(c, k == EK_FLOAT ? OP_ABS_F : OP_ABS_I, k, compile(c, a[0], mask), -1, -1,
                  mask, 0, pos);
    case F_ROUND:
    case F_FLOOR:
    case F_CEIL: {
      int x = compile(c, a[0], mask);
      if (k == EK_INT) {
        if (n->func != F_ROUND || n->n_args < 2) return x;
        return emit(c, OP_ROUND_I, k, x, compile(c, a[1], mask), -1, mask, 0, pos);
      }
      if (n->func == F_ROUND)
        return emit(c, OP_ROUND_F, k, x, n->n_args > 1 ? compile(c, a[1], mask) : -1, -1, mask,
                    0, pos);
      return emit(c, n->func == F_FLOOR ? OP_FLOOR_F : OP_CEIL_F, k, x, -1, -1, mask, 0, pos);
    }
    case F_SQRT:
    case F_LOG:
    case F_EXP:
      return emit(c, n->func == F_SQRT ? OP_SQRT : n->func == F_LOG ? OP_LOG : OP_EXP, k,
                  compile(c, a[0], mask), -1, -1, mask, 0, pos);
    case F_POW: {
      int x = compile(c, a[0], mask), y = compile(c, a[1], mask);
      return emit(c, OP_POW, k, x, y, -1, mask, 0, pos);
    }
    case F_LEAST:
    case F_GREATEST:
      r = compile(c, a[0], mask);
      for (int i = 1; i < n->n_args; i++) {
        int b = compile(c, a[i], mask);
        r = emit(c, n->func == F_LEAST ? OP_MIN : OP_MAX, k, r, b, -1, -1, 0, pos);
      }
      return r;
    case F_CLIP: {
      int x = compile(c, a[0], mask), lo = compile(c, a[1], mask), hi = compile(c, a[2], mask);
      r = emit(c, OP_CLIP_LO, k, x, lo, -1, -1, 0, pos);
      return emit(c, OP_CLIP_HI, k, r, hi, -1, -1, 0, pos);
    }
    case F_STARTS_WITH:
    case F_ENDS_WITH:
    case F_CONTAINS: {
      int x = compile(c, a[0], mask), y = compile(c, a[1], mask);
      ms_expr_opcode op = n->func == F_STARTS_WITH ? OP_STARTS
                          : n->func == F_ENDS_WITH ? OP_ENDS : OP_CONTAINS;
      return emit(c, op, k, x, y, -1, -1, 0, pos);
    }
    case F_LOWER:
    case F_UPPER:
    case F_LENGTH: {
      ms_expr_opcode op = n->func == F_LOWER ? OP_LOWER : n->func == F_UPPER ? OP_UPPER : OP_LENGTH;
      return emit(c, op, k, compile(c, a[0], mask), -1, -1, -1, 0, pos);
    }
    case F_SUBSTR: {
      int s = compile(c, a[0], mask), st = compile(c, a[1], mask);
      int len = n->n_args > 2 ? compile(c, a[2], mask) : -1;
      return emit(c, OP_SUBSTR, k, s, st, len, -1, 0, pos);
    }
    case F_CONCAT:
      r = emit(c, OP_CONCAT, k, compile(c, a[0], mask), -1, -1, -1, 0, pos);
      for (int i = 1; i < n->n_args; i++)
        r = emit(c, OP_CONCAT, k, r, compile(c, a[i], mask), -1, -1, 0, pos);
      return r;
    case F_DATE_DIFF: {
      int x = compile(c, a[1], mask), y = compile(c, a[2], mask);
      return emit(c, OP_DATE_DIFF, k, x, y, -1, mask, ms_expr_unit_ns(a[0]->sval), pos);
    }
    case F_EXTRACT:
      return emit(c, a[1]->vk == EK_DATE ? OP_EXTRACT_D : OP_EXTRACT_TS, k,
                  compile(c, a[1], mask), -1, -1, -1, ms_expr_extract_part(a[0]->sval), pos);
  }
  c->nomem = true;
  return 0;
}

static int compile_case(compiler *c, ms_expr_node *n, int mask) {
  int n_when = n->n_args / 2;
  int *conds = ms_malloc(sizeof(int) * (size_t)(2 * n_when + 1));
  if (!conds) {
    c->nomem = true;
    return 0;
  }
  int *vals = conds + n_when;
  int m = mask;
  for (int i = 0; i < n_when; i++) {
    conds[i] = compile(c, n->args[2 * i], m);
    int mt = mask_of(c, OP_MASK_TRUE, conds[i], m, n->pos);
    vals[i] = compile(c, n->args[2 * i + 1], mt);
    m = mask_of(c, OP_MASK_NOTTRUE, conds[i], m, n->pos);
  }
  int r = n->has_else ? compile(c, n->args[n->n_args - 1], m) : null_const(c, n->vk);
  for (int i = n_when - 1; i >= 0; i--)
    r = emit(c, OP_SELECT, n->vk, vals[i], r, conds[i], -1, 0, n->pos);
  ms_free(conds);
  return r;
}

static int compile(compiler *c, ms_expr_node *n, int mask) {
  if (c->nomem) return 0;
  if (n->reg >= 0) return n->reg;
  int r = 0;
  switch (n->kind) {
    case N_LIT:
      r = add_const(c, n);
      break;
    case N_COL:
      if (n->vk == EK_NULL) n->vk = EK_BOOL; /* a null-typed column settled nowhere */
      if (c->input_reg[n->input] >= 0 && c->e->regs[c->input_reg[n->input]].kind == n->vk) {
        r = c->input_reg[n->input];
      } else {
        r = emit(c, OP_LOAD, n->vk, -1, -1, -1, -1, n->input, n->pos);
        c->input_reg[n->input] = r;
      }
      break;
    case N_UNARY:
      if (n->op == OPK_NOT)
        r = emit(c, OP_NOT, EK_BOOL, compile(c, n->args[0], mask), -1, -1, -1, 0, n->pos);
      else
        r = emit(c, n->vk == EK_FLOAT ? OP_NEG_F : OP_NEG_I, n->vk, compile(c, n->args[0], mask),
                 -1, -1, mask, 0, n->pos);
      break;
    case N_ISNULL:
      r = emit(c, n->negate ? OP_NOTNULL : OP_ISNULL, EK_BOOL, compile(c, n->args[0], mask), -1,
               -1, -1, 0, n->pos);
      break;
    case N_BINARY: {
      int a = compile(c, n->args[0], mask), b = compile(c, n->args[1], mask);
      ms_expr_kind ak = n->args[0]->vk;
      ms_expr_opcode op;
      int64_t imm = 0;
      bool f = n->vk == EK_FLOAT;
      switch (n->op) {
        case OPK_AND: op = OP_AND; break;
        case OPK_OR: op = OP_OR; break;
        case T_PLUS: op = f ? OP_ADD_F : OP_ADD_I; break;
        case T_MINUS: op = f ? OP_SUB_F : OP_SUB_I; break;
        case T_STAR: op = f ? OP_MUL_F : OP_MUL_I; break;
        case T_SLASH: op = OP_DIV_F; break;
        case T_PERCENT: op = f ? OP_MOD_F : OP_MOD_I; break;
        default:
          imm = n->op - T_EQ;
          op = ak == EK_FLOAT ? OP_CMP_F : ak == EK_STR ? OP_CMP_S : ak == EK_BOOL ? OP_CMP_B
                                                                                  : OP_CMP_I;
      }
      r = emit(c, op, n->vk, a, b, -1, mask, imm, n->pos);
      break;
    }
    case N_CAST:
      r = compile_cast(c, n, mask);
      break;
    case N_CALL:
      r = compile_call(c, n, mask);
      break;
    case N_CASE:
      r = compile_case(c, n, mask);
      break;
    case N_IN:
      c->nomem = true; /* rewritten by the checker */
      break;
  }
  n->reg = r;
  return r;
}

static void collect_refs(ms_expr_node *n, bool *used) {
  if (n->kind == N_COL && n->input >= 0) used[n->input] = true;
  for (int i = 0; i < n->n_args; i++) collect_refs(n->args[i], used);
}

static ms_datatype kind_type(ms_expr_kind k, bool aware) {
  switch (k) {
    case EK_BOOL: return ms_type(MS_TYPE_BOOL);
    case EK_INT: return ms_type(MS_TYPE_INT64);
    case EK_FLOAT: return ms_type(MS_TYPE_FLOAT64);
    case EK_STR: return ms_type(MS_TYPE_UTF8);
    case EK_DATE: return ms_type(MS_TYPE_DATE32);
    case EK_TS: return ms_type_timestamp(MS_UNIT_NANO, aware ? "UTC" : "");
    default: return ms_type(MS_TYPE_NULL);
  }
}

ms_status ms_expr_compile(const char *text, const ms_field *inputs, int n_inputs,
                          ms_expr **out, ms_error *err) {
  *out = NULL;
  if (!text) return ms_error_set(err, MS_ERR_INVALID, "no expression text");
  ms_expr_pool pool = {0};
  ms_expr_node *root;
  ms_status st = ms_expr_parse(text, &pool, &root, err);
  if (!st) st = ms_expr_check(text, &root, &pool, inputs, n_inputs, err);
  if (!st && root->vk == EK_DUR)
    st = ms_expr_error_at(err, MS_ERR_INVALID, text, 0,
                          "a duration is not a column type; use date_diff");
  if (!st && root->vk == EK_NULL)
    st = ms_expr_error_at(err, MS_ERR_INVALID, text, 0,
                          "the expression is always null and has no type; use cast(null as TYPE)");
  if (st) {
    ms_expr_pool_free(&pool);
    return st;
  }
  ms_expr *e = ms_calloc(1, sizeof *e);
  compiler c;
  memset(&c, 0, sizeof c);
  c.e = e;
  c.src = text;
  c.err = err;
  c.input_reg = ms_malloc(sizeof(int) * (size_t)(n_inputs + 1));
  bool *used = ms_calloc((size_t)n_inputs + 1, sizeof(bool));
  if (!e || !c.input_reg || !used) {
    ms_free(c.input_reg);
    ms_free(used);
    ms_free(e);
    ms_expr_pool_free(&pool);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  for (int i = 0; i < n_inputs; i++) c.input_reg[i] = -1;
  e->text = ms_strdup(text);
  e->kind = root->vk;
  e->type = kind_type(root->vk, root->aware);
  e->is_column = root->kind == N_COL;
  collect_refs(root, used);
  e->n_inputs = n_inputs;
  e->inputs = ms_calloc((size_t)n_inputs + 1, sizeof(ms_field));
  e->used = ms_malloc(sizeof(int) * (size_t)(n_inputs + 1));
  if (!e->text || !e->inputs || !e->used) c.nomem = true;
  for (int i = 0; i < n_inputs && !c.nomem; i++) {
    if (ms_field_copy(&inputs[i], &e->inputs[i])) c.nomem = true;
    if (used[i]) e->used[e->n_used++] = i;
  }
  if (!c.nomem) e->result_reg = compile(&c, root, -1);
  ms_free(c.input_reg);
  ms_free(used);
  ms_expr_pool_free(&pool);
  if (c.nomem) {
    ms_expr_free(e);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory compiling an expression");
  }
  *out = e;
  return MS_OK;
}

void ms_expr_free(ms_expr *e) {
  if (!e) return;
  ms_free(e->text);
  if (e->inputs)
    for (int i = 0; i < e->n_inputs; i++) ms_field_reset(&e->inputs[i]);
  ms_free(e->inputs);
  ms_free(e->used);
  ms_free(e->regs);
  ms_free(e->instrs);
  for (int i = 0; i < e->n_consts; i++) ms_free(e->consts[i].sval);
  ms_free(e->consts);
  ms_free(e);
}

static ms_status add_name(char ***names, int *n, const char *name) {
  for (int i = 0; i < *n; i++)
    if (strcmp((*names)[i], name) == 0) return MS_OK;
  char **nn = ms_realloc(*names, sizeof(char *) * (size_t)(*n + 1));
  if (!nn) return MS_ERR_NOMEM;
  *names = nn;
  if (!(nn[*n] = ms_strdup(name))) return MS_ERR_NOMEM;
  (*n)++;
  return MS_OK;
}

static ms_status walk_names(ms_expr_node *n, char ***names, int *cnt) {
  if (n->kind == N_COL && add_name(names, cnt, n->name)) return MS_ERR_NOMEM;
  for (int i = 0; i < n->n_args; i++)
    if (walk_names(n->args[i], names, cnt)) return MS_ERR_NOMEM;
  return MS_OK;
}

ms_status ms_expr_references(const char *text, char ***out_names, int *out_n, ms_error *err) {
  *out_names = NULL;
  *out_n = 0;
  if (!text) return ms_error_set(err, MS_ERR_INVALID, "no expression text");
  ms_expr_pool pool = {0};
  ms_expr_node *root;
  ms_status st = ms_expr_parse(text, &pool, &root, err);
  if (st) {
    ms_expr_pool_free(&pool);
    return st;
  }
  char **names = NULL;
  int n = 0;
  if (walk_names(root, &names, &n)) {
    ms_expr_names_free(names, n);
    ms_expr_pool_free(&pool);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  ms_expr_pool_free(&pool);
  *out_names = names;
  *out_n = n;
  return MS_OK;
}

void ms_expr_names_free(char **names, int n) {
  if (!names) return;
  for (int i = 0; i < n; i++) ms_free(names[i]);
  ms_free(names);
}

const ms_datatype *ms_expr_type(const ms_expr *e) { return &e->type; }
const char *ms_expr_text(const ms_expr *e) { return e->text; }
int ms_expr_num_used_inputs(const ms_expr *e) { return e->n_used; }
int ms_expr_used_input(const ms_expr *e, int i) {
  return i >= 0 && i < e->n_used ? e->used[i] : -1;
}
bool ms_expr_is_column(const ms_expr *e) { return e->is_column; }

ms_status ms_expr_eval(const ms_expr *e, ms_column *const *cols, int64_t n, ms_column **out,
                       ms_error *err) {
  *out = NULL;
  return ms_expr_run(e, cols, n, out, NULL, NULL, err);
}

ms_status ms_expr_eval_mask(const ms_expr *e, ms_column *const *cols, int64_t n, uint8_t *mask,
                            int64_t *out_kept, ms_error *err) {
  if (e->kind != EK_BOOL)
    return ms_error_set(err, MS_ERR_TYPE, "expression '%s' is %s, not a bool filter", e->text,
                        ms_expr_kind_name(e->kind));
  return ms_expr_run(e, cols, n, NULL, mask, out_kept, err);
}

ms_status ms_expr_eval_table(const ms_expr *e, const ms_table *t, ms_column **out,
                             ms_error *err) {
  *out = NULL;
  ms_column **cols = ms_calloc((size_t)e->n_inputs + 1, sizeof *cols);
  if (!cols) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  for (int i = 0; i < e->n_used; i++) {
    int in = e->used[i];
    int ci = ms_table_find_column(t, e->inputs[in].name);
    if (ci < 0) {
      ms_free(cols);
      return ms_error_set(err, MS_ERR_NOT_FOUND, "expression '%s': the table has no column '%s'",
                          e->text, e->inputs[in].name);
    }
    cols[in] = ms_table_column(t, ci);
  }
  ms_status st = ms_expr_run(e, cols, ms_table_num_rows(t), out, NULL, NULL, err);
  ms_free(cols);
  return st;
}
