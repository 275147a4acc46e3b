/* Unit tests of server/reply and server/status: where core errors and look-up statuses become
 * HTTP answers (the data's fault 422 with the caller's code, the server's 500), through requests
 * that are never sent. */
#include <stdio.h>
#include <string.h>

#include "server/log.h"
#include "server/reply.h"
#include "server/status.h"
#include "tests/unit/harness.h"

static void test_core_statuses(void)
{
    CHECK(srv_status_of_core(RW_OK) == SRV_OK);
    CHECK(srv_status_of_core(RW_ERR_USAGE) == SRV_CLIENT);
    CHECK(srv_status_of_core(RW_ERR_INPUT) == SRV_CLIENT);
    CHECK(srv_status_of_core(RW_ERR_BUILD) == SRV_CLIENT);
    CHECK(srv_status_of_core(RW_ERR_MISMATCH) == SRV_CLIENT);
    CHECK(srv_status_of_core(RW_ERR_IO) == SRV_INTERNAL);
    CHECK(srv_status_of_core(RW_ERR_NOMEM) == SRV_INTERNAL);
    CHECK(srv_status_of_core(RW_ERR_INTERNAL) == SRV_INTERNAL);
}

static void test_core_replies(void)
{
    static const struct {
        rw_status st;
        unsigned http;
    } cases[] = {{RW_ERR_INPUT, 422},    {RW_ERR_BUILD, 422}, {RW_ERR_MISMATCH, 422},
                 {RW_ERR_USAGE, 422},    {RW_ERR_IO, 500},    {RW_ERR_NOMEM, 500},
                 {RW_ERR_INTERNAL, 500}, {RW_OK, 500}};
    srv_request req = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        srv_request_release(&req);
        CHECK(srv_reply_core_error(&req, cases[i].st, "invalid_pon", NULL, "bad: %d", 1) ==
              MHD_YES);
        CHECK(req.answered && req.status == cases[i].http);
    }
    srv_request_release(&req);
}

static void test_lookup(void)
{
    srv_request req = {0};
    srv_reply_lookup(&req, SRV_OK, json_object(), "job");
    CHECK(req.status == 200);
    srv_request_release(&req);
    srv_reply_lookup(&req, SRV_NOT_FOUND, NULL, "job");
    CHECK(req.status == 404);
    srv_request_release(&req);
    srv_reply_lookup(&req, SRV_INTERNAL, NULL, "job");
    CHECK(req.status == 500);
    /* the first answer wins */
    srv_reply_error(&req, 409, "conflict", NULL, "late");
    CHECK(req.status == 500);
    srv_request_release(&req);
}

/* Error messages never show a server path; the rest of the message stays. */
static void test_scrub_paths(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"bad input: /srv/rw/data/samples/6/ab12.bam: truncated BAM",
         "bad input: the uploaded file: truncated BAM"},
        {"cannot open var/data/samples/6/ab.bam", "cannot open the uploaded file"},
        {"'/tmp/x.bam' is not BGZF", "'the uploaded file' is not BGZF"},
        {"see /etc/relapsewatch/relapsewatchd.conf.", "see the uploaded file."},
        {"(POST /api/v1/patients/{id}/samples) first",
         "(POST /api/v1/patients/{id}/samples) first"},
        {"send Content-Type: application/json", "send Content-Type: application/json"},
        {"reads/bin below 10", "reads/bin below 10"},
        {"http://terminology.hl7.org/CodeSystem/v2-0074",
         "http://terminology.hl7.org/CodeSystem/v2-0074"},
        {"a / b", "a / b"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", cases[i].in);
        srv_scrub_paths(buf, sizeof buf);
        CHECK(strcmp(buf, cases[i].want) == 0);
        if (strcmp(buf, cases[i].want))
            fprintf(stderr, "scrub(%s) = %s\n", cases[i].in, buf);
    }
    /* a small buffer: cut, still terminated */
    char small[12] = "/a/b/c/d.bam";
    small[11] = '\0';
    srv_scrub_paths(small, sizeof small);
    CHECK(strlen(small) == 11 && strncmp(small, "the uploade", 11) == 0);
    /* through an error answer */
    srv_request req = {0};
    srv_reply_core_error(&req, RW_ERR_INPUT, "invalid_input", NULL, "bad input: %s: truncated",
                         "/home/rw/data/tmp/upload-1.bam");
    CHECK(req.status == 422);
    srv_request_release(&req);
}

/* Client words in log lines: control bytes escaped, never half an escape. */
static void test_log_escape(void)
{
    char out[64];
    CHECK(srv_log_escape("GE\rT\n", out, sizeof out) == 7 && strcmp(out, "GE\\rT\\n") == 0);
    srv_log_escape("a\x01"
                   "b\\c\x7f\xc3\xa9",
                   out, sizeof out);
    CHECK(strcmp(out, "a\\x01b\\x5cc\\x7f\\xc3\\xa9") == 0);
    CHECK(srv_log_escape("GET", out, sizeof out) == 3 && strcmp(out, "GET") == 0);
    char tiny[6];
    srv_log_escape("ab\r\n", tiny, sizeof tiny); /* "ab\r" fits, "\n" would not */
    CHECK(strcmp(tiny, "ab\\r") == 0);
    srv_log_escape(NULL, tiny, sizeof tiny);
    CHECK(tiny[0] == '\0');
}

int main(void)
{
    srv_log_threshold = SRV_LOG_ERROR;
    test_core_statuses();
    test_core_replies();
    test_lookup();
    test_scrub_paths();
    test_log_escape();
    DONE();
}
