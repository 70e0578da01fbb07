/*
 * fuzz_decode_diff.c - libFuzzer target: the direct decoder (mf_decode)
 * against the reference (mf_decode_tree) on every input, through every
 * descriptor of tests/unit/fixtures.h and diff_types.h: the same status,
 * error code and pointer, and equal values that encode alike
 * (decode_diff.h); and for every value that decodes, mf_encode against
 * mf_validate with each part of the value broken (encode_diff.h). Any
 * difference aborts with both answers on stderr.
 *
 * Built and run by tests/fuzz/run.sh (decode_diff; seeds: corpus/decode/).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "decode_diff.h"
#include "diff_types.h"
#include "encode_diff.h"
#include "fixtures.h"

static void die(const char *why, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "DIFF %s\n", why);
    abort();
}

static void one(const mf_type *t, const uint8_t *data, size_t size)
{
    char why[1024];
    if (!diff_decode(t, (const char *)data, size, why, sizeof why))
        die(why, NULL);
    void *v = calloc(1, t->size ? t->size : 1);
    if (v && mf_decode(t, (const char *)data, size, v, NULL) == MF_OK)
        enc_diff_value(t, v, die, NULL);
    mf_free(t, v);
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const mf_type *fx[] = {&fx_doc_desc, &fx_raw_desc, &fx_raw_obj_desc, &fx_int_desc, &fx_num_desc,
                           &fx_str_desc, &fx_int_list_desc, &fx_tree_desc, &fx_any_desc, &fx_labels_desc,
                           &fx_shape_desc, &fx_settings_desc, fx_wide_desc()};
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++)
        one(fx[i], data, size);
    for (size_t i = 0; i < sizeof dt_types / sizeof dt_types[0]; i++)
        one(dt_types[i], data, size);
    return 0;
}
