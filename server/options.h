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
    int64_t quota_sample; /* --quota-sample: largest input of one sample (413), 0 = none */
    int64_t quota_total;  /* --quota-total: all stored inputs together (507), 0 = none */
    int job_max_attempts; /* --job-max-attempts: runs a job may start, crashes included */
    char *backup_dir;     /* --backup-dir: backups (admin endpoint, before a migration) */
    int log_level;        /* 0 debug .. 3 error */

    int session_idle;        /* --session-idle: seconds a session lives without a request */
    int session_max;         /* --session-max: seconds a session lives at most */
    int signin_max_failures; /* --signin-max-failures: failed sign-ins that lock a user name */

    int tls_enabled; /* set when the daemon serves HTTPS: session cookies get `Secure` */

    char *tls_cert;             /* --tls-cert FILE: PEM certificate chain ("" = clear HTTP) */
    char *tls_key;              /* --tls-key FILE: PEM private key of tls_cert */
    int insecure_http;          /* --insecure-http: allow clear HTTP on a non-loopback address */
    int max_connections;        /* --max-connections: open connections in all */
    int max_connections_per_ip; /* --max-connections-per-ip: per client address (0 = no cap) */
    int head_timeout;           /* --head-timeout: seconds to receive a request's head */
    int64_t min_body_rate;      /* --min-body-rate: bytes/s a body must average after a grace */
    int64_t max_url;            /* --max-url: longest path + query (414 beyond) */
    int64_t max_head;           /* --max-head: largest request head (431 beyond) */
    char *log_file;             /* --log-file PATH ("" = stderr); reopened on SIGHUP */
    char *hl7_mllp;             /* --hl7-mllp HOST:PORT: HL7 v2 receiver ("" = none) */
    char *fhir_identifier_base; /* --fhir-identifier-base URI of Patient/accession ids */
    char *webhook_key_file;     /* --webhook-key-file ("" = <data-dir>/webhook.key) */
    char *time_zone;            /* --time-zone: IANA zone of the site (dates, draw times) */
    int outbox_retry_base;      /* seconds before the first retry of a delivery */
    int outbox_max_attempts;    /* attempts of a delivery before it fails */
    int delivery_timeout;       /* seconds per delivery attempt */
    int outbox_keep_days;       /* days a settled delivery keeps its body (0 = for ever) */
    char *webhook_ca_file;      /* --webhook-ca-file PEM ("" = the system's trust store) */

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
