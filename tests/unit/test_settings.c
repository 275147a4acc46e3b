/* Tests of core/settings: the table's defaults reach every option struct, one setting feeds both
 * of its places, values are range-checked with a message naming the setting, the file reader
 * reports file:line, the cross-checks, and text round trips. */
#include "core/settings.h"

#include <stdio.h>
#include <string.h>

#include "tests/unit/harness.h"

/* The defaults documented in docs/method.md, as the option structs see them. */
static void test_defaults(void)
{
    rw_settings s;
    rw_settings_init(&s);
    CHECK(s.analyse.score.z_amplified == 3.0);
    CHECK(s.analyse.score.z_strong == 5.0);
    CHECK_NEAR(s.analyse.score.ci_z, 1.959963984540054, 1e-15);
    CHECK(s.analyse.score.use_sample_se == 1);
    CHECK(s.trend.z_positive == 3.0 && s.trend.z_strong == 5.0);
    CHECK(s.ddpcr.amplified_lower == 2.2 && s.trend.ddpcr_cn_positive == 2.2);
    CHECK(s.ddpcr.droplet_volume_nl == 0.85 && s.ddpcr.min_droplets == 100);
    CHECK(s.trend.rcv_z == 1.65 && s.trend.cv_i == 0.05 && s.trend.cv_a_default == 0.10);
    CHECK(s.trend.rule_cusum == 0 && s.trend.rule_strong_positive == 1);
    CHECK(!(s.trend.responding_kinds & RW_TREAT_BIT(RW_TREAT_SURGERY)));
    CHECK(s.trend.responding_kinds & RW_TREAT_BIT(RW_TREAT_ENDOCRINE));
    CHECK(s.pon.min_normals == 5 && s.pon.recommended_normals == 10 && s.pon.max_cv == 0.5);
    CHECK(s.analyse.purity.detection_limit == 0.03 && s.analyse.purity.caution_limit == 0.05);
    CHECK(s.analyse.seg.amp_above == 0.585);
    /* the structs' own init functions read the same table */
    rw_trend_config c;
    rw_trend_config_init(&c);
    CHECK(!memcmp(&c, &s.trend, sizeof c));
    rw_ddpcr_opts d;
    rw_ddpcr_opts_init(&d);
    CHECK(!memcmp(&d, &s.ddpcr, sizeof d));
    CHECK(rw_settings_are_default(&s));
    rw_error e;
    CHECK(rw_settings_check(&s, &e) == RW_OK);
}

/* Every entry: its default lies in its range, reads back from its own text, and has help,
 * a group and a source. */
static void test_table(void)
{
    size_t n;
    const rw_setting *t = rw_settings_table(&n);
    CHECK(n >= 30);
    rw_settings s;
    rw_settings_init(&s);
    for (size_t i = 0; i < n; i++) {
        char text[256];
        rw_error e;
        CHECK(t[i].def >= t[i].min && t[i].def <= t[i].max);
        CHECK(t[i].help && *t[i].help && t[i].group && t[i].source);
        CHECK(!strncmp(t[i].source, "docs/method.md §", strlen("docs/method.md §")));
        CHECK(rw_setting_value(&s, &t[i]) == t[i].def);
        rw_setting_format(&s, &t[i], text, sizeof text);
        CHECK(rw_settings_set(&s, t[i].name, text, &e) == RW_OK);
        CHECK(rw_setting_find(t[i].name) == &t[i]);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(t[i].name, t[j].name) != 0);
    }
    CHECK(rw_settings_are_default(&s));
}

