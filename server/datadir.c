/* The data folder's layout (see datadir.h). */
#include "server/datadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* Folders of patient data: the daemon's user only. */
static int mkdir_one(const char *path)
{
    return mkdir(path, 0700) && errno != EEXIST ? -1 : 0;
}

int srv_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* The folder part of path into dir ("." for a bare name). */
static void dir_of(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, n, ".");
    else if (slash == path)
        snprintf(dir, n, "/");
    else
        snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

int srv_publish_file(const char *from, const char *to)
{
    char to_dir[4096], from_dir[4096];
    if (rename(from, to))
        return -1;
    dir_of(to, to_dir, sizeof to_dir);
    dir_of(from, from_dir, sizeof from_dir);
    if (srv_fsync_dir(to_dir))
        return -1;
    return strcmp(to_dir, from_dir) == 0 ? 0 : srv_fsync_dir(from_dir);
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
    /* chmod too: a folder made by an older version (0750) or by hand becomes private. */
    if (mkdir_one(p) || chmod(p, 0700)) {
        snprintf(err, errlen, "cannot create the data folder %s (mode 0700): %s", data_dir,
                 strerror(errno));
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
    if (mkdir(full, 0700) == 0) { /* a new folder: its name must survive a power cut too */
        char parent[4096];
        return srv_datadir_path(data_dir, "samples", parent, sizeof parent) ? -1
                                                                            : srv_fsync_dir(parent);
    }
    return errno == EEXIST ? 0 : -1;
}
