/* The Idempotency-Key header of every POST: a client that did not see the answer (timeout, cut
 * connection) sends the same request again with the same key and gets the first answer back,
 * replayed, instead of a second write. Keys are scoped to the caller and kept 24 hours
 * (schema/008 idempotency_keys). The same key with another request (method, path or body) is
 * refused with 422 idempotency_key_reused; while the first request runs, 409
 * idempotency_in_progress. Answers of 500 are not kept (the next resend runs again). Public
 * routes and the POSTs whose answer shows a secret once (tokens, users' passwords, webhooks,
 * sessions) ignore the header: such an answer is never stored. */
#ifndef SRV_IDEMPOTENCY_H
#define SRV_IDEMPOTENCY_H

#include <stddef.h>

#include "server/router.h"

/* Runs handler for req (its connection borrowed), honouring the Idempotency-Key header of a
 * POST; any other request goes straight to handler. The one call site is http.c's dispatch. */
enum MHD_Result srv_idempotency_call(srv_request *req, srv_handler handler);

/* Keeps a copy of the JSON answer (status, body[0..len)) of a request that carries a key, for
 * srv_idempotency_call() to store; a no-op for the others. Called by srv_reply_json(). */
void srv_idempotency_capture(srv_request *req, unsigned status, const char *body, size_t len);

#endif
