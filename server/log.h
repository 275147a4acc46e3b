/* Logging to stderr: time, level, function, message. Cheap when the level is off. Never log a
 * patient identifier, accession or token: log database ids and route templates instead. */
#ifndef SRV_LOG_H
#define SRV_LOG_H

#include <stdarg.h>

typedef enum srv_log_level {
    SRV_LOG_DEBUG,
    SRV_LOG_INFO,
    SRV_LOG_WARN,
    SRV_LOG_ERROR
} srv_log_level;

extern srv_log_level srv_log_threshold;

void srv_log_write(srv_log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with a va_list (MHD's logger hands one over). */
void srv_log_vwrite(srv_log_level level, const char *func, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* "debug", "info", "warn", "error" -> level; -1 for anything else. */
int srv_log_level_parse(const char *name);
/* Routes htslib's messages into srv_log at the matching levels. htslib 1.16 has no log hook, so
 * this sets htslib's own threshold to ours: its lines ("[E::func] ...") appear exactly when a
 * srv_log line of that level would. Call again after changing srv_log_threshold. */
void srv_log_route_htslib(void);

#define srv_log(level, ...)                                                                        \
    do {                                                                                           \
        if ((level) >= srv_log_threshold)                                                          \
            srv_log_write((level), __func__, __VA_ARGS__);                                         \
    } while (0)

#endif
