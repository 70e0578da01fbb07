/*
 * pattern.c - the `pattern` constraint (mf_pattern_check, codec_int.h).
 *
 * The generator translates each ECMA-262 pattern to a POSIX extended regular
 * expression (docs/formats.md lists the supported subset). The runtime compiles
 * it lazily, exactly once per process: the fast path is an acquire load of
 * p->state; compilation happens under one global mutex and publishes the
 * compiled form with a release store. The compiled form lives until the
 * process exits (descriptor tables are static, so there is nothing to free it
 * with). regexec on a shared regex_t is thread-safe in glibc and musl.
 *
 * Fast matcher. Most schema patterns are a plain anchored sequence such as
 * ^[a-z]{2}-[A-Z]{2}$ or ^[0-9]+\.[0-9]+\.[0-9]+$, where glibc's regexec spends
 * far more time setting up than matching. At first use such an ERE (optional
 * ^, then atoms - a literal or a bracket expression - each with an optional
 * quantifier ? * + {n} {n,} {n,m}, then optional $; no groups, no
 * alternation, ASCII only) is also turned into a small program of
 * (byte set, min, max) items. regcomp still runs first and decides whether the
 * pattern compiles at all, and regexec stays the matcher for everything else:
 * patterns outside that shape, a process whose locale at first use is not
 * "C"/"POSIX" (ranges and multi-byte characters then follow the locale),
 * values with non-ASCII bytes, and values too long for the position-set
 * matcher. Each bracket expression's byte set is computed by a small parser
 * and then checked against regexec itself on every ASCII character; any
 * disagreement drops the program, so the fast matcher answers exactly as
 * regexec would. Matching never backtracks:
 *  - deterministic programs (anchored at the start, and no repeated item
 *    whose set overlaps what may follow it) are matched greedily in one pass;
 *  - the others by a position-set simulation, O(items x length).
 * tests/unit/test_pattern.c compares both matchers with regexec on random
 * patterns and strings.
 */
#include <locale.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"
#include "mf/status.h"

#define FM_MAX_ITEMS 32   /* longer programs use regexec */
#define FM_MAX_LEN 256    /* longer values use regexec unless the program is deterministic */
#define FM_INF 0xFFFFu    /* no upper bound */
#define FM_DUP_MAX 255    /* RE_DUP_MAX as the generator uses it */

typedef struct fm_item {
    uint64_t set[2]; /* ASCII bytes the atom matches, bit c of set[c >> 6] */
    uint16_t min, max;
} fm_item;

typedef struct fm_prog {
    bool bol, eol;       /* ^ at the start, $ at the end */
    bool deterministic;  /* greedy one-pass matching is exact */
    unsigned count;
    fm_item items[FM_MAX_ITEMS];
    uint32_t member[256]; /* bit k of member[c]: item k matches byte c (the matchers' table) */
} fm_prog;

typedef struct compiled_pattern {
    regex_t re;
    bool fast; /* prog is usable */
    fm_prog prog;
} compiled_pattern;

static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

static inline bool in_set(const fm_item *it, unsigned char c)
{
    return c < 128 && ((it->set[c >> 6] >> (c & 63)) & 1);
}

static inline void set_add(fm_item *it, unsigned c)
{
    it->set[c >> 6] |= 1ull << (c & 63);
}

/* ------------------------------------------------------------ the parser */

static bool ere_special(unsigned char c)
{
    return c && strchr(".[\\()*+?{|^$", c) != NULL;
}

/* Bracket expression at e[*i] == '['; fills it->set. false: not supported. */
static bool parse_bracket(const unsigned char *e, size_t *i, fm_item *it)
{
    size_t k = *i + 1;
    bool neg = false, first = true;
    uint64_t set[2] = {0, 0};
    if (e[k] == '^') {
        neg = true;
        k++;
    }
    for (;;) {
        unsigned char c = e[k];
        if (c == '\0' || c >= 0x80)
            return false;
        if (c == ']' && !first)
            break;
        first = false;
        if (c == '[' && (e[k + 1] == '.' || e[k + 1] == ':' || e[k + 1] == '='))
            return false; /* collating symbols, classes, equivalence classes */
        unsigned lo = c, hi = c;
        k++;
        if (e[k] == '-' && e[k + 1] != ']' && e[k + 1] != '\0') {
            unsigned char d = e[k + 1];
            if (d >= 0x80 || (d == '[' && (e[k + 2] == '.' || e[k + 2] == ':' || e[k + 2] == '=')))
                return false;
            if (d < lo)
                return false; /* regcomp rejects it anyway */
            hi = d;
            k += 2;
        }
        for (unsigned x = lo; x <= hi; x++)
            set[x >> 6] |= 1ull << (x & 63);
    }
    if (neg) {
        set[0] = ~set[0] & ~1ull; /* never NUL */
        set[1] = ~set[1];
    }
    it->set[0] = set[0];
    it->set[1] = set[1];
    *i = k + 1;
    return true;
}

