/* Logging to stderr: one line per call, written whole so lines of concurrent threads never mix. */
#include "server/log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <htslib/hts_log.h>

srv_log_level srv_log_threshold = SRV_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static const char *level_name(srv_log_level level)
{
    if ((int)level < 0 || level > SRV_LOG_ERROR)
        return "?";
    return level_names[level];
}

int srv_log_level_parse(const char *name)
{
    for (int i = 0; i <= SRV_LOG_ERROR; i++)
        if (name && strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void srv_log_vwrite(srv_log_level level, const char *func, const char *fmt, va_list ap)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03dZ %-5s %s: ", (int)(tv.tv_usec / 1000),
                  level_name(level), func ? func : "-");
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2; /* truncated: keep one line */
    /* MHD's messages end with a newline of their own. */
    while (len > 0 && line[len - 1] == '\n')
        len--;
    line[len++] = '\n';
    /* One write(2) per line: atomic with respect to other threads' lines. */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void srv_log_write(srv_log_level level, const char *func, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    srv_log_vwrite(level, func, fmt, ap);
    va_end(ap);
}

void srv_log_route_htslib(void)
{
    static const enum htsLogLevel map[] = {HTS_LOG_DEBUG, HTS_LOG_INFO, HTS_LOG_WARNING,
                                           HTS_LOG_ERROR};
    hts_set_log_level(map[srv_log_threshold]);
}
