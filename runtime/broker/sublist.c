/*
 * sublist.c - the subject trie with a match cache (see broker/sublist.h).
 *
 * Each node stands for one token. Literal children live in a small chained
 * hash table (so 10k sibling inboxes cost O(1) per lookup); the "*" and ">"
 * children have their own slots. A node holds the plain subscriptions whose
 * subject ends there and its queue groups (name -> members).
 *
 * The cache is direct-mapped: slot = hash(subject) & (slots - 1). A slot is
 * valid when its generation equals the sublist's; insert and remove bump the
 * generation, which invalidates every slot at once without touching them.
 */
#include "broker/sublist.h"

#include <stdlib.h>
#include <string.h>

#include "broker/hash.h"
#include "mf/proto.h"

typedef struct qgroup {
    char *name;
    void **subs;
    size_t n, cap;
} qgroup;

typedef struct node {
    char *token;         /* NULL for the root */
    size_t toklen;
    uint64_t hash;
    struct node *parent;
    struct node *next;   /* chain in the parent's bucket */
    struct node **buckets;
    size_t nbuckets;     /* 0 or a power of two */
    size_t nkids;        /* literal children */
    struct node *pwc;    /* "*" */
    struct node *fwc;    /* ">" */
    void **psubs;
    size_t npsubs, pcap;
    qgroup *qs;
    size_t nq, qcap;
} node;

typedef struct cslot {
    uint64_t gen;        /* 0 = never used */
    uint64_t hash;
    char *subject;
    size_t slen;
    void **subs;         /* plain subs then the members of each group */
    size_t npsubs, nsubs, subs_cap;
    mfb_sublist_group *groups;
    size_t ngroups, groups_cap;
} cslot;

struct mfb_sublist {
    node root;
    size_t count;
    size_t nodes;
    uint64_t gen;
    cslot *cache;
    size_t cache_slots;
    uint64_t matches, hits, inserts, removes;
    mfb_sublist_result scratch;
};

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 4;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = nc;
    return true;
}

mfb_sublist *mfb_sublist_new(size_t cache_slots)
{
    mfb_sublist *sl = calloc(1, sizeof *sl);
    if (!sl)
        return NULL;
    size_t n = cache_slots ? cache_slots : MFB_SUBLIST_DEFAULT_CACHE;
    size_t p2 = 1;
    while (p2 < n && p2 < ((size_t)1 << 30))
        p2 <<= 1;
    sl->cache = calloc(p2, sizeof *sl->cache);
    if (!sl->cache) {
        free(sl);
        return NULL;
    }
    sl->cache_slots = p2;
    sl->gen = 1;
    mfb_sublist_result_init(&sl->scratch);
    return sl;
}

static void node_free_contents(node *n)
{
    for (size_t i = 0; i < n->nbuckets; i++) {
        node *k = n->buckets[i];
        while (k) {
            node *nx = k->next;
            node_free_contents(k);
            free(k);
            k = nx;
        }
    }
    free(n->buckets);
    if (n->pwc) {
        node_free_contents(n->pwc);
        free(n->pwc);
    }
    if (n->fwc) {
        node_free_contents(n->fwc);
        free(n->fwc);
    }
    free(n->psubs);
    for (size_t i = 0; i < n->nq; i++) {
        free(n->qs[i].name);
        free(n->qs[i].subs);
    }
    free(n->qs);
    free(n->token);
}

void mfb_sublist_free(mfb_sublist *sl)
{
    if (!sl)
        return;
    node_free_contents(&sl->root);
    for (size_t i = 0; i < sl->cache_slots; i++) {
        free(sl->cache[i].subject);
        free(sl->cache[i].subs);
        free(sl->cache[i].groups);
    }
    free(sl->cache);
    mfb_sublist_result_free(&sl->scratch);
    free(sl);
}

size_t mfb_sublist_count(const mfb_sublist *sl)
{
    return sl ? sl->count : 0;
}

void mfb_sublist_get_stats(const mfb_sublist *sl, mfb_sublist_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!sl)
        return;
    st->subscriptions = sl->count;
    st->nodes = sl->nodes;
    for (size_t i = 0; i < sl->cache_slots; i++)
        if (sl->cache[i].gen == sl->gen)
            st->cache_entries++;
    st->matches = sl->matches;
    st->cache_hits = sl->hits;
    st->inserts = sl->inserts;
    st->removes = sl->removes;
}

