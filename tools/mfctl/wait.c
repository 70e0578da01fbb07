/*
 * wait.c - the main thread waits for one end: a client callback (on the
 * service thread) or a signal posts it through a pipe, the main thread poll()s
 * the pipe with the command's deadline. Posting is async-signal-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mfctl.h"

static int fds[2] = {-1, -1};
static atomic_int posted = -1; /* the first code posted, -1 = none */

static void on_signal(int sig)
{
    (void)sig;
    mfctl_wait_post(MFCTL_INTERRUPTED);
}

int mfctl_wait_init(void)
{
    if (pipe(fds)) {
        fprintf(stderr, "mfctl: cannot create a pipe: %s\n", strerror(errno));
        return MFCTL_FAIL;
    }
    for (int i = 0; i < 2; i++)
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return MFCTL_OK;
}

void mfctl_wait_post(int code)
{
    int none = -1;
    if (atomic_compare_exchange_strong(&posted, &none, code) && fds[1] >= 0) {
        int saved = errno;
        ssize_t w = write(fds[1], "x", 1);
        (void)w;
        errno = saved;
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool mfctl_wait(int timeout_ms, int *code)
{
    int64_t end = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;
    for (;;) {
        int left = timeout_ms < 0 ? -1 : (int)(end - now_ms());
        if (timeout_ms >= 0 && left < 0)
            left = 0;
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, left);
        if (r > 0 || atomic_load(&posted) >= 0) {
            *code = atomic_load(&posted);
            if (*code >= 0)
                return true;
        }
        if (r == 0 && left == 0)
            return false;
        if (r < 0 && errno != EINTR)
            return false;
    }
}
