/* What the standards exports (FHIR R4 in server/fhir.c, HL7 v2 in server/hl7.c) read: one
 * sample's result and one alert, loaded once from the database, and the codes both exports use,
 * so a FHIR Observation and an HL7 OBX of the same finding carry the same code.
 * Code choices (docs/api-interop.md): LOINC where LOINC has the concept (the Genomics Reporting
 * IG's report and variant codes); the relapsewatch code system below for what it has not (the
 * 1q21.3 copy ratio of cfDNA against a panel of normals, the genome-wide tumour fraction, the
 * quality gate, the calls and the alert kinds). HL7 v2 names that local system "99RLW" (table
 * 0396: local systems start with 99). */
#ifndef SRV_EXPORT_H
#define SRV_EXPORT_H

#include <sqlite3.h>
#include <stdint.h>

#include <jansson.h>

#include "server/status.h"

/* Code systems (FHIR URIs). The local one is the software's own, the same for every site; the
 * .example domain (RFC 2606) marks that it resolves nowhere. */
#define SRV_CS_LOCAL  "https://relapsewatch.example/fhir/CodeSystem/relapsewatch"
#define SRV_CS_LOINC  "http://loinc.org"
#define SRV_CS_SO     "http://www.sequenceontology.org"
#define SRV_CS_REFSEQ "http://www.ncbi.nlm.nih.gov/refseq"
#define SRV_CS_UCUM   "http://unitsofmeasure.org"
/* The HL7 v2 name of the local code system. */
#define SRV_V2_LOCAL "99RLW"

/* A code with its display text. */
typedef struct srv_code {
    const char *system; /* SRV_CS_* */
    const char *code;
    const char *display;
} srv_code;

/* The codes (export.c). */
extern const srv_code srv_code_report,             /* LOINC 51969-4 Genetic analysis report */
    srv_code_variant,                              /* LOINC 69548-6 Genetic variant assessment */
    srv_code_present, srv_code_absent,             /* LOINC LA9633-4 / LA9634-2 */
    srv_code_copy_ratio,                           /* local: 1q21.3 copy ratio (cfDNA / panel) */
    srv_code_interval_low, srv_code_interval_high, /* local: a value's 95% interval */
    srv_code_z, srv_code_log2, /* local: z against the panel, log2 of the ratio */
    srv_code_call,             /* local: the call as a code (values: call codes) */
    srv_code_tumour_fraction,  /* local: genome-wide cfDNA tumour fraction */
    srv_code_quality,          /* local: the quality gate's verdict */
    srv_code_alert,            /* local: a monitoring alert (values: alert kinds) */
    srv_code_dna_change_type, srv_code_copy_number_gain, /* LOINC 48019-4, SO:0001742 */
    srv_code_source_class, srv_code_somatic,             /* LOINC 48002-0, LA6684-0 */
    srv_code_cytogenetic, srv_code_ref_seq,              /* LOINC 48001-2, 48013-7 */
    srv_code_sequencing;                                 /* LOINC LA26398-0 (method) */

/* Display of a local value code ("amplified", "early_relapse", "low_depth", ...): a sentence
 * for people; the code itself when unknown. Static. */
const char *srv_export_value_display(const char *code);

/* One sample and its result, as the exports read them (strings are copies; numbers are NAN when
 * the column is NULL). */
typedef struct srv_export_result {
    int64_t sample_id, patient_id, job_id;
    char accession[80], external_id[80];
    char collected_at[16], received_at[16], computed_at[32];
    char assay[16], build[16], call[32], core_version[64];
    double ratio, ratio_low, ratio_high, log2_ratio, z;
    int strong;
    char retracted_at[32];        /* "" while the result counts */
    char retraction_reason[2048]; /* why (500 characters at most), when retracted */
    json_t *tf;                   /* tumour_fraction object (owned) or NULL */
    json_t *quality;              /* a no-call's why {code, reason, ...} (owned) or NULL */
} srv_export_result;

/* Loads sample_id's result into r: SRV_OK; SRV_NOT_FOUND when the sample has no result (or
 * does not exist); SRV_INTERNAL on a database error (logged). Free with
 * srv_export_result_free() after SRV_OK. */
srv_status srv_export_result_load(sqlite3 *db, int64_t sample_id, srv_export_result *r);
void srv_export_result_free(srv_export_result *r);
/* The RefSeq accession of chromosome 1 in build ("hg38" NC_000001.11, "hg19" NC_000001.10), or
 * NULL (ddPCR has no build). Static. */
const char *srv_export_chr1_refseq(const char *build);

/* The id of the sample with this accession in *sample_id: SRV_OK, SRV_NOT_FOUND, SRV_INTERNAL. */
srv_status srv_export_sample_id(sqlite3 *db, const char *accession, int64_t *sample_id);

/* The alert `id` as the API shows it (server/monitor.h, with external_id), new, in *alert:
 * SRV_OK, SRV_NOT_FOUND or SRV_INTERNAL. */
srv_status srv_export_alert_load(sqlite3 *db, int64_t id, json_t **alert);

/* Sample ids (distinct, >= 0) of the draws an alert's evidence names, in order, as a new array
 * of integers; NULL on allocation failure. */
json_t *srv_export_alert_draws_new(json_t *alert);

#endif
