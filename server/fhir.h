/* FHIR R4 views of the stored data (read only), after the HL7 Genomics Reporting IG (STU3):
 * per sample a DiagnosticReport (profile genomic-report) whose results are Observations: the
 * 1q21.3 finding (profile variant, with the copy ratio, its interval, z and call as components),
 * the tumour fraction (its method named) and the quality gate; per alert a DetectedIssue whose
 * evidence points at the Observations of the draws that raised it; per patient a Patient whose
 * identifier is the external id. Resource ids: Patient/<patients.id>,
 * DiagnosticReport/<samples.id>, Observation/<samples.id>-cn|-tf|-qc, DetectedIssue/<alerts.id>.
 * Codes: server/export.h. docs/api-interop.md shows each resource.
 * JSON rule: every *out is a new reference (json_decref it), set only with SRV_OK. */
#ifndef SRV_FHIR_H
#define SRV_FHIR_H

#include <sqlite3.h>
#include <stdint.h>

#include <jansson.h>

#include "server/status.h"

/* Where the identifiers come from: systems of Patient.identifier and DiagnosticReport.identifier
 * (the site's URIs, from --fhir-identifier-base: "<base>/patient", "<base>/accession"). */
typedef struct srv_fhir_ctx {
    const char *identifier_base; /* borrowed */
    const char *full_url_base;   /* "http://host/api/v1/fhir" for Bundle.entry.fullUrl */
} srv_fhir_ctx;

/* Each: SRV_OK with *out; SRV_NOT_FOUND (no such record, or a sample without a result);
 * SRV_INTERNAL (database or allocation failure, logged). */
srv_status srv_fhir_patient(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t patient_id, json_t **out);
srv_status srv_fhir_report(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t sample_id, json_t **out);
/* id: "<sample id>-cn", "-tf" or "-qc" (what Observation references carry). */
srv_status srv_fhir_observation(sqlite3 *db, const srv_fhir_ctx *ctx, const char *id, json_t **out);
srv_status srv_fhir_detected_issue(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t alert_id,
                                   json_t **out);
/* Patient/{id}/$everything: a searchset Bundle of the Patient, every DiagnosticReport with its
 * Observations, and every alert (retracted ones too, status cancelled) as a DetectedIssue. */
srv_status srv_fhir_everything(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t patient_id,
                               json_t **out);
/* One sample: a collection Bundle of its DiagnosticReport, its Observations and its Patient. */
srv_status srv_fhir_sample_bundle(sqlite3 *db, const srv_fhir_ctx *ctx, int64_t sample_id,
                                  json_t **out);

/* GET /api/v1/fhir/metadata: the CapabilityStatement of these endpoints (R4 4.0.1, JSON, read
 * on Patient, DiagnosticReport, Observation and DetectedIssue, Patient/$everything), with
 * software.version and implementation.url; today's date (UTC). A new object, or NULL. */
json_t *srv_fhir_capabilities_new(const srv_fhir_ctx *ctx, const char *version);

#endif
