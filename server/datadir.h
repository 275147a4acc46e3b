/* The data folder (--data): <data>/tmp for uploads in progress, <data>/samples/<id>/ for a
 * sample's input and cached counts, <data>/pons/ for panels of normals. The database stores
 * paths relative to it, so the folder can move. */
#ifndef SRV_DATADIR_H
#define SRV_DATADIR_H

#include <stddef.h>
#include <stdint.h>

/* data_dir + "/" + rel into out (size n); -1 when it does not fit. */
int srv_datadir_path(const char *data_dir, const char *rel, char *out, size_t n);
/* Creates data_dir and its sub-folders (tmp, samples, pons); removes leftover temporary files of
 * uploads cut by a crash. 0 on success, -1 with a message in err. */
int srv_datadir_prepare(const char *data_dir, char *err, size_t errlen);
/* Creates data_dir/samples/<sample_id> (if missing) and writes its relative path into rel. */
int srv_datadir_sample(const char *data_dir, int64_t sample_id, char *rel, size_t n);

#endif