/* ---------------------------------------------------------------- trie */

static node *find_literal(const node *parent, const char *tok, size_t len, uint64_t h)
{
    if (!parent->nbuckets)
        return NULL;
    for (node *k = parent->buckets[h & (parent->nbuckets - 1)]; k; k = k->next)
        if (k->hash == h && k->toklen == len && memcmp(k->token, tok, len) == 0)
            return k;
    return NULL;
}

static bool rehash(node *parent, size_t nb)
{
    node **b = calloc(nb, sizeof *b);
    if (!b)
        return false;
    for (size_t i = 0; i < parent->nbuckets; i++) {
        node *k = parent->buckets[i];
        while (k) {
            node *nx = k->next;
            size_t j = k->hash & (nb - 1);
            k->next = b[j];
            b[j] = k;
            k = nx;
        }
    }
    free(parent->buckets);
    parent->buckets = b;
    parent->nbuckets = nb;
    return true;
}

static node *new_node(node *parent, const char *tok, size_t len, uint64_t h)
{
    node *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->token = malloc(len + 1);
    if (!k->token) {
        free(k);
        return NULL;
    }
    memcpy(k->token, tok, len);
    k->token[len] = '\0';
    k->toklen = len;
    k->hash = h;
    k->parent = parent;
    return k;
}

/* Finds or creates the child for a token. */
static node *child(mfb_sublist *sl, node *parent, const char *tok, size_t len)
{
    if (len == 1 && tok[0] == '*') {
        if (!parent->pwc) {
            parent->pwc = new_node(parent, tok, len, 0);
            if (parent->pwc)
                sl->nodes++;
        }
        return parent->pwc;
    }
    if (len == 1 && tok[0] == '>') {
        if (!parent->fwc) {
            parent->fwc = new_node(parent, tok, len, 0);
            if (parent->fwc)
                sl->nodes++;
        }
        return parent->fwc;
    }
    uint64_t h = mfb_hash64(tok, len);
    node *k = find_literal(parent, tok, len, h);
    if (k)
        return k;
    if (parent->nkids + 1 > parent->nbuckets) {
        if (!rehash(parent, parent->nbuckets ? parent->nbuckets * 2 : 4))
            return NULL;
    }
    k = new_node(parent, tok, len, h);
    if (!k)
        return NULL;
    size_t j = h & (parent->nbuckets - 1);
    k->next = parent->buckets[j];
    parent->buckets[j] = k;
    parent->nkids++;
    sl->nodes++;
    return k;
}

static node *lookup(node *parent, const char *tok, size_t len)
{
    if (len == 1 && tok[0] == '*')
        return parent->pwc;
    if (len == 1 && tok[0] == '>')
        return parent->fwc;
    return find_literal(parent, tok, len, mfb_hash64(tok, len));
}

static bool node_empty(const node *n)
{
    return !n->npsubs && !n->nq && !n->nkids && !n->pwc && !n->fwc;
}

/* Unlinks and frees empty nodes from n upwards (the root stays). */
static void prune(mfb_sublist *sl, node *n)
{
    while (n->parent && node_empty(n)) {
        node *p = n->parent;
        if (p->pwc == n) {
            p->pwc = NULL;
        } else if (p->fwc == n) {
            p->fwc = NULL;
        } else {
            node **pp = &p->buckets[n->hash & (p->nbuckets - 1)];
            while (*pp && *pp != n)
                pp = &(*pp)->next;
            if (*pp)
                *pp = n->next;
            p->nkids--;
            if (p->nkids == 0) {
                free(p->buckets);
                p->buckets = NULL;
                p->nbuckets = 0;
            }
        }
        free(n->buckets);
        free(n->psubs);
        free(n->qs);
        free(n->token);
        free(n);
        sl->nodes--;
        n = p;
    }
}

/*
 * The node of the subject's last token (slen bytes of a valid subject). With
 * create, missing nodes are made on the way; on out of memory what was made is
 * pruned and NULL is returned. Without create nothing is made and NULL means
 * the subject has no node.
 */
