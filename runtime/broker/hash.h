/*
 * broker/hash.h - the one string hash of the broker's tables (private to the broker).
 *
 * Used by the subject trie's literal tokens and its match cache
 * (broker/sublist.c) and the broker's subscriptions by sid (broker/route.c).
 * Eight bytes per step (a multiply and a shift each), then a final mix so the
 * low bits, which pick the bucket, depend on every byte. It replaced FNV-1a
 * (a multiply per byte): every publish hashes its subject once for the match
 * cache and each token again in the trie, and the campaign's subjects (inbox
 * replies, per-user push subjects) are 17-60 bytes long. Not keyed: the tables
 * it serves bound their chains by growing, and hold what their own clients
 * put there.
 */
#ifndef MFB_HASH_H
#define MFB_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MFB_HASH_K 0x9E3779B97F4A7C15ULL

static inline uint64_t mfb_hash_step(uint64_t h, uint64_t w)
{
    h = (h ^ w) * MFB_HASH_K;
    return h ^ (h >> 29);
}

/* The hash of the n bytes at s. */
static inline uint64_t mfb_hash64(const char *s, size_t n)
{
    uint64_t h = (uint64_t)n * MFB_HASH_K, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = mfb_hash_step(h, w);
    }
    if (i < n) {
        if (n >= 8) {
            memcpy(&w, s + n - 8, 8); /* the last 8 bytes, overlapping the ones before */
        } else {
            w = 0;
            for (size_t j = 0; i + j < n; j++)
                w |= (uint64_t)(unsigned char)s[i + j] << (8 * j);
        }
        h = mfb_hash_step(h, w);
    }
    h ^= h >> 32;
    h *= 0xFF51AFD7ED558CCDULL;
    return h ^ (h >> 33);
}

#endif
