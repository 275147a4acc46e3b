/* Daemon options: one table of settings drives defaults, the config file (key = value),
 * the --flags, --help and the documentation; the analysis settings come from the analysis
 * table (core/settings.h) the same ways. Precedence: defaults < file < command line. */
#ifndef SRV_OPTIONS_H
#define SRV_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "core/settings.h"

typedef struct srv_config {
    char *db_path;        /* --db */
    char *listen;         /* --listen ADDR:PORT (port 0 = any free port) */
    char *web_root;       /* --web-root DIR */
    char *data_dir;       /* --data-dir DIR: uploaded reads and results */
    char *reference;      /* --reference FASTA: reference of CRAM uploads ("" = none) */
    char *port_file;      /* --port-file FILE: the bound port is written there (tests) */
    int threads;          /* HTTP thread-pool size */
    int workers;          /* job worker threads */
    int64_t max_body;     /* largest JSON body in bytes (413 beyond) */
    int64_t max_upload;   /* largest upload in bytes */
    int64_t disk_reserve; /* --disk-reserve: health is 503 with less free on the data disk */
    int log_level;        /* 0 debug .. 3 error */
    rw_settings settings; /* the analysis settings (core/settings.h): defaults < file < flags */
} srv_config;

/* Fills defaults, then the file named by --config (if any), then the other flags.
 * Returns 0 to run, 1 when --help/--version was printed (exit 0), -1 on a usage error (printed;
 * exit 2). Free with srv_config_free(). */
int srv_config_load(srv_config *cfg, int argc, char **argv);
void srv_config_free(srv_config *cfg);

/* The analysis settings the daemon runs with: those of the last successful srv_config_load()
 * (made once at start-up, before any thread starts), else the table's defaults. Every job, the
 * monitoring engine and the trend answer read them here, and each stored result records them. */
const rw_settings *srv_settings(void);

#endif
