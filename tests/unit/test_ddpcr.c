/* Tests of core/ddpcr: hand-worked droplet arithmetic, merged wells, the zero-positive upper
 * bound, saturated wells, flags and impossible input. */
#include "core/ddpcr.h"

#include <math.h>
#include <string.h>

#include "tests/unit/harness.h"

/* Example 1, one well: N = 10000 droplets, 2000 target-positive, 1000 reference-positive.
 *   lambda_T = -ln(8000/10000) = -ln 0.8 = 0.2231436
 *   lambda_R = -ln(9000/10000) = -ln 0.9 = 0.1053605
 *   conc_T = 0.2231436 / 0.00085 uL = 262.522 copies/uL; conc_R = 0.1053605 / 0.00085 = 123.954
 *   CN = 2 * 0.2231436 / 0.1053605 = 2 * 2.117905 = 4.235810
 *   CV^2_T = (e^0.2231436 - 1) / (10000 * 0.2231436^2) = 0.25 / 497.93 = 5.0208e-4
 *   CV^2_R = (e^0.1053605 - 1) / (10000 * 0.1053605^2) = 0.111111 / 111.008 = 1.00093e-3
 *   CV = sqrt(1.50301e-3) = 0.0387686
 *   95%: 4.235810 * exp(-+1.96 * 0.0387686) = 4.235810 * (0.926831, 1.078945) = 3.92588, 4.57021
 *   lower bound 3.93 > 2.2: amplified. */
static void test_one_well(void)
{
    rw_ddpcr_well w = {2000, 1000, 10000};
    rw_ddpcr_result r;
    CHECK(rw_ddpcr_compute(&w, 1, NULL, &r, NULL) == RW_OK);
    CHECK_NEAR(r.lambda_target, 0.2231436, 1e-6);
    CHECK_NEAR(r.lambda_ref, 0.1053605, 1e-6);
    CHECK_NEAR(r.conc_target, 262.522, 1e-3);
    CHECK_NEAR(r.conc_ref, 123.954, 1e-3);
    CHECK_NEAR(r.cn, 4.235810, 1e-5);
    CHECK_NEAR(r.cv, 0.0387686, 1e-6);
    CHECK_NEAR(r.cn_lo, 3.92588, 2e-4);
    CHECK_NEAR(r.cn_hi, 4.57021, 2e-4);
    CHECK(r.amplified == 1);
    CHECK(r.flags == 0);
    CHECK(r.threshold == 2.2);
}

/* Example 2, two wells merged by summing droplets:
 *   well 1: 2000 T+, 1000 R+, 10000 droplets; well 2: 2600 T+, 1400 R+, 12000 droplets
 *   merged: 4600 T+, 2400 R+, 22000 droplets
 *   lambda_T = -ln(17400/22000) = -ln 0.7909091 = 0.2345722
 *   lambda_R = -ln(19600/22000) = -ln 0.8909091 = 0.1155129
 *   CN = 2 * 0.2345722 / 0.1155129 = 4.061404
 *   CV^2 = (1/0.7909091 - 1)/(22000 * 0.0550241) + (1/0.8909091 - 1)/(22000 * 0.0133432)
 *        = 0.264368 / 1210.53 + 0.122449 / 293.55 = 2.18390e-4 + 4.17131e-4 = 6.35521e-4
 *   CV = 0.0252095; 95%: 4.061404 * exp(-+0.0494100) = 3.86561, 4.26712.
 * Averaging the two wells' CNs instead would give (4.2358 + 3.9224) / 2 = 4.079: not the same. */
static void test_merged(void)
{
    rw_ddpcr_well w[2] = {{2000, 1000, 10000}, {2600, 1400, 12000}};
    rw_ddpcr_result r;
    CHECK(rw_ddpcr_compute(w, 2, NULL, &r, NULL) == RW_OK);
    CHECK(r.n_wells == 2 && r.droplets == 22000 && r.target_pos == 4600 && r.ref_pos == 2400);
    CHECK_NEAR(r.lambda_target, 0.2345722, 1e-6);
    CHECK_NEAR(r.lambda_ref, 0.1155129, 1e-6);
    CHECK_NEAR(r.cn, 4.061404, 1e-5);
    CHECK_NEAR(r.cv, 0.0252095, 1e-6);
    CHECK_NEAR(r.cn_lo, 3.86561, 2e-4);
    CHECK_NEAR(r.cn_hi, 4.26712, 2e-4);
    /* merging narrows the interval compared with one well */
    rw_ddpcr_result one;
    CHECK(rw_ddpcr_compute(w, 1, NULL, &one, NULL) == RW_OK);
    CHECK(r.cn_hi - r.cn_lo < one.cn_hi - one.cn_lo);
}

/* Example 3, a normal sample at low input: 300 T+, 1000 R+, 15000 droplets.
 *   lambda_T = -ln(14700/15000) = 0.0202027; lambda_R = -ln(14000/15000) = 0.0689929
 *   CN = 2 * 0.0202027 / 0.0689929 = 0.585646 (not amplified: lower bound 0.515 < 2.2).
 * Then the droplet volume changes only the concentrations: 0.91 nL gives 0.0202027/0.00091 =
 * 22.2008 copies/uL, and CN is unchanged. */
