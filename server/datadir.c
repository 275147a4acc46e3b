/* The data folder's layout (see datadir.h). */
#include "server/datadir.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/log.h"

int srv_datadir_path(const char *data_dir, const char *rel, char *out, size_t n)
{
    int w = snprintf(out, n, "%s/%s", data_dir, rel);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int mkdir_one(const char *path)
{
    return mkdir(path, 0750) && errno != EEXIST ? -1 : 0;
}

/* An upload cut by a crash leaves its temporary file in tmp: nothing refers to it. */
static void remove_leftovers(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    int removed = 0;
    while (d && (e = readdir(d))) {
        char f[4096 + 300];
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        snprintf(f, sizeof f, "%s/%s", tmp, e->d_name);
        removed += unlink(f) == 0;
    }
    if (d)
        closedir(d);
    if (removed)
        srv_log(SRV_LOG_INFO, "removed %d temporary upload files left by a previous run", removed);
}

int srv_datadir_prepare(const char *data_dir, char *err, size_t errlen)
{
    static const char *const subs[] = {"tmp", "samples", "pons"};
    char p[4096];
    /* Parents one level at a time, so "var/data" works on a fresh checkout. */
    snprintf(p, sizeof p, "%s", data_dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        mkdir_one(p);
        *s = '/';
    }
    if (mkdir_one(p)) {
        snprintf(err, errlen, "cannot create the data folder %s: %s", data_dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (srv_datadir_path(data_dir, subs[i], p, sizeof p) || mkdir_one(p)) {
            snprintf(err, errlen, "cannot create %s/%s: %s", data_dir, subs[i], strerror(errno));
            return -1;
        }
    }
    srv_datadir_path(data_dir, "tmp", p, sizeof p);
    remove_leftovers(p);
    return 0;
}

int srv_datadir_sample(const char *data_dir, int64_t sample_id, char *rel, size_t n)
{
    char full[4096];
    int w = snprintf(rel, n, "samples/%" PRId64, sample_id);
    if (w < 0 || (size_t)w >= n || srv_datadir_path(data_dir, rel, full, sizeof full))
        return -1;
    return mkdir_one(full);
}