static void test_set(void)
{
    rw_settings s;
    rw_error e;
    rw_settings_init(&s);
    /* one setting, two places */
    CHECK(rw_settings_set(&s, "z_amplified", "3.5", &e) == RW_OK);
    CHECK(s.analyse.score.z_amplified == 3.5 && s.trend.z_positive == 3.5);
    CHECK(!rw_settings_are_default(&s));
    /* flag spelling and the old CLI alias */
    CHECK(rw_settings_set(&s, "z-strong", "6", &e) == RW_OK && s.trend.z_strong == 6);
    CHECK(rw_settings_set(&s, "z-threshold", "4", &e) == RW_OK && s.analyse.score.z_amplified == 4);
    CHECK(rw_settings_set(&s, "ddpcr-cn-positive", "2.5", &e) == RW_OK);
    CHECK(s.ddpcr.amplified_lower == 2.5 && s.trend.ddpcr_cn_positive == 2.5);
    /* range and type errors name the setting and the range */
    CHECK(rw_settings_set(&s, "z_amplified", "0", &e) == RW_ERR_USAGE);
    CHECK(strstr(e.msg, "z_amplified") && strstr(e.msg, "[0.1, 100]"));
    CHECK(s.analyse.score.z_amplified == 4); /* unchanged */
    CHECK(rw_settings_set(&s, "baseline_draws", "9", &e) == RW_ERR_USAGE);
    CHECK(strstr(e.msg, "1..8") != NULL);
    CHECK(rw_settings_set(&s, "baseline_draws", "2.5", &e) == RW_ERR_USAGE);
    CHECK(rw_settings_set(&s, "rcv_z", "abc", &e) == RW_ERR_USAGE);
    CHECK(rw_settings_set(&s, "rcv_z", "nan", &e) == RW_ERR_USAGE);
    CHECK(rw_settings_set(&s, "no_such", "1", &e) == RW_ERR_USAGE);
    CHECK(strstr(e.msg, "unknown setting 'no_such'") != NULL);
    /* booleans and kinds */
    CHECK(rw_settings_set(&s, "rule_cusum", "on", &e) == RW_OK && s.trend.rule_cusum == 1);
    CHECK(rw_settings_set(&s, "rule_cusum", "false", &e) == RW_OK && s.trend.rule_cusum == 0);
    CHECK(rw_settings_set(&s, "rule_cusum", "maybe", &e) == RW_ERR_USAGE);
    CHECK(rw_settings_set(&s, "responding_kinds", "chemotherapy,endocrine", &e) == RW_OK);
    CHECK(s.trend.responding_kinds ==
          (RW_TREAT_BIT(RW_TREAT_CHEMOTHERAPY) | RW_TREAT_BIT(RW_TREAT_ENDOCRINE)));
    char text[128];
    rw_setting_format(&s, rw_setting_find("responding_kinds"), text, sizeof text);
    CHECK(!strcmp(text, "chemotherapy,endocrine"));
    CHECK(rw_settings_set(&s, "responding_kinds", "chemo", &e) == RW_ERR_USAGE);
    /* NAME=VALUE */
    CHECK(rw_settings_set_pair(&s, "ddpcr_min_droplets=250", &e) == RW_OK);
    CHECK(s.ddpcr.min_droplets == 250);
    CHECK(rw_settings_set_pair(&s, "ddpcr_min_droplets", &e) == RW_ERR_USAGE);
}

static void test_check(void)
{
    rw_settings s;
    rw_error e;
    rw_settings_init(&s);
    CHECK(rw_settings_set(&s, "z_amplified", "6", &e) == RW_OK);
    CHECK(rw_settings_check(&s, &e) == RW_ERR_USAGE && strstr(e.msg, "z_strong"));
    rw_settings_init(&s);
    CHECK(rw_settings_set(&s, "seg_gain_above", "0.7", &e) == RW_OK);
    CHECK(rw_settings_check(&s, &e) == RW_ERR_USAGE && strstr(e.msg, "seg_amp_above"));
    rw_settings_init(&s);
    CHECK(rw_settings_set(&s, "pon_min_normals", "20", &e) == RW_OK);
    CHECK(rw_settings_check(&s, &e) == RW_ERR_USAGE);
}

static void test_file(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/test_settings.conf", RW_BUILD_DIR);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("# a site's thresholds\n\nz_amplified = 3.5\ncv_within_person = \"0.07\"\n"
          "rule_cusum=true\nrcv_z = 11\n",
          f);
    fclose(f);
    rw_settings s;
    rw_error e;
    rw_settings_init(&s);
    CHECK(rw_settings_read_file(&s, path, &e) == RW_ERR_USAGE);
    CHECK(strstr(e.msg, "test_settings.conf:6: rcv_z") != NULL);
    CHECK(s.analyse.score.z_amplified == 3.5 && s.trend.cv_i == 0.07 && s.trend.rule_cusum);
    CHECK(rw_settings_read_file(&s, "/nonexistent/x.conf", &e) == RW_ERR_IO);
    remove(path);
}

int main(void)
{
    test_defaults();
    test_table();
    test_set();
    test_check();
    test_file();
    DONE();
}
