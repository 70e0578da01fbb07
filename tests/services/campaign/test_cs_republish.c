/* Unit tests of cs_republish against a one-shot HTTP server in a thread on a free loopback port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cs_republish.h"

typedef struct server {
    int fd, port;
    const char *answer; /* NULL: accept and say nothing */
    char request[1024];
} server;

static void *serve_once(void *p)
{
    server *s = p;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    size_t n = 0;
    while (n < sizeof s->request - 1 && !strstr(s->request, "\r\n\r\n")) {
        ssize_t r = recv(c, s->request + n, sizeof s->request - 1 - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        s->request[n] = '\0';
    }
    if (s->answer)
        send(c, s->answer, strlen(s->answer), MSG_NOSIGNAL);
    else
        usleep(600 * 1000); /* longer than the client waits */
    close(c);
    return NULL;
}

static void start(server *s, const char *answer)
{
    memset(s, 0, sizeof *s);
    s->answer = answer;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 1), 0);
    socklen_t len = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
}

static void answers(void **state)
{
    (void)state;
    server s;
    pthread_t t;
    char url[64];
    int code;
    mf_error err;

    start(&s, "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}");
    pthread_create(&t, NULL, serve_once, &s);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", s.port);
    assert_int_equal(cs_republish_request(url, 5000, &code, &err), MF_OK);
    assert_int_equal(code, 202);
    pthread_join(t, NULL);
    close(s.fd);
    assert_non_null(strstr(s.request, "POST /republish HTTP/1.1\r\n"));

    start(&s, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    pthread_create(&t, NULL, serve_once, &s);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/admin", s.port);
    assert_int_equal(cs_republish_request(url, 5000, &code, &err), MF_ERR_SERVER);
    assert_int_equal(code, 503);
    pthread_join(t, NULL);
    close(s.fd);
    assert_non_null(strstr(s.request, "POST /admin/republish "));

    /* since: what changed at or after it, with the token */
    start(&s, "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}");
    pthread_create(&t, NULL, serve_once, &s);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    assert_int_equal(cs_republish_request_since(url, "tok", "2026-12-06T03:25:01.120Z", 5000, &code, &err), MF_OK);
    pthread_join(t, NULL);
    close(s.fd);
    assert_non_null(strstr(s.request, "POST /republish?since=2026-12-06T03:25:01.120Z HTTP/1.1\r\n"));
    assert_non_null(strstr(s.request, "Authorization: Bearer tok\r\n"));

    start(&s, NULL); /* says nothing */
    pthread_create(&t, NULL, serve_once, &s);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    assert_int_equal(cs_republish_request(url, 300, &code, &err), MF_ERR_TIMEOUT);
    pthread_join(t, NULL);
    close(s.fd);

    start(&s, "garbage\r\n\r\n");
    pthread_create(&t, NULL, serve_once, &s);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    assert_int_equal(cs_republish_request(url, 5000, &code, &err), MF_ERR_IO);
    pthread_join(t, NULL);
    int port = s.port;
    close(s.fd);

    /* nobody listens any more */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    assert_int_equal(cs_republish_request(url, 2000, &code, &err), MF_ERR_IO);
}

static void bad_urls(void **state)
{
    (void)state;
    int code;
    mf_error err;
    const char *bad[] = {"", "https://127.0.0.1:4281", "127.0.0.1:4281", "http://", "http://:80",
                         "http://127.0.0.1:", "http://127.0.0.1:80x", "http://127.0.0.1:123456789", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(cs_republish_request(bad[i], 100, &code, &err), MF_ERR_INVALID_ARG);
    assert_int_equal(cs_republish_request(NULL, 100, &code, &err), MF_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(answers),
        cmocka_unit_test(bad_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
