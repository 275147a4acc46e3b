/* Unit tests of server/reply and server/status: where core errors and look-up statuses become
 * HTTP answers (the data's fault 422 with the caller's code, the server's 500), through requests
 * that are never sent. */
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

int main(void)
{
    srv_log_threshold = SRV_LOG_ERROR;
    test_core_statuses();
    test_core_replies();
    test_lookup();
    DONE();
}
