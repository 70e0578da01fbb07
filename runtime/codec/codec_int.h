/*
 * codec_int.h - private interfaces between the codec's files.
 */
#ifndef MF_CODEC_INT_H
#define MF_CODEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include "mf/codec.h"

/*
 * Matches s[0..n) (NUL-terminated at s[n]) against p, compiling p->ere on first
 * use (thread-safe, once per process). MF_OK when it matches; MF_ERR_PATTERN
 * when it does not, or when the ERE does not compile (err says which).
 * `pointer` is the JSON pointer put in err.
 */
mf_status mf_pattern_check(mf_pattern *p, const char *s, size_t n, const char *pointer, mf_error *err);

/* Number of Unicode code points in valid UTF-8 s[0..n). */
size_t mf_utf8_count(const char *s, size_t n);

#endif
