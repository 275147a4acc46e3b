/* Unit tests of the genome plot: well-formed SVG, exactly the promised elements, the 1q21.3
 * highlight at the right x, chromosome labels, escaping, deterministic bytes, atomic write. */
#include "core/bins.h"
#include "core/plot.h"
#include "tests/unit/harness.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
        n++;
    return n;
}

/* Light XML check: every start tag is closed in order (or self-closed), no stray '<' or '&'
 * in text. Returns 1 when well-formed. */
static int well_formed(const char *s)
{
    char stack[64][32];
    int depth = 0, seen_root = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '&') {
            const char *q = strchr(p, ';');
            if (!q || q - p > 6)
                return 0;
            continue;
        }
        if (*p != '<')
            continue;
        const char *q = strchr(p, '>');
        if (!q)
            return 0;
        if (p[1] == '/') {
            char name[32];
            size_t n = strcspn(p + 2, " >");
            if (n == 0 || n >= sizeof name || depth == 0)
                return 0;
            memcpy(name, p + 2, n);
            name[n] = 0;
            if (strcmp(stack[--depth], name))
                return 0;
        } else {
            size_t n = strcspn(p + 1, " />\n");
            if (n == 0 || n >= 32 || (depth == 0 && seen_root))
                return 0;
            for (const char *a = p + 1; a < q; a++)
                if (*a == '<')
                    return 0;
            if (q[-1] != '/') {
                if (depth == 64)
                    return 0;
                memcpy(stack[depth], p + 1, n);
                stack[depth++][n] = 0;
            }
            seen_root = 1;
        }
        p = q;
    }
    return depth == 0 && seen_root;
}

/* Value of attribute `name` of the first element that contains `marker`. */
static double attr_after(const char *s, const char *marker, const char *name)
{
    const char *p = strstr(s, marker);
    if (!p)
        return NAN;
    const char *end = strchr(p, '>');
    char key[40];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *a = strstr(p, key);
    if (!a || a > end)
        return NAN;
    return atof(a + strlen(key));
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    return b;
}

