/*
 * validate_tool.c - the `<prefix>-validate` command (mf/validate_tool.h).
 *
 * The body of a command-line tool, not codec: every generated SDK's
 * tools/mf-validate.c (generated) is a main() that calls mf_validate_tool_main, and mfctl
 * runs it too. It ships in libmflow-runtime so that an SDK generated and
 * built outside this repository links it from the installed runtime.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf/codec.h"
#include "mf/validate_tool.h"

#define EXIT_VALID 0
#define EXIT_INVALID 1
#define EXIT_USAGE 2

static const char *prog_name(char **argv)
{
    const char *p = argv && argv[0] && argv[0][0] ? argv[0] : "validate";
    const char *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

static void usage(FILE *f, const char *prog, const mf_registry *reg)
{
    fprintf(f,
            "usage: %s [--roundtrip] MESSAGE [FILE|-]\n"
            "       %s --list\n"
            "       %s --help\n"
            "\n"
            "Validates a JSON document against MESSAGE (a message key or name) of the\n"
            "%s %s contract. Reads FILE, or standard input when FILE is \"-\" or absent\n"
            "(at most 64 MiB).\n"
            "\n"
            "  --roundtrip  print the re-encoded compact JSON when the document is valid\n"
            "  --list       print \"KEY NAME\" for every message\n"
            "  -h, --help   print this help\n"
            "\n"
            "Exit status: 0 valid, 1 invalid (\"POINTER: message\" on stdout), 2 usage or I/O error.\n",
            prog, prog, prog, reg && reg->title ? reg->title : "", reg && reg->version ? reg->version : "");
}

static int cmp_msg(const void *a, const void *b)
{
    const mf_message_desc *x = *(const mf_message_desc *const *)a;
    const mf_message_desc *y = *(const mf_message_desc *const *)b;
    return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

static int list_messages(const mf_registry *reg)
{
    size_t n = reg->message_count;
    if (n == 0)
        return EXIT_VALID;
    const mf_message_desc **sorted = malloc(n * sizeof *sorted);
    if (!sorted) {
        fprintf(stderr, "out of memory\n");
        return EXIT_USAGE;
    }
    memcpy(sorted, reg->messages, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_msg);
    for (size_t i = 0; i < n; i++)
        printf("%s %s\n", sorted[i]->key ? sorted[i]->key : "", sorted[i]->name ? sorted[i]->name : "");
    free(sorted);
    return fflush(stdout) == 0 ? EXIT_VALID : EXIT_USAGE;
}

/* Reads all of f into a malloc'd buffer (NUL-terminated). Returns 0, or an
 * exit status after printing the reason. */
static int read_all(FILE *f, const char *name, char **out, size_t *out_len)
{
    size_t cap = 0, len = 0;
    char *buf = NULL;
    for (;;) {
        if (len + 1 >= cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > (size_t)MF_VALIDATE_MAX_INPUT + 2)
                ncap = (size_t)MF_VALIDATE_MAX_INPUT + 2;
            char *p = realloc(buf, ncap);
            if (!p) {
                free(buf);
                fprintf(stderr, "out of memory reading %s\n", name);
                return EXIT_USAGE;
            }
            buf = p;
            cap = ncap;
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (len > MF_VALIDATE_MAX_INPUT) {
            free(buf);
            fprintf(stderr, "%s: input larger than 64 MiB\n", name);
            return EXIT_USAGE;
        }
        if (r == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                fprintf(stderr, "cannot read %s: %s\n", name, e ? strerror(e) : "read error");
                return EXIT_USAGE;
            }
            break;
        }
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static void print_error(FILE *f, const mf_error *err)
{
    fprintf(f, "%s: %s\n", err->pointer[0] ? err->pointer : "(document)",
            err->message[0] ? err->message : mf_status_str(err->code));
}

static int validate(const mf_message_desc *m, const char *json, size_t len, bool roundtrip)
{
    void *value = calloc(1, m->size ? m->size : 1);
    if (!value) {
        fprintf(stderr, "out of memory\n");
        return EXIT_USAGE;
    }
    mf_error err;
    mf_error_clear(&err);
    mf_status st = mf_decode(m->type, json, len, value, &err);
    if (st != MF_OK) {
        free(value); /* mf_decode leaves nothing owned on error */
        if (st == MF_ERR_NOMEM) {
            fprintf(stderr, "out of memory\n");
            return EXIT_USAGE;
        }
        if (err.code == MF_OK)
            err.code = st;
        print_error(stdout, &err);
        fflush(stdout);
        return EXIT_INVALID;
    }
    int rc = EXIT_VALID;
    if (roundtrip) {
        mf_buf b = MF_BUF_INIT;
        mf_error_clear(&err);
        st = mf_encode(m->type, value, &b, &err);
        if (st == MF_OK) {
            fwrite(b.data ? b.data : "", 1, b.len, stdout);
            fputc('\n', stdout);
        } else if (st == MF_ERR_NOMEM) {
            fprintf(stderr, "out of memory\n");
            rc = EXIT_USAGE;
        } else {
            if (err.code == MF_OK)
                err.code = st;
            print_error(stdout, &err);
            rc = EXIT_INVALID;
        }
        mf_buf_free(&b);
    }
    mf_free(m->type, value);
    free(value);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "cannot write output: %s\n", strerror(errno));
        return EXIT_USAGE;
    }
    return rc;
}

int mf_validate_tool_main(const mf_registry *reg, int argc, char **argv)
{
    const char *prog = prog_name(argv);
    bool roundtrip = false, list = false, options_done = false;
    const char *positional[2] = {NULL, NULL};
    int npos = 0;

    if (!reg) {
        fprintf(stderr, "%s: no registry\n", prog);
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && a[0] == '-' && a[1] != '\0') {
            if (strcmp(a, "--") == 0) {
                options_done = true;
            } else if (strcmp(a, "--roundtrip") == 0) {
                roundtrip = true;
            } else if (strcmp(a, "--list") == 0) {
                list = true;
            } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
                usage(stdout, prog, reg);
                return EXIT_VALID;
            } else {
                fprintf(stderr, "%s: unknown option %s\n", prog, a);
                usage(stderr, prog, reg);
                return EXIT_USAGE;
            }
            continue;
        }
        if (npos == 2) {
            fprintf(stderr, "%s: too many arguments\n", prog);
            usage(stderr, prog, reg);
            return EXIT_USAGE;
        }
        positional[npos++] = a;
    }
    if (list)
        return list_messages(reg);
    if (npos == 0) {
        fprintf(stderr, "%s: missing MESSAGE\n", prog);
        usage(stderr, prog, reg);
        return EXIT_USAGE;
    }
    const mf_message_desc *m = mf_registry_message(reg, positional[0]);
    if (!m || !m->type) {
        fprintf(stderr, "%s: unknown message %s; try --list\n", prog, positional[0]);
        return EXIT_USAGE;
    }

    const char *file = positional[1];
    bool use_stdin = !file || strcmp(file, "-") == 0;
    FILE *f = use_stdin ? stdin : fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open %s: %s\n", prog, file, strerror(errno));
        return EXIT_USAGE;
    }
    char *json = NULL;
    size_t len = 0;
    int rc = read_all(f, use_stdin ? "standard input" : file, &json, &len);
    if (!use_stdin)
        fclose(f);
    if (rc)
        return rc;
    rc = validate(m, json, len, roundtrip);
    free(json);
    return rc;
}