static node *walk(mfb_sublist *sl, const char *subject, size_t slen, bool create)
{
    node *n = &sl->root;
    for (size_t i = 0; i <= slen;) {
        size_t e = i;
        while (e < slen && subject[e] != '.')
            e++;
        node *k = create ? child(sl, n, subject + i, e - i) : lookup(n, subject + i, e - i);
        if (!k) {
            if (create)
                prune(sl, n);
            return NULL;
        }
        n = k;
        i = e + 1;
    }
    return n;
}

mf_status mfb_sublist_insert(mfb_sublist *sl, const char *subject, const char *queue, void *sub)
{
    if (!sl || !subject)
        return MF_ERR_INVALID_ARG;
    size_t slen = strlen(subject);
    if (!mf_subject_valid(subject, slen, true))
        return MF_ERR_INVALID_ARG;
    node *n = walk(sl, subject, slen, true);
    if (!n)
        return MF_ERR_NOMEM;
    if (queue && *queue) {
        qgroup *g = NULL;
        for (size_t q = 0; q < n->nq; q++)
            if (strcmp(n->qs[q].name, queue) == 0) {
                g = &n->qs[q];
                break;
            }
        if (!g) {
            if (!grow((void **)&n->qs, &n->qcap, n->nq + 1, sizeof *n->qs)) {
                prune(sl, n);
                return MF_ERR_NOMEM;
            }
            char *name = strdup(queue);
            if (!name) {
                prune(sl, n);
                return MF_ERR_NOMEM;
            }
            g = &n->qs[n->nq++];
            memset(g, 0, sizeof *g);
            g->name = name;
        }
        if (!grow((void **)&g->subs, &g->cap, g->n + 1, sizeof *g->subs)) {
            if (g->n == 0) {
                free(g->name);
                n->nq--;
            }
            prune(sl, n);
            return MF_ERR_NOMEM;
        }
        g->subs[g->n++] = sub;
    } else {
        if (!grow((void **)&n->psubs, &n->pcap, n->npsubs + 1, sizeof *n->psubs)) {
            prune(sl, n);
            return MF_ERR_NOMEM;
        }
        n->psubs[n->npsubs++] = sub;
    }
    sl->count++;
    sl->inserts++;
    sl->gen++;
    return MF_OK;
}

mf_status mfb_sublist_remove(mfb_sublist *sl, const char *subject, const char *queue, void *sub)
{
    if (!sl || !subject)
        return MF_ERR_INVALID_ARG;
    size_t slen = strlen(subject);
    if (!mf_subject_valid(subject, slen, true))
        return MF_ERR_NOT_FOUND;
    node *n = walk(sl, subject, slen, false);
    if (!n)
        return MF_ERR_NOT_FOUND;
    bool found = false;
    if (queue && *queue) {
        for (size_t q = 0; q < n->nq && !found; q++) {
            qgroup *g = &n->qs[q];
            if (strcmp(g->name, queue) != 0)
                continue;
            for (size_t j = 0; j < g->n; j++)
                if (g->subs[j] == sub) {
                    g->subs[j] = g->subs[--g->n];
                    found = true;
                    break;
                }
            if (found && g->n == 0) {
                free(g->name);
                free(g->subs);
                n->qs[q] = n->qs[--n->nq];
            }
            break;
        }
    } else {
        for (size_t j = 0; j < n->npsubs; j++)
            if (n->psubs[j] == sub) {
                n->psubs[j] = n->psubs[--n->npsubs];
                found = true;
                break;
            }
    }
    if (!found)
        return MF_ERR_NOT_FOUND;
    if (n->npsubs == 0 && n->pcap > 16) {
        free(n->psubs);
        n->psubs = NULL;
        n->pcap = 0;
    }
    sl->count--;
    sl->removes++;
    sl->gen++;
    prune(sl, n);
    return MF_OK;
}

/* ---------------------------------------------------------------- matching */

void mfb_sublist_result_init(mfb_sublist_result *r)
{
    memset(r, 0, sizeof *r);
}

void mfb_sublist_result_free(mfb_sublist_result *r)
{
    if (!r)
        return;
    free(r->store);
    free(r->gstore);
    memset(r, 0, sizeof *r);
}