int main(void)
{
    char dir[] = "/tmp/rw_test_plot.XXXXXX";
    if (!mkdtemp(dir))
        SKIP("no temporary folder");
    rw_error err = {0};
    rw_bins *layout = rw_bins_new(RW_BUILD_HG38, RW_BIN_SIZE_DEFAULT, 0, &err);
    CHECK(layout != NULL);
    if (!layout)
        DONE();
    size_t n = layout->n;
    int *chrom = malloc(n * sizeof *chrom);
    int64_t *start = malloc(n * sizeof *start), *end = malloc(n * sizeof *end);
    double *l2 = malloc(n * sizeof *l2);
    unsigned char *mask = calloc(n, 1);

    /* A profile with a 1q gain, some masked bins, some NaN, a few beyond the y range. */
    size_t want_in = 0, want_out = 0, want_masked = 0;
    uint64_t r = 42;
    for (size_t i = 0; i < n; i++) {
        chrom[i] = rw_bins_chrom(layout, i);
        start[i] = rw_bins_start(layout, i);
        end[i] = rw_bins_end(layout, i);
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        double noise = ((double)(r >> 11) / 9007199254740992.0 - 0.5) * 0.3;
        l2[i] = noise + (chrom[i] == 0 && start[i] > 125000000 ? 0.4 : 0.0);
        if (i % 97 == 5)
            l2[i] = 3.5;
        if (i % 89 == 7)
            l2[i] = -4.0;
        if (i % 53 == 0)
            l2[i] = NAN;
        mask[i] = i % 41 == 3;
        if (!isfinite(l2[i]))
            continue;
        if (mask[i])
            want_masked++;
        else if (l2[i] > 2.0 || l2[i] < -2.0)
            want_out++;
        else
            want_in++;
    }
    rw_plot_bins pb = {n, chrom, start, end, l2, mask};
    /* One segment per chromosome, chr1 split at the 1q gain; one with a NaN mean (not drawn). */
    int schrom[RW_NCHROM + 2];
    int64_t sstart[RW_NCHROM + 2], send[RW_NCHROM + 2];
    double smean[RW_NCHROM + 2];
    size_t ns = 0;
    for (int c = 0; c < layout->nchrom; c++) {
        schrom[ns] = c;
        sstart[ns] = 0;
        send[ns] = rw_chrom_length(RW_BUILD_HG38, c);
        smean[ns] = c == 5 ? NAN : 0.0;
        if (c == 0) {
            send[ns] = 125000000;
            ns++;
            schrom[ns] = 0;
            sstart[ns] = 125000000;
            send[ns] = rw_chrom_length(RW_BUILD_HG38, 0);
            smean[ns] = 0.4;
        }
        ns++;
    }
    rw_plot_segments ps = {ns, schrom, sstart, send, smean};

    rw_plot_opts o;
    rw_plot_opts_init(&o);
    char *svg = NULL, *svg2 = NULL;
    CHECK(rw_plot_genome_svg_string(RW_BUILD_HG38, &o, &pb, &ps, &svg, &err) == RW_OK);
    CHECK(svg && !strncmp(svg, "<svg", 4));
    CHECK(svg && well_formed(svg));
    if (svg) {
        CHECK(count_of(svg, "<circle class=\"bin\"") == want_in);
        CHECK(count_of(svg, "<path class=\"bin-out\"") == want_out);
        CHECK(count_of(svg, "class=\"masked\"") == 0);
        CHECK(count_of(svg, "<line class=\"seg\"") == ns - 1);
        CHECK(count_of(svg, "<text class=\"chrom\"") == 23);
        CHECK(strstr(svg, ">22</text>") && strstr(svg, ">X</text>") && !strstr(svg, ">Y</text>"));
        CHECK(count_of(svg, "<rect class=\"region\"") == 1);
        CHECK(strstr(svg, ">1q21.3</text>") != NULL);
        CHECK(strstr(svg, "http://") == strstr(svg, "http://www.w3.org/2000/svg"));
        CHECK(count_of(svg, "http") == 1); /* the namespace only: no external resources */

        /* The highlight's x, from first principles: chr1 comes first, the plot area starts at
         * the left margin and spans the whole genome (chr1..chrX) linearly. */
        double total = 0;
        for (int c = 0; c < 23; c++)
            total += (double)rw_chrom_length(RW_BUILD_HG38, c);
        double area = o.width - o.margin_left - o.margin_right;
        double xa = o.margin_left + 150600000.0 / total * area;
        double xb = o.margin_left + 155100000.0 / total * area;
        CHECK_NEAR(attr_after(svg, "class=\"region\"", "x"), xa, 0.01);
        CHECK_NEAR(attr_after(svg, "class=\"region\"", "width"), xb - xa, 0.02);
        CHECK_NEAR(rw_plot_x(RW_BUILD_HG38, &o, 23, 0, 150600000), xa, 1e-9);
        /* chr2's boundary sits at the length of chr1 */
        CHECK_NEAR(attr_after(svg, "class=\"boundary\"", "x1"),
                   o.margin_left + 248956422.0 / total * area, 0.01);
        /* the 1q segment at y(0.4) on a -2..2 axis */
        double h = o.height - o.margin_top - o.margin_bottom;
        CHECK_NEAR(attr_after(strstr(svg, "<line class=\"seg\"") + 10, "class=\"seg\"", "y1"),
                   o.margin_top + (2.0 - 0.4) / 4.0 * h, 0.01);

        /* Deterministic bytes. */
        CHECK(rw_plot_genome_svg_string(RW_BUILD_HG38, &o, &pb, &ps, &svg2, &err) == RW_OK);
        CHECK(svg2 && !strcmp(svg, svg2));
        free(svg2);
        svg2 = NULL;
    }

    /* The file is the string, written atomically: nothing else left in the folder. */
    char path[300];
    snprintf(path, sizeof path, "%s/profile.svg", dir);
    CHECK(rw_plot_genome_svg(path, RW_BUILD_HG38, &o, &pb, &ps, &err) == RW_OK);
    char *back = read_all(path);
    CHECK(back && svg && !strcmp(back, svg));
    free(back);
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.';
    if (d)
        closedir(d);
    CHECK(entries == 1);
    char bad_path[320];
    snprintf(bad_path, sizeof bad_path, "%s/no/such/dir/x.svg", dir);
    CHECK(rw_plot_genome_svg(bad_path, RW_BUILD_HG38, &o, &pb, &ps, &err) == RW_ERR_IO);
    CHECK(access(bad_path, F_OK) != 0);

    /* Masked bins shown faint on request; chrY slot on request; title escaped; no segments. */
    o.show_masked = 1;
    o.include_y = 1;
    o.title = "patient <A> & \"B\"";
    CHECK(rw_plot_genome_svg_string(RW_BUILD_HG38, &o, &pb, NULL, &svg2, &err) == RW_OK);
    if (svg2) {
        CHECK(well_formed(svg2));
        CHECK(count_of(svg2, "<circle class=\"masked\"") == want_masked);
        CHECK(count_of(svg2, "<circle class=\"bin\"") == want_in);
        CHECK(count_of(svg2, "<text class=\"chrom\"") == 24);
        CHECK(strstr(svg2, ">Y</text>") != NULL);
        CHECK(count_of(svg2, "<line class=\"seg\"") == 0);
        CHECK(strstr(svg2, "patient &lt;A&gt; &amp; &quot;B&quot;") != NULL);
        /* with 24 slots the region moves left (the genome got longer) */
        CHECK(attr_after(svg2, "class=\"region\"", "x") < attr_after(svg, "class=\"region\"", "x"));
    }
    free(svg2);
    svg2 = NULL;

    /* hg19 puts 1q21.3 at its own coordinates. */
    rw_plot_opts_init(&o);
    rw_plot_bins none = {0, NULL, NULL, NULL, NULL, NULL};
    CHECK(rw_plot_genome_svg_string(RW_BUILD_HG19, &o, &none, NULL, &svg2, &err) == RW_OK);
    if (svg2) {
        CHECK(well_formed(svg2));
        CHECK_NEAR(attr_after(svg2, "class=\"region\"", "x"),
                   rw_plot_x(RW_BUILD_HG19, &o, 23, 0, 150300000), 0.01);
        CHECK(count_of(svg2, "<circle class=\"bin\"") == 0);
    }
    free(svg2);

    /* Rejections. */
    CHECK(rw_plot_genome_svg_string(RW_BUILD_UNKNOWN, &o, &pb, NULL, &svg2, &err) == RW_ERR_BUILD);
    o.ymax = o.ymin;
    CHECK(rw_plot_genome_svg_string(RW_BUILD_HG38, &o, &pb, NULL, &svg2, &err) == RW_ERR_USAGE);
    CHECK(svg2 == NULL);
    CHECK(isnan(rw_plot_x(RW_BUILD_HG38, &o, 23, 23, 0)));

    free(svg);
    unlink(path);
    rmdir(dir);
    free(chrom);
    free(start);
    free(end);
    free(l2);
    free(mask);
    rw_bins_free(layout);
    DONE();
}
