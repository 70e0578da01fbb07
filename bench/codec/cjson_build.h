#ifndef BENCH_CJSON_BUILD_H
#define BENCH_CJSON_BUILD_H
#include <cjson/cJSON.h>
#include "mf/codec.h"
/* Builds a cJSON tree equal to what mf_encode writes for value (caller deletes). NULL on failure. */
cJSON *bench_cjson_build(const mf_type *t, const void *value);
#endif