/* While matching: plain subs go to r->store, matching queue groups to a list of qgroup pointers. */
typedef struct {
    mfb_sublist_result *r;
    size_t np;
    const qgroup **gl;
    size_t ng, gcap;
    bool oom;
} collect;

static void add_node(collect *c, const node *n)
{
    if (n->npsubs) {
        if (!grow((void **)&c->r->store, &c->r->store_cap, c->np + n->npsubs, sizeof(void *))) {
            c->oom = true;
            return;
        }
        memcpy(c->r->store + c->np, n->psubs, n->npsubs * sizeof(void *));
        c->np += n->npsubs;
    }
    for (size_t q = 0; q < n->nq; q++) {
        if (!grow((void **)&c->gl, &c->gcap, c->ng + 1, sizeof *c->gl)) {
            c->oom = true;
            return;
        }
        c->gl[c->ng++] = &n->qs[q];
    }
}

typedef struct {
    const char *p;
    size_t n;
} tok;

static void match_level(collect *c, const node *n, const tok *toks, size_t ntok, size_t i)
{
    while (n && !c->oom) {
        if (i == ntok) {
            add_node(c, n);
            return;
        }
        if (n->fwc)
            add_node(c, n->fwc);
        if (n->pwc)
            match_level(c, n->pwc, toks, ntok, i + 1);
        n = n->nbuckets ? find_literal(n, toks[i].p, toks[i].n, mfb_hash64(toks[i].p, toks[i].n)) : NULL;
        i++;
    }
}

/* Turns the collected plain subs + group list into the result layout (groups merged by name). */
static bool finish_result(collect *c)
{
    mfb_sublist_result *r = c->r;
    size_t total = c->np;
    for (size_t i = 0; i < c->ng; i++)
        total += c->gl[i]->n;
    if (!grow((void **)&r->store, &r->store_cap, total ? total : 1, sizeof(void *)))
        return false;
    if (!grow((void **)&r->gstore, &r->gstore_cap, c->ng ? c->ng : 1, sizeof *r->gstore))
        return false;
    size_t k = c->np, ng = 0;
    /* offsets first (store may not move any more, but keep it simple and index based) */
    for (size_t i = 0; i < c->ng; i++) {
        if (!c->gl[i])
            continue;
        const char *name = c->gl[i]->name;
        size_t start = k;
        for (size_t j = i; j < c->ng; j++) {
            if (!c->gl[j] || (j != i && strcmp(c->gl[j]->name, name) != 0))
                continue;
            memcpy(r->store + k, c->gl[j]->subs, c->gl[j]->n * sizeof(void *));
            k += c->gl[j]->n;
            if (j != i)
                c->gl[j] = NULL;
        }
        r->gstore[ng].queue = name;
        r->gstore[ng].subs = (void **)(uintptr_t)(start); /* fixed below */
        r->gstore[ng].n = k - start;
        ng++;
    }
    for (size_t g = 0; g < ng; g++)
        r->gstore[g].subs = r->store + (size_t)(uintptr_t)r->gstore[g].subs;
    r->psubs = r->store;
    r->npsubs = c->np;
    r->groups = r->gstore;
    r->ngroups = ng;
    return true;
}

static void result_clear(mfb_sublist_result *r)
{
    r->psubs = r->store;
    r->npsubs = 0;
    r->groups = r->gstore;
    r->ngroups = 0;
}

static bool copy_from_slot(const cslot *s, mfb_sublist_result *r)
{
    if (!grow((void **)&r->store, &r->store_cap, s->nsubs ? s->nsubs : 1, sizeof(void *)))
        return false;
    if (!grow((void **)&r->gstore, &r->gstore_cap, s->ngroups ? s->ngroups : 1, sizeof *r->gstore))
        return false;
    if (s->nsubs)
        memcpy(r->store, s->subs, s->nsubs * sizeof(void *));
    for (size_t g = 0; g < s->ngroups; g++) {
        r->gstore[g].queue = s->groups[g].queue;
        r->gstore[g].n = s->groups[g].n;
        r->gstore[g].subs = r->store + (s->groups[g].subs - s->subs);
    }
    r->psubs = r->store;
    r->npsubs = s->npsubs;
    r->groups = r->gstore;
    r->ngroups = s->ngroups;
    return true;
}

