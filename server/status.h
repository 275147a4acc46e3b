/* One status for the server's functions that can fail in more than one way. What went wrong
 * decides what happens next (the HTTP answer, whether a job runs again), so callers branch on
 * this instead of on -1/1/NULL-with-a-flag conventions. Core statuses (core/status.h) map onto it
 * here, and onto HTTP answers in one place: srv_reply_core_error() (server/reply.h). */
#ifndef SRV_STATUS_H
#define SRV_STATUS_H

#include "core/status.h"

typedef enum srv_status {
    SRV_OK = 0,
    SRV_NOT_FOUND, /* what was asked for does not exist (404; a job whose sample is gone) */
    SRV_CLIENT,    /* the request's or the sample's data is wrong: asking again cannot help
                    * (4xx; a job fails for good) */
    SRV_RETRY,     /* transient: the database stayed busy, a file or the monitoring recompute
                    * failed; the same work may succeed later (a job runs again) */
    SRV_INTERNAL,  /* the server failed (database error, memory, a bug): 500 */
} srv_status;

/* A core failure the data explains (usage, input, build, mismatch) is SRV_CLIENT; I/O, memory
 * and internal errors are SRV_INTERNAL. RW_OK is SRV_OK. */
srv_status srv_status_of_core(rw_status st);

#endif
