/*
 * mf/freelist.h - objects of one size kept for reuse (internal, not installed).
 *
 * Why: an object made per message (a request's record, a reply's context) and freed on
 * another thread is what glibc's allocator does worst: the freeing thread's cache overflows
 * into the other thread's arena, under that arena's lock. Kept on a list that one thread (or
 * one lock) owns, the object costs two pointer moves instead. The caveat: what a list keeps
 * is memory the process holds until mf_freelist_clear, so each owner bounds it (`keep`).
 *
 * Rules:
 *  1. A list is used by one thread at a time (its owner's, or under the owner's lock): it has
 *     no lock of its own.
 *  2. Every object given to a list came from malloc (or mf_freelist_take of the same list)
 *     with the same size, at least sizeof(void *).
 *  3. A kept object's first sizeof(void *) bytes hold the list's link: whatever was there is
 *     gone, and an object taken from the list has unspecified contents (set every member).
 *
 * Used by the client's request records (client/request.c, under the client's lock) and by
 * campaign-service's request contexts and reply boxes (its engine thread).
 */
#ifndef MF_FREELIST_H
#define MF_FREELIST_H

#include <stdlib.h>
#include <string.h>

typedef struct mf_freelist {
    void *head; /* the newest kept object; its first bytes link to the next */
    size_t n;   /* objects kept */
} mf_freelist;

#define MF_FREELIST_INIT {NULL, 0}

/* A kept object, or a new one of `size` bytes from malloc. NULL when out of memory (no
 * operation is performed). The contents are unspecified (rule 3). */
static inline void *mf_freelist_take(mf_freelist *f, size_t size)
{
    void *p = f->head;
    if (!p)
        return malloc(size);
    memcpy(&f->head, p, sizeof f->head);
    f->n--;
    return p;
}

/* Keeps p for a later take while fewer than `keep` are kept; otherwise frees it. NULL is
 * ignored. */
static inline void mf_freelist_give(mf_freelist *f, void *p, size_t keep)
{
    if (!p)
        return;
    if (f->n >= keep) {
        free(p);
        return;
    }
    memcpy(p, &f->head, sizeof f->head);
    f->head = p;
    f->n++;
}

/* Frees every kept object; the list is empty and usable again. */
static inline void mf_freelist_clear(mf_freelist *f)
{
    while (f->head) {
        void *p = f->head;
        memcpy(&f->head, p, sizeof f->head);
        free(p);
    }
    f->n = 0;
}

#endif /* MF_FREELIST_H */
