/* Strict validation of JSON bodies and parameters. Every function either returns 0 with the
 * value filled, or answers the request (400/422 JSON error naming the field) and returns -1, so a
 * handler writes: `if (srv_get_string(req, obj, "x", 1, &x)) return MHD_YES;` ...then returns
 * req's queued answer. Use srv_validate_done(req) to get the MHD_Result after a -1. */
#ifndef SRV_VALIDATE_H
#define SRV_VALIDATE_H

/* Common rules of the getters: a JSON null counts as absent (so an optional field may be sent
 * as null); a required string must not be empty; max_len counts bytes. */

#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

/* 422 "unknown_field" if obj has a key not in the NULL-terminated list `allowed`. */
int srv_check_fields(srv_request *req, json_t *obj, const char *const *allowed);
/* String field. required: 422 "missing_field" when absent; wrong type 422 "invalid_type".
 * *out is borrowed from obj (NULL when absent and optional). max_len 0 = no limit. */
int srv_get_string(srv_request *req, json_t *obj, const char *key, int required, size_t max_len,
                   const char **out);
/* String field that must be one of the NULL-terminated `choices` (422 "invalid_value"). */
int srv_get_enum(srv_request *req, json_t *obj, const char *key, int required,
                 const char *const *choices, const char **out);
/* Number field within [min, max]; *present tells whether it was given (may be NULL). */
int srv_get_number(srv_request *req, json_t *obj, const char *key, int required, double min,
                   double max, double *out, int *present);
/* ISO date "YYYY-MM-DD", a real calendar day, not in the future (422 "invalid_date").
 * *out receives days since 1970-01-01; the string is borrowed. */
int srv_get_date(srv_request *req, json_t *obj, const char *key, int required, const char **str,
                 int32_t *days, int *present);
/* Today at the site (the --time-zone, UTC by default) in days since 1970-01-01: the last day
 * a date field may name, so a draw taken today in Sydney is not "in the future" at 01:00 UTC. */
int32_t srv_today(void);
/* Makes name (an IANA zone, "Australia/Sydney"; "UTC") the process's local time zone, for
 * srv_today() and the site times of draws. Call once at start-up, before any thread starts
 * (it sets TZ). 0, or -1 with a message in err for a zone that does not exist. */
int srv_time_zone_set(const char *name, char *err, size_t errlen);
/* Optional time-of-day field "HH:MM" (24 h); *out borrowed (NULL when absent or null), else 422
 * "invalid_value". */
int srv_get_time(srv_request *req, json_t *obj, const char *key, const char **out);
/* Path parameter i as a positive int64 id (404 "not_found" when not a number). */
int srv_param_id(srv_request *req, int i, int64_t *out);

/* Integer field (a JSON integer, not 2.5 nor "3") within [min, max]; 422 otherwise. */
int srv_get_int(srv_request *req, json_t *obj, const char *key, int required, int64_t min,
                int64_t max, int64_t *out, int *present);
/* Boolean field (JSON true/false). */
int srv_get_bool(srv_request *req, json_t *obj, const char *key, int required, int *out,
                 int *present);
/* The MHD_Result to return after a helper answered (returned -1). */
enum MHD_Result srv_validate_done(srv_request *req);

#endif
