/* The one-shot actions of relapsewatchd, run instead of serving: --backup DIR, --restore DIR
 * [--force], --verify-audit. They use the same --db, --data-dir and --config as the daemon. */
#ifndef SRV_ACTIONS_H
#define SRV_ACTIONS_H

#include <stddef.h>

struct srv_config;

typedef struct srv_action {
    enum { SRV_ACTION_NONE, SRV_ACTION_BACKUP, SRV_ACTION_RESTORE, SRV_ACTION_VERIFY_AUDIT } kind;
    const char *dir; /* --backup / --restore folder (borrowed from argv) */
    int force;       /* --force: a restore may move a non-empty store aside */
} srv_action;

/* Takes the action flags out of argv (shifting the rest down and lowering *argc), so the
 * option table reads what is left. 0, or -1 with a message in err (two actions, a missing
 * folder, --force without --restore). */
int srv_action_extract(int *argc, char **argv, srv_action *a, char *err, size_t errlen);
/* Runs the action: prints what it did on stdout, errors on stderr. The exit status: 0 done
 * (the audit chain holds), 1 failed (the chain is broken: the first broken row is printed). */
int srv_action_run(const srv_action *a, const struct srv_config *cfg);

#endif
