/* The JSON form of the analysis settings (json/settings.h). */
#include "json/settings.h"

#include "json/num.h"

json_t *rw_settings_json_new(const rw_settings *s)
{
    size_t n;
    const rw_setting *t = rw_settings_table(&n);
    int bad = 0;
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        double v = rw_setting_value(s, &t[i]);
        json_t *j;
        switch (t[i].type) {
        case RW_SETTING_BOOL:
            j = json_boolean(v != 0);
            break;
        case RW_SETTING_INT:
        case RW_SETTING_COUNT:
            j = json_integer((json_int_t)v);
            break;
        case RW_SETTING_KINDS:
            j = json_array();
            for (int k = 0; k < RW_TREAT_NKINDS; k++)
                if ((unsigned)v & RW_TREAT_BIT(k))
                    rw_json_push(j, json_string(rw_trend_treatment_name(k)), &bad);
            break;
        default:
            j = rw_json_num(v);
        }
        rw_json_put(o, t[i].name, j, &bad);
    }
    return rw_json_done(o, bad);
}

/* The number under the first of keys found in stored, else def (and *fell = 1). */
static json_t *pick(const json_t *stored, const char *const keys[2], double def, int *fell)
{
    for (int k = 0; k < 2 && keys[k]; k++) {
        json_t *v = json_object_get(stored, keys[k]);
        if (json_is_number(v))
            return json_real(json_number_value(v));
    }
    *fell = 1;
    return rw_json_num(def);
}

json_t *rw_settings_thresholds_json_new(const json_t *stored, int ddpcr,
                                        const rw_settings *fallback)
{
    static const char *const z_amp[2] = {"z_amplified", NULL}, *const z_strong[2] = {"z_strong",
                                                                                     NULL};
    static const char *const cn_amp[2] = {"ddpcr_cn_amplified", "amplified_lower"},
                             *const cn_strong[2] = {"ddpcr_cn_strong", NULL};
    int bad = 0, fell = 0;
    json_t *o = json_object();
    if (ddpcr) {
        rw_json_put(o, "ddpcr_cn_amplified",
                    pick(stored, cn_amp, fallback->trend.ddpcr_cn_positive, &fell), &bad);
        rw_json_put(o, "ddpcr_cn_strong",
                    pick(stored, cn_strong, fallback->trend.ddpcr_cn_strong, &fell), &bad);
    } else {
        rw_json_put(o, "z_amplified",
                    pick(stored, z_amp, fallback->analyse.score.z_amplified, &fell), &bad);
        rw_json_put(o, "z_strong", pick(stored, z_strong, fallback->analyse.score.z_strong, &fell),
                    &bad);
    }
    rw_json_put(o, "recorded", json_boolean(!fell), &bad);
    return rw_json_done(o, bad);
}
