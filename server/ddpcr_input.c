/* ddPCR wells from JSON (see ddpcr_input.h). */
#include "server/ddpcr_input.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/options.h"

/* The first key of the body other than droplet_volume_nl and wells (borrowed), or NULL. */
static const char *unknown_top_key(json_t *body)
{
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v)
    {
        if (strcmp(k, "droplet_volume_nl") && strcmp(k, "wells"))
            return k;
    }
    return NULL;
}

static rw_status unknown_top_error(const char *k, rw_error *e)
{
    return rw_error_set(e, RW_ERR_INPUT, "unknown field '%s' (expected droplet_volume_nl, wells)",
                        k);
}

/* The keys of the body: only droplet_volume_nl and wells. */
static rw_status check_keys(json_t *body, const char **field, rw_error *e)
{
    const char *k;
    json_t *v;
    if (!json_is_object(body))
        return rw_error_set(e, RW_ERR_INPUT, "the body must be a JSON object");
    if ((k = unknown_top_key(body))) {
        *field = "wells";
        return unknown_top_error(k, e);
    }
    v = json_object_get(body, "droplet_volume_nl");
    if (v && !json_is_null(v)) {
        *field = "droplet_volume_nl";
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 100)
            return rw_error_set(e, RW_ERR_INPUT,
                                "droplet_volume_nl must be a number in (0, 100] nL");
    }
    return RW_OK;
}

/* The keys of a well, in rw_ddpcr_well's order. */
static const char *const well_keys[] = {"target_positive", "reference_positive", "droplets"};

/* Well i (0-based) of the array into *w. */
static rw_status read_well(json_t *obj, size_t i, rw_ddpcr_well *w, rw_error *e)
{
    uint64_t val[3];
    if (!json_is_object(obj) || json_object_size(obj) != 3)
        return rw_error_set(e, RW_ERR_INPUT,
                            "well %zu must be an object with exactly target_positive, "
                            "reference_positive and droplets",
                            i + 1);
    for (int j = 0; j < 3; j++) {
        json_t *x = json_object_get(obj, well_keys[j]);
        if (!x && j == 2) /* stored before 010 (see ddpcr_input.h) */
            x = json_object_get(obj, "accepted");
        if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 10000000)
            return rw_error_set(e, RW_ERR_INPUT, "well %zu: %s must be an integer in 0..10000000",
                                i + 1, well_keys[j]);
        val[j] = (uint64_t)json_integer_value(x);
    }
    w->target_pos = val[0];
    w->ref_pos = val[1];
    w->droplets = val[2];
    return RW_OK;
}

rw_status srv_ddpcr_parse(json_t *body, rw_ddpcr_well **wells, size_t *n, rw_ddpcr_opts *o,
                          rw_ddpcr_result *res, const char **field, rw_error *e)
{
    rw_status st;
    json_t *v, *arr;
    *wells = NULL;
    *n = 0;
    *o = srv_settings()->ddpcr; /* the daemon's analysis settings */
    *field = NULL;
    if ((st = check_keys(body, field, e)))
        return st;
    v = json_object_get(body, "droplet_volume_nl");
    if (v && !json_is_null(v))
        o->droplet_volume_nl = json_number_value(v);
    *field = "wells";
    arr = json_object_get(body, "wells");
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 96)
        return rw_error_set(e, RW_ERR_INPUT, "wells must be an array of 1 to 96 wells");
    *n = json_array_size(arr);
    if (!(*wells = calloc(*n, sizeof **wells))) {
        *n = 0;
        return rw_error_set(e, RW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < *n && !st; i++)
        st = read_well(json_array_get(arr, i), i, &(*wells)[i], e);
    if (!st)
        st = rw_ddpcr_compute(*wells, *n, o, res, e);
    if (st) {
        free(*wells);
        *wells = NULL;
        *n = 0;
        return st;
    }
    *field = NULL;
    return RW_OK;
}

rw_status srv_ddpcr_check(json_t *body, const char **field, rw_error *e)
{
    rw_ddpcr_well *wells;
    rw_ddpcr_opts o;
    rw_ddpcr_result r;
    size_t n;
    rw_status st = srv_ddpcr_parse(body, &wells, &n, &o, &r, field, e);
    free(wells);
    return st;
}

static int is_well_key(const char *k)
{
    for (size_t j = 0; j < sizeof well_keys / sizeof well_keys[0]; j++)
        if (!strcmp(k, well_keys[j]))
            return 1;
    return 0;
}

rw_status srv_ddpcr_unknown_key(json_t *body, char *field, size_t cap, rw_error *e)
{
    const char *k = unknown_top_key(body);
    json_t *v, *well;
    size_t i;
    if (k) {
        snprintf(field, cap, "%s", k);
        return unknown_top_error(k, e);
    }
    json_array_foreach(json_object_get(body, "wells"), i, well)
    {
        json_object_foreach(well, k, v)
        {
            if (is_well_key(k))
                continue;
            snprintf(field, cap, "wells[%zu].%s", i, k);
            return rw_error_set(e, RW_ERR_INPUT,
                                "well %zu: unknown field '%s' (a well has target_positive, "
                                "reference_positive and droplets)",
                                i + 1, k);
        }
    }
    return RW_OK;
}