static void test_not_amplified_and_volume(void)
{
    rw_ddpcr_well w = {300, 1000, 15000};
    rw_ddpcr_opts o;
    rw_ddpcr_opts_init(&o);
    CHECK(o.droplet_volume_nl == 0.85 && o.ref_copies == 2.0 && o.min_droplets == 100);
    rw_ddpcr_result r;
    CHECK(rw_ddpcr_compute(&w, 1, &o, &r, NULL) == RW_OK);
    CHECK_NEAR(r.cn, 0.585646, 1e-5);
    CHECK_NEAR(r.cn_lo, 0.514753, 2e-4);
    CHECK(r.amplified == 0);
    o.droplet_volume_nl = 0.91;
    rw_ddpcr_result r2;
    CHECK(rw_ddpcr_compute(&w, 1, &o, &r2, NULL) == RW_OK);
    CHECK_NEAR(r2.conc_target, 22.2008, 1e-3);
    CHECK_NEAR(r2.cn, r.cn, 1e-12);
    /* the threshold is configurable: a lower bound of 0.515 is "amplified" above 0.5 */
    o.amplified_lower = 0.5;
    CHECK(rw_ddpcr_compute(&w, 1, &o, &r2, NULL) == RW_OK);
    CHECK(r2.amplified == 1 && r2.threshold == 0.5);
}

/* No target positive: 0 T+, 1000 R+, 10000 droplets. Not zero but an upper bound:
 *   P(no positive | lambda) = e^(-N lambda) = 0.05  =>  lambda_T < ln(20) / N = 2.995732e-4
 *   CN < 2 * 2.995732e-4 / 0.1053605 = 0.0056866 */
static void test_zero_positives(void)
{
    rw_ddpcr_well w = {0, 1000, 10000};
    rw_ddpcr_result r;
    CHECK(rw_ddpcr_compute(&w, 1, NULL, &r, NULL) == RW_OK);
    CHECK(isnan(r.cn));
    CHECK(r.cn_lo == 0.0);
    CHECK_NEAR(r.cn_hi, 0.0056866, 1e-6);
    CHECK(r.flags & RW_DDPCR_NO_TARGET);
    CHECK(r.flags & RW_DDPCR_LOW_TARGET_POS);
    CHECK(r.amplified == 0);
}

static void test_flags(void)
{
    /* 50 T+ and 9960 R+ of 10000: few target positives, few reference negatives (40) */
    rw_ddpcr_well w = {50, 9960, 10000};
    rw_ddpcr_result r;
    CHECK(rw_ddpcr_compute(&w, 1, NULL, &r, NULL) == RW_OK);
    CHECK(r.flags == (RW_DDPCR_LOW_TARGET_POS | RW_DDPCR_LOW_REF_NEG));
    rw_ddpcr_well w2 = {9950, 99, 10000};
    CHECK(rw_ddpcr_compute(&w2, 1, NULL, &r, NULL) == RW_OK);
    CHECK(r.flags == (RW_DDPCR_LOW_TARGET_NEG | RW_DDPCR_LOW_REF_POS));
}

static void test_bad_input(void)
{
    rw_ddpcr_result r;
    rw_error e;
    rw_ddpcr_well sat[2] = {{100, 100, 1000}, {500, 500, 500}}; /* well 2 saturated */
    CHECK(rw_ddpcr_compute(sat, 2, NULL, &r, &e) == RW_ERR_INPUT);
    CHECK(strstr(e.msg, "well 2") && strstr(e.msg, "saturated"));
    rw_ddpcr_well sat_ref = {10, 1000, 1000};
    CHECK(rw_ddpcr_compute(&sat_ref, 1, NULL, &r, &e) == RW_ERR_INPUT);
    CHECK(strstr(e.msg, "reference"));
    rw_ddpcr_well more = {1001, 10, 1000};
    CHECK(rw_ddpcr_compute(&more, 1, NULL, &r, &e) == RW_ERR_INPUT);
    CHECK(strstr(e.msg, "more positive droplets"));
    rw_ddpcr_well noref = {10, 0, 1000};
    CHECK(rw_ddpcr_compute(&noref, 1, NULL, &r, &e) == RW_ERR_INPUT);
    CHECK(strstr(e.msg, "no reference-positive"));
    rw_ddpcr_well empty = {0, 0, 0};
    CHECK(rw_ddpcr_compute(&empty, 1, NULL, &r, &e) == RW_ERR_INPUT);
    CHECK(strstr(e.msg, "zero accepted droplets"));
    CHECK(rw_ddpcr_compute(NULL, 0, NULL, &r, &e) == RW_ERR_INPUT);
    rw_ddpcr_opts o;
    rw_ddpcr_opts_init(&o);
    o.droplet_volume_nl = 0;
    rw_ddpcr_well ok = {2000, 1000, 10000};
    CHECK(rw_ddpcr_compute(&ok, 1, &o, &r, &e) == RW_ERR_USAGE);
}

int main(void)
{
    test_one_well();
    test_merged();
    test_not_amplified_and_volume();
    test_zero_positives();
    test_flags();
    test_bad_input();
    DONE();
}