static void copy_to_slot(mfb_sublist *sl, cslot *s, uint64_t h, const char *subject, size_t len,
                         const mfb_sublist_result *r)
{
    size_t nsubs = r->npsubs;
    for (size_t g = 0; g < r->ngroups; g++)
        nsubs += r->groups[g].n;
    s->gen = 0;
    if (!s->subject || s->slen < len) {
        char *ns = realloc(s->subject, len + 1);
        if (!ns)
            return;
        s->subject = ns;
    }
    if (!grow((void **)&s->subs, &s->subs_cap, nsubs ? nsubs : 1, sizeof(void *)) ||
        !grow((void **)&s->groups, &s->groups_cap, r->ngroups ? r->ngroups : 1, sizeof *s->groups))
        return;
    memcpy(s->subject, subject, len);
    s->subject[len] = '\0';
    s->slen = len;
    s->hash = h;
    if (nsubs)
        memcpy(s->subs, r->store, nsubs * sizeof(void *));
    for (size_t g = 0; g < r->ngroups; g++) {
        s->groups[g].queue = r->groups[g].queue;
        s->groups[g].n = r->groups[g].n;
        s->groups[g].subs = s->subs + (r->groups[g].subs - r->store);
    }
    s->npsubs = r->npsubs;
    s->nsubs = nsubs;
    s->ngroups = r->ngroups;
    s->gen = sl->gen;
}

mf_status mfb_sublist_match(mfb_sublist *sl, const char *subject, size_t len, mfb_sublist_result *r)
{
    if (!sl || !r || (!subject && len))
        return MF_ERR_INVALID_ARG;
    if (!mf_subject_valid(subject, len, false)) {
        result_clear(r);
        sl->matches++;
        return MF_OK;
    }
    return mfb_sublist_match_valid(sl, subject, len, r);
}

/* Splits subject at its dots into toks (cap entries); the number of tokens, which may exceed cap
 * (then only the first cap are stored). */
static size_t split_tokens(const char *subject, size_t len, tok *toks, size_t cap)
{
    size_t n = 0;
    const char *p = subject, *end = subject + len;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *e = dot ? dot : end;
        if (n < cap) {
            toks[n].p = p;
            toks[n].n = (size_t)(e - p);
        }
        n++;
        if (!dot)
            return n;
        p = dot + 1;
    }
}

mf_status mfb_sublist_match_valid(mfb_sublist *sl, const char *subject, size_t len, mfb_sublist_result *r)
{
    result_clear(r);
    sl->matches++;
    uint64_t h = mfb_hash64(subject, len);
    cslot *s = &sl->cache[h & (sl->cache_slots - 1)];
    if (s->gen == sl->gen && s->hash == h && s->slen == len && memcmp(s->subject, subject, len) == 0) {
        sl->hits++;
        if (!copy_from_slot(s, r)) {
            result_clear(r);
            return MF_ERR_NOMEM;
        }
        return MF_OK;
    }
    tok stack_toks[32];
    tok *toks = stack_toks;
    size_t ntok = split_tokens(subject, len, stack_toks, 32);
    if (ntok > 32) {
        toks = malloc(ntok * sizeof *toks);
        if (!toks)
            return MF_ERR_NOMEM;
        split_tokens(subject, len, toks, ntok);
    }
    collect c = {r, 0, NULL, 0, 0, false};
    match_level(&c, &sl->root, toks, ntok, 0);
    if (toks != stack_toks)
        free(toks);
    bool ok = !c.oom && finish_result(&c);
    free(c.gl);
    if (!ok) {
        result_clear(r);
        return MF_ERR_NOMEM;
    }
    copy_to_slot(sl, s, h, subject, len, r);
    return MF_OK;
}

bool mfb_sublist_has_interest(mfb_sublist *sl, const char *subject, size_t len)
{
    if (mfb_sublist_match(sl, subject, len, &sl->scratch) != MF_OK)
        return false;
    return sl->scratch.npsubs > 0 || sl->scratch.ngroups > 0;
}
