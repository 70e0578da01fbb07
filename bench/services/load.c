/*
 * load.c - bench-services: a deterministic population, imported through the admin API
 * with one plain HTTP/1.1 POST (Content-Length, streamed from memory).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_services.h"
#include "mf/buf.h"

static const char *const LANGS[] = {"en-US", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-BR", "it-IT", "pl-PL"};
static const char *const ZONES[] = {"America/New_York", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
                                    "Asia/Tokyo", "America/Sao_Paulo", "Europe/Rome", "Europe/Warsaw"};

/* SplitMix64: a fixed sequence per index. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void bench_user_id(long i, char *out)
{
    uint64_t a = mix((uint64_t)i * 2), b = mix((uint64_t)i * 2 + 1);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static long read_created(int fd)
{
    static char buf[1 << 16];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = recv(fd, buf + n, sizeof buf - 1 - n, 0)) > 0) {
        n += (size_t)r;
        buf[n] = '\0';
        if (strstr(buf, "\"errors_truncated\""))
            break;
    }
    const char *c = strstr(buf, "\"created\":");
    if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || !c) {
        fprintf(stderr, "bench-services: the import failed: %.300s\n", buf);
        return -1;
    }
    return atol(c + 10);
}

long bench_import(int port, long users, double *seconds)
{
    mf_buf body = MF_BUF_INIT;
    for (long i = 0; i < users; i++) {
        char id[37];
        bench_user_id(i, id);
        mf_buf_printf(&body,
                      "{\"user_id\":\"%s\",\"email\":\"bench.%06ld@example.com\",\"name\":\"Bench User %05ld\","
                      "\"language\":\"%s\",\"timezone\":\"%s\",\"plan\":\"%s\"}\n",
                      id, i, i % 100000, LANGS[i % 8], ZONES[i % 8], i % 5 ? "free" : "premium");
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "POST /users/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      body.len);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long created = -1;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && send_all(fd, head, (size_t)hn) &&
        send_all(fd, body.data, body.len))
        created = read_created(fd);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (fd >= 0)
        close(fd);
    mf_buf_free(&body);
    return created;
}

/* GET /healthz until the outbox backlog is 0 (the import's events are all published). */
bool bench_wait_outbox_empty(int port, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 100) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        char buf[4096];
        size_t n = 0;
        ssize_t r;
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && send_all(fd, req, sizeof req - 1))
            while (n < sizeof buf - 1 && (r = recv(fd, buf + n, sizeof buf - 1 - n, 0)) > 0)
                n += (size_t)r;
        buf[n] = '\0';
        if (fd >= 0)
            close(fd);
        if (strstr(buf, "\"backlog\":0,"))
            return true;
        usleep(100000);
    }
    return false;
}
