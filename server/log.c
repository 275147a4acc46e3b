/* Logging: one line per call, written whole with one write(2) so lines of concurrent threads never
 * mix; to standard error (journald-aware) or to --log-file, reopened on SIGHUP. */
#include "server/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <htslib/hts_log.h>

srv_log_level srv_log_threshold = SRV_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
/* syslog priorities of the levels, for journald's "<N>" prefix */
static const int level_priority[] = {7, 6, 4, 3};

/* Lines go to standard error, which --log-file replaces (dup2). */
static char *log_path;
static int journal; /* stderr is the journal: "<N>" prefixes, no timestamps (journald adds them) */

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

size_t srv_log_escape(const char *in, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!outlen)
        return 0;
    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p; p++) {
        char buf[4];
        size_t n = 0;
        if (*p == '\r' || *p == '\n' || *p == '\t') {
            buf[n++] = '\\';
            buf[n++] = *p == '\r' ? 'r' : *p == '\n' ? 'n' : 't';
        } else if (*p < 0x20 || *p >= 0x7f || *p == '\\') {
            buf[n++] = '\\';
            buf[n++] = 'x';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        } else {
            buf[n++] = (char)*p;
        }
        if (o + n >= outlen)
            break; /* cut whole: never half an escape */
        memcpy(out + o, buf, n);
        o += n;
    }
    out[o] = '\0';
    return o;
}

/* Control characters inside a formatted message (a client's word that reached it unescaped, or
 * a library's text) become \xNN, so one call is always one line. In place into out. */
static size_t defang(const char *msg, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < outlen; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c >= 0x20 && c != 0x7f) {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        }
    }
    return o;
}

void srv_log_vwrite(srv_log_level level, const char *func, const char *fmt, va_list ap)
{
    char msg[2048], line[2048 + 128];
    int n = 0;
    if (journal) {
        int pri = (int)level >= 0 && level <= SRV_LOG_ERROR ? level_priority[level] : 3;
        n = snprintf(line, sizeof line, "<%d>%s: ", pri, func ? func : "-");
    } else {
        struct timeval tv;
        struct tm tm;
        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
        n += snprintf(line + n, sizeof line - (size_t)n,
                      ".%03dZ %-5s %s: ", (int)(tv.tv_usec / 1000), level_name(level),
                      func ? func : "-");
    }
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    size_t mlen = m < 0 ? 0 : (size_t)m >= sizeof msg ? sizeof msg - 1 : (size_t)m;
    /* MHD's messages end with a newline of their own. */
    while (mlen > 0 && msg[mlen - 1] == '\n')
        mlen--;
    size_t len = (size_t)n + defang(msg, mlen, line + n, sizeof line - (size_t)n - 1);
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

void srv_log_setup_stderr(void)
{
    /* systemd sets JOURNAL_STREAM to "<dev>:<inode>" of the stream it connected; it is the
     * journal only when stderr is still that stream (not redirected since). */
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
              (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int srv_log_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the log file %s: %s", path, strerror(errno));
        return -1;
    }
    /* Onto standard error itself, so htslib's and libraries' own messages land there too; dup2
     * swaps the file under the same number atomically, so a writer never sees a closed one. */
    int bad = dup2(fd, STDERR_FILENO) < 0;
    int e = errno;
    close(fd);
    if (bad) {
        snprintf(err, errlen, "cannot log to %s: %s", path, strerror(e));
        return -1;
    }
    journal = 0;
    if (path != log_path) {
        free(log_path);
        log_path = strdup(path);
    }
    return 0;
}

int srv_log_reopen(void)
{
    char err[512];
    if (!log_path)
        return 0;
    if (srv_log_open(log_path, err, sizeof err)) {
        srv_log(SRV_LOG_ERROR, "%s; logging on to the old file", err);
        return -1;
    }
    srv_log(SRV_LOG_INFO, "log file reopened");
    return 0;
}
