/* Connection guard: deadlines that libmicrohttpd does not keep. MHD's connection timeout counts
 * idle time only, so a client that trickles one header line every 40 s, or a body at a few bytes
 * a second, would hold its connection (and its slot under the connection caps) for ever. The
 * guard follows every connection from accept to close and cuts (shutdown(2) of its socket, which
 * MHD then sees as a closed peer) one that
 *   - has not sent a complete request head (TLS handshake, request line and headers) within
 *     head_timeout seconds of its accept or of the end of its previous request, or
 *   - sends its body slower on average than min_body_rate bytes/s after a grace of head_timeout
 *     seconds (Apache's mod_reqtimeout rule: the deadline moves by one second per min_body_rate
 *     bytes received).
 * A request being answered is never cut here: its handler's time is ours, not the client's. */
#ifndef SRV_GUARD_H
#define SRV_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

typedef struct srv_guard srv_guard;

/* Starts the sweeper thread (it checks every connection four times a second). min_body_rate 0
 * disables the body floor. Returns NULL when out of memory or the thread cannot start. */
srv_guard *srv_guard_new(int head_timeout, int64_t min_body_rate);
/* Stops the sweeper and frees. Call after MHD_stop_daemon() (which reports every close). */
void srv_guard_free(srv_guard *g);

/* The MHD_OPTION_NOTIFY_CONNECTION callback (cls = the guard): registers a connection at its
 * start and forgets it at its close (MHD calls this before it closes the socket). */
void srv_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);

/* Phase changes, from the access handler and the completion callback (the connection's own
 * thread). Each is a no-op when g is NULL or the guard does not know the connection. */
void srv_guard_head_received(srv_guard *g, struct MHD_Connection *conn); /* first call */
void srv_guard_body_bytes(srv_guard *g, struct MHD_Connection *conn, size_t n);
/* The whole request is in (or an early answer is queued): the handler's time is not limited. */
void srv_guard_answering(srv_guard *g, struct MHD_Connection *conn);
/* The request is complete: the deadline of the next head on this connection starts. */
void srv_guard_request_done(srv_guard *g, struct MHD_Connection *conn);

/* Connections cut so far (for tests and metrics). */
uint64_t srv_guard_cuts(const srv_guard *g);

#endif
