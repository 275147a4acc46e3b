/* Unit tests of server/ddpcr_input: the one parser of ddPCR wells that the upload and the job
 * share: what it accepts, what it refuses (with the field it names), and that the wells it
 * returns are those of the body. */
#include "server/ddpcr_input.h"
#include "tests/unit/harness.h"

#include <stdlib.h>
#include <string.h>

/* Parses text; the status, with *field and the message in e. */
static rw_status parse(const char *text, size_t *n, double *volume, const char **field, rw_error *e)
{
    rw_ddpcr_well *wells = NULL;
    rw_ddpcr_opts o;
    rw_ddpcr_result r;
    json_t *body = json_loads(text, 0, NULL);
    rw_status st = srv_ddpcr_parse(body, &wells, n, &o, &r, field, e);
    *volume = o.droplet_volume_nl;
    if (st == RW_OK && *n > 0 && wells[0].target_pos != 3000)
        st = RW_ERR_INTERNAL; /* the first well is not the body's */
    CHECK(st == RW_OK ? wells != NULL : wells == NULL && *n == 0);
    free(wells);
    json_decref(body);
    return st;
}

#define WELL "{\"target_positive\": 3000, \"reference_positive\": 1500, \"droplets\": 15000}"
/* A well as inputs stored before schema 010 name it: the job still reads it. */
#define OLD_WELL "{\"target_positive\": 3000, \"reference_positive\": 1500, \"accepted\": 15000}"

static void test_accepts(void)
{
    size_t n;
    double v;
    const char *field = "x";
    rw_error e = {0};
    CHECK(parse("{\"wells\": [" WELL ", " WELL "]}", &n, &v, &field, &e) == RW_OK);
    CHECK(n == 2 && field == NULL);
    CHECK(parse("{\"droplet_volume_nl\": 0.91, \"wells\": [" WELL "]}", &n, &v, &field, &e) ==
          RW_OK);
    CHECK(n == 1 && v == 0.91);
    CHECK(parse("{\"droplet_volume_nl\": null, \"wells\": [" WELL "]}", &n, &v, &field, &e) ==
          RW_OK);
    CHECK(parse("{\"wells\": [" OLD_WELL "]}", &n, &v, &field, &e) == RW_OK && n == 1);
}

/* The upload names an unknown key exactly (422 unknown_field), the old "accepted" included. */
static void test_unknown_key(void)
{
    static const struct {
        const char *body, *field; /* NULL: every key known */
    } cases[] = {
        {"{\"wells\": [" WELL "]}", NULL},
        {"{\"wells\": [" WELL ", " OLD_WELL "]}", "wells[1].accepted"},
        {"{\"wells\": [" WELL "], \"colour\": 1}", "colour"},
        {"{\"wells\": [{\"target_positive\": 1, \"reference_positive\": 1, \"droplets\": 5, "
         "\"target\": 1}]}",
         "wells[0].target"},
        {"{\"wells\": 3}", NULL}, /* a bad value is srv_ddpcr_check's to name */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char field[64] = "";
        rw_error e = {0};
        json_t *body = json_loads(cases[i].body, 0, NULL);
        rw_status st = srv_ddpcr_unknown_key(body, field, sizeof field, &e);
        CHECK(cases[i].field ? st == RW_ERR_INPUT && !strcmp(field, cases[i].field) : st == RW_OK);
        CHECK(!cases[i].field || strstr(e.msg, "unknown field"));
        json_decref(body);
    }
}

static void test_refuses(void)
{
    static const struct {
        const char *body, *field, *says;
    } cases[] = {
        {"[1]", NULL, "JSON object"},
        {"{\"wells\": [" WELL "], \"colour\": 1}", "wells", "unknown field 'colour'"},
        {"{\"droplet_volume_nl\": 0, \"wells\": [" WELL "]}", "droplet_volume_nl", "(0, 100]"},
        {"{\"droplet_volume_nl\": \"1\", \"wells\": [" WELL "]}", "droplet_volume_nl", "number"},
        {"{\"wells\": []}", "wells", "1 to 96"},
        {"{\"wells\": [" WELL ", {\"target_positive\": 1}]}", "wells", "well 2 must be"},
        {"{\"wells\": [{\"target_positive\": -1, \"reference_positive\": 1, \"droplets\": 5}]}",
         "wells", "well 1: target_positive"},
        {"{\"wells\": [{\"target_positive\": 1.5, \"reference_positive\": 1, \"droplets\": 5}]}",
         "wells", "integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n;
        double v;
        const char *field = "x";
        rw_error e = {0};
        rw_status st = parse(cases[i].body, &n, &v, &field, &e);
        CHECK(st == RW_ERR_INPUT);
        CHECK(cases[i].field ? field && !strcmp(field, cases[i].field) : field == NULL);
        CHECK(strstr(e.msg, cases[i].says) != NULL);
    }
    /* 97 wells: one too many */
    char big[97 * (sizeof WELL + 2) + 32];
    size_t o = (size_t)snprintf(big, sizeof big, "{\"wells\": [");
    for (int i = 0; i < 97; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "%s" WELL, i ? ", " : "");
    snprintf(big + o, sizeof big - o, "]}");
    size_t n;
    double v;
    const char *field;
    rw_error e = {0};
    CHECK(parse(big, &n, &v, &field, &e) == RW_ERR_INPUT && strstr(e.msg, "1 to 96"));
}

/* The upload's check agrees with the parser. */
static void test_check(void)
{
    const char *field = "x";
    rw_error e = {0};
    json_t *good = json_loads("{\"wells\": [" WELL "]}", 0, NULL);
    json_t *bad = json_loads("{\"wells\": [" WELL "], \"droplet_volume_nl\": -1}", 0, NULL);
    CHECK(srv_ddpcr_check(good, &field, &e) == RW_OK && field == NULL);
    CHECK(srv_ddpcr_check(bad, &field, &e) == RW_ERR_INPUT && !strcmp(field, "droplet_volume_nl"));
    json_decref(good);
    json_decref(bad);
}

int main(void)
{
    test_accepts();
    test_refuses();
    test_unknown_key();
    test_check();
    DONE();
}