/* Decimal number at e[*i] up to FM_DUP_MAX; -1 when absent or too large. */
static int parse_bound(const unsigned char *e, size_t *i)
{
    int v = -1;
    while (e[*i] >= '0' && e[*i] <= '9') {
        v = (v < 0 ? 0 : v) * 10 + (e[*i] - '0');
        if (v > FM_DUP_MAX)
            return -1;
        (*i)++;
    }
    return v;
}

/* The byte set of a bracket expression, as regexec sees it: must equal ours. */
static bool bracket_agrees(const unsigned char *text, size_t len, const fm_item *it)
{
    char buf[300];
    regex_t re;
    bool ok = true;
    if (len + 3 > sizeof buf)
        return false;
    buf[0] = '^';
    memcpy(buf + 1, text, len);
    buf[len + 1] = '$';
    buf[len + 2] = '\0';
    if (regcomp(&re, buf, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    for (unsigned c = 1; c < 128 && ok; c++) {
        char s[2] = {(char)c, '\0'};
        ok = (regexec(&re, s, 0, NULL, 0) == 0) == in_set(it, (unsigned char)c);
    }
    regfree(&re);
    return ok;
}

static bool sets_overlap(const fm_item *a, const fm_item *b)
{
    return (a->set[0] & b->set[0]) || (a->set[1] & b->set[1]);
}

/* Greedy one-pass matching is exact when no item that may repeat a variable
 * number of times can take a byte that whatever follows it could start with. */
static bool is_deterministic(const fm_prog *pg)
{
    if (!pg->bol)
        return false;
    for (unsigned k = 0; k < pg->count; k++) {
        const fm_item *a = &pg->items[k];
        if (a->min == a->max)
            continue;
        for (unsigned j = k + 1; j < pg->count; j++) {
            if (sets_overlap(a, &pg->items[j]))
                return false;
            if (pg->items[j].min > 0)
                break;
        }
    }
    return true;
}

/* The ERE as a program, or false when it is not a simple sequence. */
static bool parse_simple(const char *ere, fm_prog *pg)
{
    const unsigned char *e = (const unsigned char *)ere;
    size_t i = 0, n = strlen(ere);
    memset(pg, 0, sizeof *pg);
    if (e[i] == '^') {
        pg->bol = true;
        i++;
    }
    while (i < n) {
        unsigned char c = e[i];
        if (c == '$' && i + 1 == n) {
            pg->eol = true;
            break;
        }
        if (pg->count == FM_MAX_ITEMS || c >= 0x80)
            return false;
        fm_item *it = &pg->items[pg->count];
        memset(it, 0, sizeof *it);
        if (c == '[') {
            size_t start = i;
            if (!parse_bracket(e, &i, it) || !bracket_agrees(e + start, i - start, it))
                return false;
        } else if (c == '\\') {
            if (!ere_special(e[i + 1]))
                return false; /* GNU escapes (\w, \b, \1...) or a trailing backslash */
            set_add(it, e[i + 1]);
            i += 2;
        } else if (ere_special(c)) {
            return false; /* . ( ) | { * + ? and anchors in the middle */
        } else {
            set_add(it, c);
            i++;
        }
        it->min = it->max = 1;
        c = e[i];
        if (c == '*' || c == '+' || c == '?') {
            it->min = c == '+';
            it->max = c == '?' ? 1 : FM_INF;
            i++;
        } else if (c == '{') {
            size_t k = i + 1;
            int lo = parse_bound(e, &k), hi = lo;
            if (lo < 0)
                return false;
            if (e[k] == ',') {
                k++;
                hi = e[k] == '}' ? (int)FM_INF : parse_bound(e, &k);
                if (hi < 0 || hi < lo)
                    return false;
            }
            if (e[k] != '}')
                return false;
            it->min = (uint16_t)lo;
            it->max = (uint16_t)hi;
            i = k + 1;
        }
        c = e[i];
        if (c == '*' || c == '+' || c == '?' || c == '{')
            return false; /* stacked quantifiers */
        pg->count++;
    }
    pg->deterministic = is_deterministic(pg);
    for (unsigned k = 0; k < pg->count; k++)
        for (unsigned c = 0; c < 128; c++)
            if (in_set(&pg->items[k], (unsigned char)c))
                pg->member[c] |= 1u << k;
    return true;
}

/* The regex_t follows the locale at regcomp time; the program is exact only
 * in the C locale (byte characters, ranges in byte order). */
static bool c_locale(void)
{
    if (uselocale((locale_t)0) != LC_GLOBAL_LOCALE)
        return false; /* a thread-local locale cannot be queried portably */
    const char *lc[2] = {setlocale(LC_CTYPE, NULL), setlocale(LC_COLLATE, NULL)};
    for (int k = 0; k < 2; k++)
        if (!lc[k] || (strcmp(lc[k], "C") != 0 && strcmp(lc[k], "POSIX") != 0))
            return false;
    return true;
}

/* ----------------------------------------------------------- the matchers */

/* Greedy, one pass; the program is deterministic (so anchored at the start). */
static bool match_greedy(const fm_prog *pg, const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (unsigned k = 0; k < pg->count; k++) {
        const fm_item *it = &pg->items[k];
        size_t c = 0;
        const uint32_t bit = 1u << k;
        while (c < it->max && i < n && (pg->member[s[i]] & bit))
            i++, c++;
        if (c < it->min)
            return false;
    }
    return !pg->eol || i == n;
}

/*
 * Position sets: cur[p] says some match of the items so far ends at p. An
 * item (set C, min, max) reaches q when some p in [max(L(q), q - max), q - min]
 * is in cur, where L(q) is the start of the run of C bytes ending at q; the
 * largest such p <= q - min is enough to decide. n <= FM_MAX_LEN.
 */
static bool match_sets(const fm_prog *pg, const unsigned char *s, size_t n)
{
    unsigned char a[FM_MAX_LEN + 1], b[FM_MAX_LEN + 1];
    unsigned char *cur = a, *nxt = b;
    if (pg->bol) {
        memset(cur, 0, n + 1);
        cur[0] = 1;
    } else {
        memset(cur, 1, n + 1);
    }
    for (unsigned k = 0; k < pg->count; k++) {
        const fm_item *it = &pg->items[k];
        size_t run = 0; /* L(q) */
        long last = -1; /* largest p <= q - min in cur */
        bool any = false;
        const uint32_t bit = 1u << k;
        for (size_t q = 0; q <= n; q++) {
            if (q > 0 && !(pg->member[s[q - 1]] & bit))
                run = q;
            if (q >= it->min && cur[q - it->min])
                last = (long)(q - it->min);
            size_t lo = run;
            if (it->max != FM_INF && q > it->max && q - it->max > lo)
                lo = q - it->max;
            nxt[q] = last >= 0 && (size_t)last >= lo;
            any |= nxt[q];
        }
        if (!any)
            return false;
        unsigned char *t = cur;
        cur = nxt;
        nxt = t;
    }
    if (pg->eol)
        return cur[n] != 0;
    return true; /* some position is reachable */
}

static bool all_ascii(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            return false;
    }
    for (; i < n; i++)
        if (s[i] & 0x80)
            return false;
    return true;
}

/* ------------------------------------------------------------------ public */

/* Returns 1 (ready) or -1 (failed); compiles on first call. */
static int pattern_ready(mf_pattern *p)
{
    int st = __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
    if (st != 0)
        return st;
    pthread_mutex_lock(&compile_lock);
    st = __atomic_load_n(&p->state, __ATOMIC_RELAXED);
    if (st == 0) {
        compiled_pattern *cp = malloc(sizeof *cp);
        if (cp && p->ere && regcomp(&cp->re, p->ere, REG_EXTENDED | REG_NOSUB) == 0) {
            cp->fast = c_locale() && parse_simple(p->ere, &cp->prog);
            p->compiled = cp;
            st = 1;
        } else {
            free(cp);
            st = -1;
        }
        __atomic_store_n(&p->state, st, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&compile_lock);
    return st;
}

int mf_pattern_fast_match(mf_pattern *p, const char *s, size_t n)
{
    if (pattern_ready(p) < 0)
        return -1;
    const compiled_pattern *cp = p->compiled;
    const unsigned char *u = (const unsigned char *)s;
    if (!cp->fast || !all_ascii(u, n))
        return -1;
    if (cp->prog.deterministic)
        return match_greedy(&cp->prog, u, n);
    if (n > FM_MAX_LEN)
        return -1;
    return match_sets(&cp->prog, u, n);
}

mf_status mf_pattern_check(mf_pattern *p, const char *s, size_t n, const char *pointer,
                           mf_error *err)
{
    const char *src = p && p->source ? p->source : "";
    if (!p || !s)
        return mf_error_set(err, MF_ERR_PATTERN, pointer, "pattern %s could not be applied", src);
    if (pattern_ready(p) < 0)
        return mf_error_set(err, MF_ERR_PATTERN, pointer, "pattern %s could not be compiled", src);
    const compiled_pattern *cp = p->compiled;
    const unsigned char *u = (const unsigned char *)s;
    bool ok;
    if (cp->fast && all_ascii(u, n) && (cp->prog.deterministic || n <= FM_MAX_LEN))
        ok = cp->prog.deterministic ? match_greedy(&cp->prog, u, n) : match_sets(&cp->prog, u, n);
    else /* s[n] is NUL; an embedded NUL never gets here (strings are checked first). */
        ok = regexec(&cp->re, s, 0, NULL, 0) == 0;
    if (ok)
        return MF_OK;
    /* At most 40 bytes of the value, cut back to a character boundary so the
     * message stays valid UTF-8. */
    size_t shown = n > 40 ? 40 : n;
    while (shown < n && shown > 0 && ((unsigned char)s[shown] & 0xC0) == 0x80)
        shown--;
    return mf_error_set(err, MF_ERR_PATTERN, pointer, "\"%.*s\" does not match %s", (int)shown, s,
                        src);
}
