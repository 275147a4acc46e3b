/* The data folder (--data): <data>/tmp for uploads in progress, <data>/samples/<id>/ for a
 * sample's input and cached counts, <data>/pons/ for panels of normals. The database stores
 * paths relative to it, so the folder can move. */
#ifndef SRV_DATADIR_H
#define SRV_DATADIR_H

#include <stddef.h>
#include <stdint.h>

/* Renames from to to, then fsyncs the folder of to (and of from, when another), so the new name
 * survives a power cut once this returns: every rename that publishes data goes through here.
 * The file's own contents must have been fsynced before. 0, or -1 with errno. */
int srv_publish_file(const char *from, const char *to);
/* fsync(2) of a folder (its entries: names created, renamed or removed). 0, or -1 with errno. */
int srv_fsync_dir(const char *dir);
/* data_dir + "/" + rel into out (size n); -1 when it does not fit. */
int srv_datadir_path(const char *data_dir, const char *rel, char *out, size_t n);
/* Creates data_dir and its sub-folders (tmp, samples, pons), all mode 0700 (data_dir itself is
 * chmod'ed to 0700 when it exists); removes leftover temporary files of uploads cut by a crash.
 * 0 on success, -1 with a message in err. */
int srv_datadir_prepare(const char *data_dir, char *err, size_t errlen);
/* Creates data_dir/samples/<sample_id> (if missing) and writes its relative path into rel. */
int srv_datadir_sample(const char *data_dir, int64_t sample_id, char *rel, size_t n);

#endif
