/* Unit tests of server/blob (the float32 BLOBs of results: round trip, NaN, byte order, layout
 * from a BLOB's length) and server/datadir (the data folder: paths that do not fit, the
 * sub-folders, leftover uploads removed). */
#include "server/blob.h"
#include "server/datadir.h"
#include "server/log.h"
#include "tests/unit/harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_f32(void)
{
    const double v[] = {1.0, -2.5, 0.0, NAN, 1e-3, 3.4e38};
    size_t n = sizeof v / sizeof *v;
    double back[sizeof v / sizeof *v];
    unsigned char *b = srv_blob_f32_encode(v, n);
    CHECK(b != NULL);
    if (!b)
        return;
    /* little-endian IEEE float: 1.0f is 00 00 80 3f */
    CHECK(b[0] == 0x00 && b[1] == 0x00 && b[2] == 0x80 && b[3] == 0x3f);
    srv_blob_f32_decode(b, n, back);
    CHECK(back[0] == 1.0 && back[1] == -2.5 && back[2] == 0.0 && isnan(back[3]));
    CHECK_NEAR(back[4], 1e-3, 1e-10);
    CHECK_NEAR(back[5], 3.4e38, 1e31);
    free(b);
    b = srv_blob_f32_encode(v, 0);
    CHECK(b != NULL);
    free(b);
}

static void test_layout(void)
{
    rw_bins *no_y = rw_bins_new(RW_BUILD_HG38, 1000000, 0, NULL);
    rw_bins *with_y = rw_bins_new(RW_BUILD_HG38, 1000000, 1, NULL);
    CHECK(no_y && with_y && no_y->n != with_y->n);
    if (!no_y || !with_y)
        goto out;
    rw_bins *b = srv_blob_layout_new("hg38", 1000000, no_y->n * 4);
    CHECK(b && b->n == no_y->n && b->nchrom != with_y->nchrom);
    rw_bins_free(b);
    b = srv_blob_layout_new("hg38", 1000000, with_y->n * 4);
    CHECK(b && b->n == with_y->n);
    rw_bins_free(b);
    CHECK(srv_blob_layout_new("hg38", 1000000, no_y->n * 4 + 4) == NULL);
    CHECK(srv_blob_layout_new("hg38", 500000, no_y->n * 4) == NULL);
out:
    rw_bins_free(no_y);
    rw_bins_free(with_y);
}

static void test_datadir(void)
{
    char tmp[256], root[300], p[4096], rel[64], err[512] = "";
    struct stat sb;
    snprintf(tmp, sizeof tmp, "%s/rwdata.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp))
        return;
    snprintf(root, sizeof root, "%s/a/b", tmp); /* parents made one level at a time */
    CHECK(srv_datadir_prepare(root, err, sizeof err) == 0);
    snprintf(p, sizeof p, "%s/tmp/upload-1-abc", root);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK(srv_datadir_prepare(root, err, sizeof err) == 0);
    CHECK(stat(p, &sb) != 0); /* the leftover upload is gone */
    snprintf(p, sizeof p, "%s/pons", root);
    CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode));
    CHECK(srv_datadir_sample(root, 42, rel, sizeof rel) == 0 && !strcmp(rel, "samples/42"));
    snprintf(p, sizeof p, "%s/samples/42", root);
    CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode));
    CHECK(srv_datadir_path(root, "samples/42", p, 10) == -1); /* does not fit */
    CHECK(srv_datadir_path("/d", "x", p, 5) == 0 && !strcmp(p, "/d/x"));
    snprintf(p, sizeof p, "%s/file", tmp);
    f = fopen(p, "w");
    if (f)
        fclose(f);
    CHECK(srv_datadir_prepare(p, err, sizeof err) == -1 && strstr(err, "cannot create"));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd))
        fprintf(stderr, "could not remove %s\n", tmp);
}

int main(void)
{
    srv_log_threshold = SRV_LOG_ERROR;
    test_f32();
    test_layout();
    test_datadir();
    DONE();
}
