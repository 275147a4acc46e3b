/* Unit tests of server/validate: calendar dates (core/date.h as the validators use it), today
 * and tomorrow, the site's time zone, and the typed body getters (unknown fields, types, enums,
 * ranges, null). */
#include "core/date.h"
#include "server/validate.h"
#include "tests/unit/harness.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_dates(void)
{
    int32_t d = -1;
    CHECK(rw_date_parse("1970-01-01", &d) == 0 && d == 0);
    CHECK(rw_date_parse("2000-03-01", &d) == 0 && d == 10957 + 31 + 29);
    CHECK(rw_date_parse("2024-02-29", &d) == 0);  /* leap year */
    CHECK(rw_date_parse("2000-02-29", &d) == 0);  /* divisible by 400 */
    CHECK(rw_date_parse("1900-02-29", &d) == -1); /* by 100, not 400 */
    CHECK(rw_date_parse("2023-02-29", &d) == -1);
    CHECK(rw_date_parse("2021-04-31", &d) == -1);
    CHECK(rw_date_parse("2021-12-31", &d) == 0);
    CHECK(rw_date_parse("2021-13-01", &d) == -1);
    CHECK(rw_date_parse("2021-00-10", &d) == -1);
    CHECK(rw_date_parse("2021-01-00", &d) == -1);
    CHECK(rw_date_parse("2021-1-01", &d) == -1);
    CHECK(rw_date_parse("2021-01-01T00:00", &d) == -1);
    CHECK(rw_date_parse("21-01-2021", &d) == -1);
    CHECK(rw_date_parse("", &d) == -1);
    CHECK(rw_date_parse(NULL, &d) == -1);

    /* Against the C library's calendar: today parses to srv_today(), tomorrow is refused. */
    char today[16], tomorrow[16];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    t += 86400;
    gmtime_r(&t, &tm);
    strftime(tomorrow, sizeof tomorrow, "%Y-%m-%d", &tm);
    CHECK(rw_date_parse(today, &d) == 0 && d == srv_today());

    srv_request req = {0};
    json_t *obj =
        json_pack("{s:s, s:s, s:s, s:i}", "a", today, "b", tomorrow, "c", "2023-02-29", "n", 3);
    const char *s = NULL;
    int present = 0;
    CHECK(srv_get_date(&req, obj, "a", 1, &s, &d, &present) == 0 && present && !req.answered);
    CHECK(srv_get_date(&req, obj, "b", 1, &s, &d, &present) == -1 && req.status == 422);
    srv_request_release(&req);
    CHECK(srv_get_date(&req, obj, "c", 1, &s, &d, &present) == -1 && req.status == 422);
    srv_request_release(&req);
    CHECK(srv_get_date(&req, obj, "n", 1, &s, &d, &present) == -1 && req.status == 422);
    srv_request_release(&req);
    CHECK(srv_get_date(&req, obj, "absent", 0, &s, &d, &present) == 0 && !present && !s);
    CHECK(srv_get_date(&req, obj, "absent", 1, &s, &d, &present) == -1 && req.status == 422);
    srv_request_release(&req);

    /* The other validators: unknown fields, types, enums, ranges. */
    static const char *const allowed[] = {"a", "b", "c", "n", NULL};
    static const char *const few[] = {"a", NULL};
    static const char *const colours[] = {"red", "green", NULL};
    CHECK(srv_check_fields(&req, obj, allowed) == 0 && !req.answered);
    CHECK(srv_check_fields(&req, obj, few) == -1 && req.status == 422);
    srv_request_release(&req);
    json_t *o2 = json_pack("{s:s, s:f, s:b, s:n}", "colour", "blue", "x", 2.5, "flag", 1, "nul");
    const char *e;
    int64_t i64;
    double x;
    int b;
    CHECK(srv_get_enum(&req, o2, "colour", 1, colours, &e) == -1 && req.status == 422);
    srv_request_release(&req);
    CHECK(srv_get_int(&req, o2, "x", 1, 0, 10, &i64, NULL) == -1 && req.status == 422);
    srv_request_release(&req);
    CHECK(srv_get_number(&req, o2, "x", 1, 0, 10, &x, NULL) == 0 && x == 2.5);
    CHECK(srv_get_number(&req, o2, "x", 1, 3, 10, &x, NULL) == -1 && req.status == 422);
    srv_request_release(&req);
    CHECK(srv_get_bool(&req, o2, "flag", 1, &b, NULL) == 0 && b == 1);
    CHECK(srv_get_string(&req, o2, "nul", 0, 0, &s) == 0 && s == NULL); /* null = absent */
    CHECK(srv_get_string(&req, o2, "x", 1, 0, &s) == -1 && req.status == 422);
    srv_request_release(&req);
    json_decref(o2);
    json_decref(obj);
}

/* The site's day (--time-zone): zones with a fixed offset and no daylight saving, so the day is
 * known from the UTC clock (read before and after, in case the zone's midnight passes). */
static void test_time_zone(void)
{
    static const struct {
        const char *zone;
        long offset; /* seconds east of UTC */
    } zones[] = {{"Pacific/Kiritimati", 14 * 3600}, {"Pacific/Pago_Pago", -11 * 3600}, {"UTC", 0}};
    char err[200];
    CHECK(srv_time_zone_set("Mars/Olympus", err, sizeof err) == -1 && strstr(err, "Mars/Olympus"));
    CHECK(srv_time_zone_set("../../etc/passwd", err, sizeof err) == -1);
    CHECK(srv_time_zone_set("", err, sizeof err) == -1);
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        CHECK(srv_time_zone_set(zones[i].zone, err, sizeof err) == 0);
        int32_t before = (int32_t)((time(NULL) + zones[i].offset) / 86400);
        int32_t got = srv_today();
        int32_t after = (int32_t)((time(NULL) + zones[i].offset) / 86400);
        CHECK(got == before || got == after);
    }
}

int main(void)
{
    test_dates();
    test_time_zone();
    DONE();
}
