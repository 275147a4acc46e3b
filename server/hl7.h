/* HL7 v2.5.1 ORU^R01 messages (ER7 text, segments separated by CR) for a sample's result and for
 * an alert, with the codes of server/export.h (LOINC "LN", local "99RLW"): what --hl7-mllp sends
 * (server/outbox.c) and GET /api/v1/samples/{accession}/hl7 shows. Every value passes through
 * srv_hl7_escape(), so a | ^ ~ \ & or line break inside a value cannot split a field.
 * Ownership: *out is a new string (free()), set only with SRV_OK. */
#ifndef SRV_HL7_H
#define SRV_HL7_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include <htslib/kstring.h>

#include "server/status.h"

/* What a message tells of the result it carries (OBR-25 and OBX-11, tables 0123 and 0085). */
typedef enum srv_hl7_status {
    SRV_HL7_FINAL,     /* the first message of it: F, F */
    SRV_HL7_CORRECTED, /* replaces one sent before (a re-run, a fixed date, reinstated): C, C */
    SRV_HL7_WRONG,     /* posts the one sent before as wrong (retracted, wrong patient): C, W */
} srv_hl7_status;

/* What the header and PID carry, and the message's status. */
typedef struct srv_hl7_ctx {
    const char *control_id;      /* MSH-10, unique per message (at most 20 characters) */
    const char *identifier_base; /* PID-3 assigning authority: "<base>/patient" (a URI) */
    srv_hl7_status status;       /* asked for; set to the status rendered (a retracted result or
                                    alert is always SRV_HL7_WRONG) */
    const char *external_id;     /* PID-3 instead of the record's patient (a moved draw's
                                    former one, with SRV_HL7_WRONG), or NULL */
} srv_hl7_ctx;

/* The ORU^R01 of sample_id's stored result: OBR for the report (LOINC 51969-4) and an OBX per
 * finding (variant present/absent, copy ratio and its interval, z, call, tumour fraction as SN
 * with "<" when below detection, quality); a wrong one has an NTE saying why (the retraction's
 * reason, or another patient's draw). SRV_OK, SRV_NOT_FOUND (no result), SRV_INTERNAL. */
srv_status srv_hl7_result(sqlite3 *db, srv_hl7_ctx *ctx, int64_t sample_id, char **out);
/* The ORU^R01 of alert alert_id: OBR for the alert, OBX for its kind, first rule and each rule
 * met with its draws (posted as wrong once a recompute retracted it). SRV_OK, SRV_NOT_FOUND,
 * SRV_INTERNAL. */
srv_status srv_hl7_alert(sqlite3 *db, srv_hl7_ctx *ctx, int64_t alert_id, char **out);

/* Appends value to s with the encoding characters escaped (\F\ \S\ \R\ \E\ \T\, CR and LF as
 * \X0D\ \X0A\). 0, or -1 when out of memory. */
int srv_hl7_escape(kstring_t *s, const char *value);

#endif
