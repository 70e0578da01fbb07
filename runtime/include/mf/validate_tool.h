/*
 * mf/validate_tool.h - the `<prefix>-validate` command-line tool.
 *
 * Every generated SDK ships a tiny main() that hands its registry to
 * mf_validate_tool_main:
 *
 *   <prefix>-validate [--roundtrip] MESSAGE [FILE|-]
 *   <prefix>-validate --list
 *   <prefix>-validate --help
 *
 * MESSAGE is a message key or name (mf_registry_message). The JSON document is
 * read from FILE, or from standard input when FILE is "-" or absent; at most
 * MF_VALIDATE_MAX_INPUT bytes.
 *
 * Exit status and output:
 *   0  valid. Prints nothing, or with --roundtrip the re-encoded compact JSON
 *      and a newline on stdout.
 *   1  invalid. stdout holds one line per error, "POINTER: message", where the
 *      empty pointer (the whole document) is printed as "(document)". The
 *      decoder stops at the first error, so this is one line.
 *   2  usage or I/O error (unknown option, unknown message, unreadable file,
 *      input too large, out of memory): a message on stderr.
 * --list prints "KEY NAME" for every message, sorted by key, and exits 0.
 * --help / -h prints the usage on stdout and exits 0.
 */
#ifndef MF_VALIDATE_TOOL_H
#define MF_VALIDATE_TOOL_H

#include "mf/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MF_VALIDATE_MAX_INPUT (64u * 1024u * 1024u) /* 64 MiB */

int mf_validate_tool_main(const mf_registry *reg, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif /* MF_VALIDATE_TOOL_H */
