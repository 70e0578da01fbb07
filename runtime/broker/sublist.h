/*
 * broker/sublist.h - subject -> subscriptions, the broker's routing table
 * (private to the broker: sublist.c is compiled into mf-broker, not into
 * libmflow-runtime; its tests link the object library mfb_sublist).
 *
 * A trie of subject tokens with a "*" child and a ">" child per node, plus a
 * bounded, direct-mapped cache of match results keyed by the published subject.
 * Any insert or remove invalidates the whole cache in O(1) (a generation counter).
 *
 * Subscriptions are opaque pointers owned by the caller; the sublist never
 * dereferences them. The same pointer may be inserted under several subjects,
 * but (subject, queue, sub) triples must be unique.
 *
 * A match separates plain subscribers from queue-group members, grouped by
 * queue name, so the caller delivers to every plain subscriber and to one member
 * of each group. Order within a result is unspecified. Results are copied into
 * a caller-owned mf_sublist_result, so the caller may insert/remove (e.g. an
 * auto-unsubscribe) while walking it.
 *
 * Not thread-safe: one owner thread (the broker's service thread).
 */
#ifndef MF_SUBLIST_H
#define MF_SUBLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mf_sublist mf_sublist;

typedef struct mf_sublist_group {
    const char *queue;  /* the group's name; owned by the sublist, valid until the next insert/remove */
    void **subs;        /* members that match */
    size_t n;
} mf_sublist_group;

typedef struct mf_sublist_result {
    void **psubs;       /* plain subscribers */
    size_t npsubs;
    mf_sublist_group *groups;
    size_t ngroups;
    /* private storage */
    void **store;
    size_t store_cap;
    mf_sublist_group *gstore;
    size_t gstore_cap;
} mf_sublist_result;

typedef struct mf_sublist_stats {
    size_t subscriptions; /* inserted and not removed */
    size_t nodes;         /* trie nodes, root excluded */
    size_t cache_entries; /* valid cached results */
    uint64_t matches;
    uint64_t cache_hits;
    uint64_t inserts;
    uint64_t removes;
} mf_sublist_stats;

#define MF_SUBLIST_DEFAULT_CACHE 1024

/* cache_slots 0 -> MF_SUBLIST_DEFAULT_CACHE; other values are rounded up to a power of two.
 * Returns NULL when out of memory. */
mf_sublist *mf_sublist_new(size_t cache_slots);
void mf_sublist_free(mf_sublist *sl);

/* subject may contain wildcards (must satisfy mf_subject_valid(.., true): MF_ERR_INVALID_ARG otherwise).
 * queue NULL or "" = plain subscriber. MF_ERR_NOMEM. */
mf_status mf_sublist_insert(mf_sublist *sl, const char *subject, const char *queue, void *sub);
/* MF_ERR_NOT_FOUND when that (subject, queue, sub) is not there. Empty trie nodes are pruned. */
mf_status mf_sublist_remove(mf_sublist *sl, const char *subject, const char *queue, void *sub);

void mf_sublist_result_init(mf_sublist_result *r);
void mf_sublist_result_free(mf_sublist_result *r);
/* Fills r (replacing its previous content) with the subscriptions matching the literal subject.
 * A subject that is not a valid literal subject matches nothing (MF_OK, empty result).
 * MF_ERR_NOMEM leaves r empty. */
mf_status mf_sublist_match(mf_sublist *sl, const char *subject, size_t len, mf_sublist_result *r);
/* True when at least one subscription (plain or queue) matches the subject. */
bool mf_sublist_has_interest(mf_sublist *sl, const char *subject, size_t len);

size_t mf_sublist_count(const mf_sublist *sl);
void mf_sublist_get_stats(const mf_sublist *sl, mf_sublist_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* MF_SUBLIST_H */
