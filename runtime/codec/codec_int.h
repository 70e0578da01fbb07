/*
 * codec_int.h - private interfaces between the codec's files.
 */
#ifndef MF_CODEC_INT_H
#define MF_CODEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include "mf/codec.h"
#include "codec/utf8.h"

/*
 * Matches s[0..n) (NUL-terminated at s[n]) against p, compiling p->ere on first
 * use (thread-safe, once per process). MF_OK when it matches; MF_ERR_PATTERN
 * when it does not, or when the ERE does not compile (err says which).
 * `pointer` is the JSON pointer put in err.
 */
mf_status mf_pattern_check(mf_pattern *p, const char *s, size_t n, const char *pointer, mf_error *err);

/*
 * Test hook of pattern.c: the fast matcher's answer for s[0..n) - 1 match,
 * 0 no match - or -1 when it does not apply (the pattern does not compile or
 * is outside the fast matcher's scope, or the value is non-ASCII or too long),
 * in which case mf_pattern_check uses regexec. Compiles p on first use.
 */
int mf_pattern_fast_match(mf_pattern *p, const char *s, size_t n);

/*
 * The reference decoder (decode_tree.c): the same contract as mf_decode, by
 * way of a cJSON tree. Kept for the differential tests, which require both
 * to agree on every input.
 */
mf_status mf_decode_tree(const mf_type *t, const char *json, size_t len, void *out, mf_error *err);

#endif
