/* The few JSON building blocks every JSON form of relapsewatch uses (json/, cli/, server/): a
 * number that may not be finite, and object/array setters that remember a failure instead of
 * checking every call, so a form is built straight through and dropped whole when anything
 * failed. */
#ifndef RW_JSON_NUM_H
#define RW_JSON_NUM_H

#include <jansson.h>
#include <stdint.h>

/* A new JSON real, or JSON null when x is NaN or infinite (JSON has no such numbers). */
json_t *rw_json_num(double x);

/* A calendar day (days since 1970-01-01) as "YYYY-MM-DD". */
json_t *rw_json_date(int32_t day);

/* json_object_set_new(o, key, v) that sets *bad on failure (also when o or v is NULL); v is
 * consumed in every case. */
void rw_json_put(json_t *o, const char *key, json_t *v, int *bad);

/* json_array_append_new(a, v) likewise. */
void rw_json_push(json_t *a, json_t *v, int *bad);

/* o when !bad, else NULL (o is released): the end of a form built with rw_json_put. */
json_t *rw_json_done(json_t *o, int bad);

#endif
