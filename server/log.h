/* Logging to stderr or a file: time, level, function, message. Cheap when the level is off. Never
 * log a patient identifier, accession or token: log database ids and route templates instead. */
#ifndef SRV_LOG_H
#define SRV_LOG_H

#include <stdarg.h>
#include <stddef.h>

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
/* Copies a client-supplied word (method, header value) into out (size outlen, always
 * terminated) for a log line: CR, LF and tab as \r \n \t, other control bytes, non-ASCII and the
 * backslash as \xNN; cut at a whole escape when out is full. Returns the length written. Every
 * message is also defanged as a whole (control bytes as \xNN), so a line is always one line. */
size_t srv_log_escape(const char *in, char *out, size_t outlen);
/* Standard error as the log: journald's "<N>" priority prefixes and no timestamps when stderr is
 * the journal (JOURNAL_STREAM names it), else "time level function: message". Call at start. */
void srv_log_setup_stderr(void);
/* Appends to path (created 0600) instead of the terminal or journal: the file replaces standard
 * error (dup2), so htslib's own messages go there too. 0, or -1 with a message in err. */
int srv_log_open(const char *path, char *err, size_t errlen);
/* Reopens the --log-file (after logrotate moved it; main calls it on SIGHUP). 0 when there is
 * none; -1 (logged) when it cannot, and the old file stays in use. */
int srv_log_reopen(void);
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
