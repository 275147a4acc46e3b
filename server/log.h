/* Logging to stderr: time, level, function, message. Cheap when the level is off. Never log a
 * patient identifier, accession or token: log database ids and route templates instead. */
#ifndef SRV_LOG_H
#define SRV_LOG_H

typedef enum srv_log_level { SRV_LOG_DEBUG, SRV_LOG_INFO, SRV_LOG_WARN, SRV_LOG_ERROR } srv_log_level;

extern srv_log_level srv_log_threshold;

void srv_log_write(srv_log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Routes htslib's messages into srv_log at the matching levels. */
void srv_log_route_htslib(void);

#define srv_log(level, ...)                                                                        \
    do {                                                                                           \
        if ((level) >= srv_log_threshold)                                                          \
            srv_log_write((level), __func__, __VA_ARGS__);                                         \
    } while (0)

#endif
