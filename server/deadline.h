/* Absolute deadlines for pthread_cond_timedwait(), which takes CLOCK_REALTIME times. */
#ifndef SRV_DEADLINE_H
#define SRV_DEADLINE_H

#include <time.h>

/* *ts = now + ms milliseconds (CLOCK_REALTIME), normalised. */
static inline void srv_deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

#endif
