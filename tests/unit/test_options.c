/* Unit tests of server/options: defaults, file over defaults, flags over file, size suffixes,
 * quoting, and refusals (below a minimum, unknown flag or key, bad size). */
#include "server/log.h"
#include "server/options.h"
#include "tests/unit/harness.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void test_config(const char *file)
{
    char path[4096]; /* argv strings are not const */
    snprintf(path, sizeof path, "%s", file);
    srv_config cfg;
    FILE *f = fopen(path, "w");
    fprintf(f, "# a comment\n\nthreads = 3\nlisten = 10.0.0.1:9000\nmax-body = 2M\n"
               "log-level = debug\ndb = \"/tmp/quoted path.db\"\n");
    fclose(f);

    char *a0[] = {"relapsewatchd", NULL};
    CHECK(srv_config_load(&cfg, 1, a0) == 0);
    CHECK(cfg.threads == 4 && cfg.workers == 2 && !strcmp(cfg.listen, "127.0.0.1:8080"));
    CHECK(cfg.max_body == 1048576 && cfg.max_upload == (int64_t)4 << 30 && cfg.log_level == 1);
    srv_config_free(&cfg);

    /* File over defaults, flags over file, in either order of --config among the flags. */
    char *a1[] = {"relapsewatchd", "--threads", "5", "--config", path, "--workers=7", NULL};
    CHECK(srv_config_load(&cfg, 6, a1) == 0);
    CHECK(cfg.threads == 5);                            /* flag beats file */
    CHECK(!strcmp(cfg.listen, "10.0.0.1:9000"));        /* file beats default */
    CHECK(cfg.workers == 7);                            /* flag beats default */
    CHECK(cfg.max_body == 2 * 1048576);                 /* size suffix */
    CHECK(cfg.log_level == 0);                          /* from the file */
    CHECK(!strcmp(cfg.db_path, "/tmp/quoted path.db")); /* quotes stripped */
    srv_config_free(&cfg);

    char *a2[] = {"relapsewatchd", "--threads", "0", NULL}; /* below the minimum */
    CHECK(srv_config_load(&cfg, 3, a2) == -1);
    char *a3[] = {"relapsewatchd", "--no-such-flag", NULL};
    CHECK(srv_config_load(&cfg, 2, a3) == -1);
    char *a4[] = {"relapsewatchd", "--max-body", "12Q", NULL};
    CHECK(srv_config_load(&cfg, 3, a4) == -1);
    f = fopen(path, "w");
    fprintf(f, "thread = 3\n"); /* misspelt key: refused, not ignored */
    fclose(f);
    char *a5[] = {"relapsewatchd", "--config", path, NULL};
    CHECK(srv_config_load(&cfg, 3, a5) == -1);
    char *a6[] = {"relapsewatchd", "--log-level", "warn", NULL};
    CHECK(srv_config_load(&cfg, 3, a6) == 0 && cfg.log_level == 2);
    srv_config_free(&cfg);
    unlink(path);
}

int main(void)
{
    srv_log_threshold = SRV_LOG_ERROR;
    test_config(rw_test_path(RW_BUILD_DIR, "test_options.conf"));
    DONE();
}
