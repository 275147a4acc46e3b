/* JSON building blocks shared by every JSON form (json/num.h). */
#include "json/num.h"

#include <math.h>

#include "core/date.h"

json_t *rw_json_num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *rw_json_date(int32_t day)
{
    char buf[11];
    rw_date_format(day, buf);
    return json_string(buf);
}

void rw_json_put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (!o || !v) {
        json_decref(v);
        *bad = 1;
        return;
    }
    if (json_object_set_new(o, key, v))
        *bad = 1;
}

void rw_json_push(json_t *a, json_t *v, int *bad)
{
    if (!a || !v) {
        json_decref(v);
        *bad = 1;
        return;
    }
    if (json_array_append_new(a, v))
        *bad = 1;
}

json_t *rw_json_done(json_t *o, int bad)
{
    if (!bad && o)
        return o;
    json_decref(o);
    return NULL;
}
