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
 * a caller-owned mfb_sublist_result, so the caller may insert/remove (e.g. an
 * auto-unsubscribe) while walking it.
 *
 * Not thread-safe: one owner thread (the broker's service thread).
 */
#ifndef MFB_SUBLIST_H
#define MFB_SUBLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mfb_sublist mfb_sublist;

typedef struct mfb_sublist_group {
    const char *queue;  /* the group's name; owned by the sublist, valid until the next insert/remove */
    void **subs;        /* members that match */
    size_t n;
} mfb_sublist_group;

typedef struct mfb_sublist_result {
    void **psubs;       /* plain subscribers */
    size_t npsubs;
    mfb_sublist_group *groups;
    size_t ngroups;
    /* private storage */
    void **store;
    size_t store_cap;
    mfb_sublist_group *gstore;
    size_t gstore_cap;
} mfb_sublist_result;

typedef struct mfb_sublist_stats {
    size_t subscriptions; /* inserted and not removed */
    size_t nodes;         /* trie nodes, root excluded */
    size_t cache_entries; /* valid cached results */
    uint64_t matches;
    uint64_t cache_hits;
    uint64_t inserts;
    uint64_t removes;
} mfb_sublist_stats;

#define MFB_SUBLIST_DEFAULT_CACHE 1024

/* cache_slots 0 -> MFB_SUBLIST_DEFAULT_CACHE; other values are rounded up to a power of two.
 * Returns NULL when out of memory. */
mfb_sublist *mfb_sublist_new(size_t cache_slots);
void mfb_sublist_free(mfb_sublist *sl);

/* subject may contain wildcards (must satisfy mf_subject_valid(.., true): MF_ERR_INVALID_ARG otherwise).
 * queue NULL or "" = plain subscriber. MF_ERR_NOMEM. */
mf_status mfb_sublist_insert(mfb_sublist *sl, const char *subject, const char *queue, void *sub);
/* MF_ERR_NOT_FOUND when that (subject, queue, sub) is not there. Empty trie nodes are pruned. */
mf_status mfb_sublist_remove(mfb_sublist *sl, const char *subject, const char *queue, void *sub);

void mfb_sublist_result_init(mfb_sublist_result *r);
void mfb_sublist_result_free(mfb_sublist_result *r);
/* Fills r (replacing its previous content) with the subscriptions matching the literal subject.
 * A subject that is not a valid literal subject matches nothing (MF_OK, empty result).
 * MF_ERR_NOMEM leaves r empty. */
mf_status mfb_sublist_match(mfb_sublist *sl, const char *subject, size_t len, mfb_sublist_result *r);
/* The same for a subject the caller has checked (mf_subject_valid(subject, len, false) is true,
 * sl and r are not NULL): a publish subject is checked once, not twice. */
mf_status mfb_sublist_match_valid(mfb_sublist *sl, const char *subject, size_t len, mfb_sublist_result *r);
/* True when at least one subscription (plain or queue) matches the subject. */
bool mfb_sublist_has_interest(mfb_sublist *sl, const char *subject, size_t len);

size_t mfb_sublist_count(const mfb_sublist *sl);
void mfb_sublist_get_stats(const mfb_sublist *sl, mfb_sublist_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* MFB_SUBLIST_H */
