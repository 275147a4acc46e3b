/* Connection guard (see guard.h): a registry of open connections and a sweeper thread.
 *
 * DESIGN. Every connection gets a small record at MHD's "started" notice, stored as MHD's socket
 * context; the access handler moves it through its phases (head, body, answering) and the
 * completion callback back to "head" for the next request on a kept-alive connection. One mutex
 * guards the list and the records: the sweeper holds it while it calls shutdown(2), and MHD's
 * "closed" notice (sent before MHD closes the socket) takes it to unlink the record, so the
 * sweeper never touches a descriptor that was closed and reused. shutdown(2), not close(2): the
 * descriptor stays MHD's, which sees end-of-file and closes the connection itself. */
#include "server/guard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/deadline.h"
#include "server/http.h"
#include "server/log.h"

enum guard_phase { PHASE_HEAD, PHASE_BODY, PHASE_ANSWERING };

typedef struct guard_conn {
    struct guard_conn *prev, *next;
    MHD_socket fd;
    enum guard_phase phase;
    double since;       /* monotonic seconds when the phase began */
    int64_t body_bytes; /* received in PHASE_BODY */
    int cut;            /* shut down already */
    char addr[48];      /* client address, for the log line of a cut */
} guard_conn;

struct srv_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t sweeper;
    int stopping;
    guard_conn *head;
    int head_timeout;
    int64_t min_body_rate;
    atomic_ullong cuts;
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- the sweeper */

/* Why c must be cut now, or NULL. Called under the lock. */
static const char *overdue(const srv_guard *g, const guard_conn *c, double now)
{
    if (c->cut)
        return NULL;
    if (c->phase == PHASE_HEAD && now - c->since > g->head_timeout)
        return "no complete request head";
    if (c->phase == PHASE_BODY && g->min_body_rate > 0 &&
        now - c->since > g->head_timeout + (double)c->body_bytes / (double)g->min_body_rate)
        return "request body below the minimum rate";
    return NULL;
}

static void *sweep(void *arg)
{
    srv_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec until;
        srv_deadline_in(&until, 250);
        pthread_cond_timedwait(&g->wake, &g->lock, &until);
        int ncut = 0;
        const char *why = NULL;
        char addr[48] = "";
        double now = now_mono();
        for (guard_conn *c = g->head; c && !g->stopping; c = c->next) {
            const char *w = overdue(g, c, now);
            if (!w)
                continue;
            shutdown(c->fd, SHUT_RDWR);
            c->cut = 1;
            ncut++;
            why = w;
            memcpy(addr, c->addr, sizeof addr);
        }
        if (!ncut)
            continue;
        atomic_fetch_add(&g->cuts, (unsigned long long)ncut);
        /* One line a sweep, however many connections a flood makes us cut. */
        pthread_mutex_unlock(&g->lock);
        srv_log(SRV_LOG_WARN, "cut %d connection%s (%s in time; last from %s)", ncut,
                ncut == 1 ? "" : "s", why, addr);
        pthread_mutex_lock(&g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

srv_guard *srv_guard_new(int head_timeout, int64_t min_body_rate)
{
    srv_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->head_timeout = head_timeout;
    g->min_body_rate = min_body_rate;
    atomic_init(&g->cuts, 0);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    if (pthread_create(&g->sweeper, NULL, sweep, g)) {
        pthread_mutex_destroy(&g->lock);
        pthread_cond_destroy(&g->wake);
        free(g);
        return NULL;
    }
    return g;
}

void srv_guard_free(srv_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = 1;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->sweeper, NULL);
    while (g->head) { /* none after MHD_stop_daemon; a leftover is freed all the same */
        guard_conn *next = g->head->next;
        free(g->head);
        g->head = next;
    }
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->wake);
    free(g);
}

uint64_t srv_guard_cuts(const srv_guard *g)
{
    return g ? atomic_load(&((srv_guard *)g)->cuts) : 0;
}

/* ---------------------------------------------------------------- MHD's notices */

void srv_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code)
{
    srv_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        guard_conn *c = calloc(1, sizeof *c);
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!c || !fd) { /* unguarded: MHD's idle timeout still applies */
            free(c);
            return;
        }
        c->fd = fd->connect_fd;
        c->phase = PHASE_HEAD;
        c->since = now_mono();
        srv_connection_address(conn, c->addr, sizeof c->addr);
        pthread_mutex_lock(&g->lock);
        c->next = g->head;
        if (g->head)
            g->head->prev = c;
        g->head = c;
        pthread_mutex_unlock(&g->lock);
        *socket_context = c;
        return;
    }
    guard_conn *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    *socket_context = NULL;
    free(c);
}

/* The record of conn, or NULL. Only its own thread calls this, so the record cannot be freed
 * meanwhile (that happens at the close notice, in the same thread). */
static guard_conn *record_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    return info ? info->socket_context : NULL;
}

static void set_phase(srv_guard *g, struct MHD_Connection *conn, enum guard_phase phase, size_t add)
{
    guard_conn *c = g ? record_of(conn) : NULL;
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (add)
        c->body_bytes += (int64_t)add;
    else {
        c->phase = phase;
        c->since = now_mono();
        c->body_bytes = 0;
    }
    pthread_mutex_unlock(&g->lock);
}

void srv_guard_head_received(srv_guard *g, struct MHD_Connection *conn)
{
    set_phase(g, conn, PHASE_BODY, 0);
}

void srv_guard_body_bytes(srv_guard *g, struct MHD_Connection *conn, size_t n)
{
    if (n)
        set_phase(g, conn, PHASE_BODY, n);
}

void srv_guard_answering(srv_guard *g, struct MHD_Connection *conn)
{
    set_phase(g, conn, PHASE_ANSWERING, 0);
}

void srv_guard_request_done(srv_guard *g, struct MHD_Connection *conn)
{
    set_phase(g, conn, PHASE_HEAD, 0);
}
