/*
 * broker/hash.h - the one string hash of the broker's tables (private to the broker).
 *
 * FNV-1a, 64 bits: the subject trie's literal tokens and its match cache
 * (broker/sublist.c), the broker's subscriptions by sid (broker/route.c). Not
 * keyed: the tables it serves bound their chains by growing, and hold what
 * their own clients put there.
 */
#ifndef MFB_HASH_H
#define MFB_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a (64-bit) of the n bytes at s. */
static inline uint64_t mfb_fnv1a64(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

#endif
