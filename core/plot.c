/* Genome-wide copy-number plot as standalone SVG (see plot.h for what the picture holds). */
#include "core/plot.h"

#include <htslib/kstring.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"

/* Colours: a colour-blind-safe pair for points and segments, a pale band for the region. */
#define COL_BIN    "#4c72b0"
#define COL_MASKED "#bbbbbb"
#define COL_SEG    "#d55e00"
#define COL_REGION "#f0c419"
#define COL_SHADE  "#f2f2f2"
#define COL_GRID   "#dddddd"
#define COL_TEXT   "#222222"

void rw_plot_opts_init(rw_plot_opts *o)
{
    memset(o, 0, sizeof *o);
    o->width = 1400;
    o->height = 460;
    o->margin_left = 64;
    o->margin_right = 16;
    o->margin_top = 48;
    o->margin_bottom = 56;
    o->ymin = -2.0;
    o->ymax = 2.0;
    o->grid_step = 0.5;
    o->highlight = RW_REGION_1Q213;
}

/* Sum of the lengths of chromosomes 0..nchrom-1. */
static double genome_length(rw_build build, int nchrom)
{
    double t = 0;
    for (int c = 0; c < nchrom; c++)
        t += (double)rw_chrom_length(build, c);
    return t;
}

double rw_plot_x(rw_build build, const rw_plot_opts *o, int nchrom, int chrom, int64_t pos)
{
    if (chrom < 0 || chrom >= nchrom || nchrom > RW_NCHROM)
        return NAN;
    double total = genome_length(build, nchrom);
    if (!(total > 0))
        return NAN;
    double off = genome_length(build, chrom);
    double w = o->width - o->margin_left - o->margin_right;
    return o->margin_left + (off + (double)pos) / total * w;
}

/* The picture being written: the text, its failure flag, and what every part draws against. */
typedef struct canvas {
    kstring_t s;
    int bad; /* out of memory */
    rw_build build;
    const rw_plot_opts *o;
    int nchrom;            /* chromosomes on the x axis */
    double x0, x1, y0, y1; /* the plot area */
} canvas;

/* Appends with printf formatting; remembers a failure in cv->bad (out of memory). */
static void put(canvas *cv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(canvas *cv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (kvsprintf(&cv->s, fmt, ap) < 0)
        cv->bad = 1;
    va_end(ap);
}

/* Appends text escaped for XML character data and attribute values. */
static void put_escaped(canvas *cv, const char *t)
{
    for (; *t; t++) {
        const char *rep = NULL;
        switch (*t) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        default:
            break;
        }
        /* Control characters are not allowed in XML 1.0: drop them. */
        if (!rep && (unsigned char)*t < 0x20 && *t != '\t')
            continue;
        if ((rep ? kputs(rep, &cv->s) : kputc(*t, &cv->s)) < 0)
            cv->bad = 1;
    }
}

/* x of a position of chromosome c on the canvas. */
static double x_of(const canvas *cv, int c, int64_t pos)
{
    return rw_plot_x(cv->build, cv->o, cv->nchrom, c, pos);
}

static double y_of(const rw_plot_opts *o, double v)
{
    double h = o->height - o->margin_top - o->margin_bottom;
    return o->margin_top + (o->ymax - v) / (o->ymax - o->ymin) * h;
}

static rw_status check_args(rw_build build, const rw_plot_opts *o, const rw_plot_bins *bins,
                            const rw_plot_segments *segs, rw_error *err)
{
    if (!o || !bins || (bins->n && (!bins->chrom || !bins->start || !bins->end || !bins->log2)))
        return rw_error_set(err, RW_ERR_USAGE, "plot: missing argument");
    if (segs && segs->n && (!segs->chrom || !segs->start || !segs->end || !segs->mean))
        return rw_error_set(err, RW_ERR_USAGE, "plot: missing segment arrays");
    if (build != RW_BUILD_HG38 && build != RW_BUILD_HG19)
        return rw_error_set(err, RW_ERR_BUILD, "plot: unknown genome build");
    if (o->width - o->margin_left - o->margin_right < 100 ||
        o->height - o->margin_top - o->margin_bottom < 50 || !(o->ymax > o->ymin) ||
        !(o->grid_step > 0) || (o->ymax - o->ymin) / o->grid_step > 100)
        return rw_error_set(err, RW_ERR_USAGE, "plot: impossible geometry");
    return RW_OK;
}

/* The svg element, its title and the white background. */
static void draw_header(canvas *cv)
{
    const rw_plot_opts *o = cv->o;
    put(cv,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        "viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
        o->width, o->height, o->width, o->height);
    put(cv, "<title>");
    put_escaped(cv, o->title ? o->title : "relapsewatch copy-number profile");
    put(cv, "</title>\n");
    put(cv, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", o->width,
        o->height);
}

/* Chromosome slots: alternate shading, boundaries, labels. */
static void draw_chromosomes(canvas *cv)
{
    const double y0 = cv->y0, y1 = cv->y1;
    put(cv, "<g class=\"chromosomes\">\n");
    for (int c = 0; c < cv->nchrom; c++) {
        double a = x_of(cv, c, 0);
        double b = x_of(cv, c, rw_chrom_length(cv->build, c));
        if (c % 2 == 1)
            put(cv,
                "<rect class=\"shade\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                "fill=\"" COL_SHADE "\"/>\n",
                a, y0, b - a, y1 - y0);
        if (c > 0)
            put(cv,
                "<line class=\"boundary\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                "stroke=\"#999999\" stroke-width=\"0.6\"/>\n",
                a, y0, a, y1);
        const char *name = rw_chrom_name(c) + 3; /* "chr1" -> "1" */
        /* Small chromosomes get staggered labels so that they do not overlap. */
        double ly = y1 + 16 + (c >= 18 && c < 22 && c % 2 ? 11 : 0);
        put(cv,
            "<text class=\"chrom\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" "
            "font-size=\"11\" fill=\"" COL_TEXT "\">%s</text>\n",
            0.5 * (a + b), ly, name);
    }
    put(cv, "</g>\n");
}

/* The highlighted region, under the points; returns it (NULL for none). */
static const rw_region *draw_region(canvas *cv)
{
    const rw_plot_opts *o = cv->o;
    const double y0 = cv->y0, y1 = cv->y1;
    const rw_region *reg = o->highlight ? rw_region_find(cv->build, o->highlight) : NULL;
    if (reg && reg->chrom < cv->nchrom) {
        double a = x_of(cv, reg->chrom, reg->start);
        double b = x_of(cv, reg->chrom, reg->end);
        /* The band is ~2 px wide on a whole-genome plot: a marker above the plot area and a
         * label make it findable; the rect itself keeps the exact coordinates. */
        put(cv,
            "<rect class=\"region\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
            "fill=\"" COL_REGION "\" fill-opacity=\"0.6\"/>\n",
            a, y0, b - a, y1 - y0);
        put(cv,
            "<path class=\"region-marker\" d=\"M%.2f %.2fl-5 -8h10z\" fill=\"" COL_REGION
            "\" stroke=\"#8a6d00\" stroke-width=\"0.8\"/>\n",
            0.5 * (a + b), y0 - 1);
        put(cv,
            "<text class=\"region-label\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"start\" "
            "font-size=\"11\" fill=\"" COL_TEXT "\">",
            0.5 * (a + b) + 7, y0 - 3);
        put_escaped(cv, reg->name);
        put(cv, "</text>\n");
    }
    return reg;
}

/* y axis: gridlines and labels; the frame and the axis titles. */
static void draw_axis(canvas *cv)
{
    const rw_plot_opts *o = cv->o;
    const double x0 = cv->x0, x1 = cv->x1, y0 = cv->y0, y1 = cv->y1;
    put(cv, "<g class=\"axis\">\n");
    int ng = (int)floor((o->ymax - o->ymin) / o->grid_step + 1e-9);
    double g0 = ceil(o->ymin / o->grid_step - 1e-9) * o->grid_step;
    for (int k = 0; k <= ng; k++) {
        double v = g0 + k * o->grid_step;
        if (v > o->ymax + 1e-9)
            break;
        double y = y_of(o, v);
        int zero = fabs(v) < 1e-9;
        put(cv,
            "<line class=\"grid\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
            "stroke=\"%s\" stroke-width=\"%s\"/>\n",
            x0, y, x1, y, zero ? "#888888" : COL_GRID, zero ? "1" : "0.6");
        put(cv,
            "<text class=\"tick\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" fill=\"" COL_TEXT
            "\">%.1f</text>\n",
            x0 - 6, y + 4, fabs(v) < 1e-9 ? 0.0 : v);
    }
    put(cv,
        "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
        "stroke=\"#666666\" stroke-width=\"0.8\"/>\n",
        x0, y0, x1 - x0, y1 - y0);
    put(cv,
        "<text x=\"16\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.2f)\" "
        "fill=\"" COL_TEXT "\">log2 ratio</text>\n",
        0.5 * (y0 + y1), 0.5 * (y0 + y1));
    put(cv,
        "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\" fill=\"" COL_TEXT
        "\">chromosome</text>\n",
        0.5 * (x0 + x1), o->height - 6);
    put(cv, "</g>\n");
}

/* Bins: masked first (faint, underneath), then the others. */
static void draw_bins(canvas *cv, const rw_plot_bins *bins)
{
    const rw_plot_opts *o = cv->o;
    const double y0 = cv->y0, y1 = cv->y1;
    put(cv, "<g class=\"bins\" fill=\"" COL_BIN "\" fill-opacity=\"0.55\">\n");
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < bins->n; i++) {
            int c = bins->chrom[i];
            double v = bins->log2[i];
            int masked = bins->mask && bins->mask[i];
            if (c < 0 || c >= cv->nchrom || !isfinite(v) || masked != (pass == 0))
                continue;
            if (masked && !o->show_masked)
                continue;
            double x = x_of(cv, c, (bins->start[i] + bins->end[i]) / 2);
            if (!isfinite(x))
                continue;
            if (masked)
                put(cv,
                    "<circle class=\"masked\" cx=\"%.2f\" cy=\"%.2f\" r=\"1.3\" "
                    "fill=\"" COL_MASKED "\"/>\n",
                    x,
                    y_of(o, v < o->ymin   ? o->ymin
                            : v > o->ymax ? o->ymax
                                          : v));
            else if (v > o->ymax)
                put(cv, "<path class=\"bin-out\" d=\"M%.2f %.2fl-3 5h6z\"/>\n", x, y0);
            else if (v < o->ymin)
                put(cv, "<path class=\"bin-out\" d=\"M%.2f %.2fl-3 -5h6z\"/>\n", x, y1);
            else
                put(cv, "<circle class=\"bin\" cx=\"%.2f\" cy=\"%.2f\" r=\"1.6\"/>\n", x,
                    y_of(o, v));
        }
    put(cv, "</g>\n");
}

/* Segments. */
static void draw_segments(canvas *cv, const rw_plot_segments *segs)
{
    const rw_plot_opts *o = cv->o;
    put(cv, "<g class=\"segments\" stroke=\"" COL_SEG "\" stroke-width=\"2.5\" "
            "stroke-linecap=\"butt\">\n");
    for (size_t i = 0; segs && i < segs->n; i++) {
        int c = segs->chrom[i];
        double v = segs->mean[i];
        if (c < 0 || c >= cv->nchrom || !isfinite(v))
            continue;
        double a = x_of(cv, c, segs->start[i]);
        double b = x_of(cv, c, segs->end[i]);
        double y = y_of(o, v < o->ymin ? o->ymin : v > o->ymax ? o->ymax : v);
        put(cv, "<line class=\"seg\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", a, y, b,
            y);
    }
    put(cv, "</g>\n");
}

/* Title and legend above the plot area. */
static void draw_legend(canvas *cv, const rw_region *reg)
{
    const rw_plot_opts *o = cv->o;
    const double x0 = cv->x0, x1 = cv->x1;
    put(cv,
        "<text class=\"title\" x=\"%.2f\" y=\"22\" font-size=\"15\" fill=\"" COL_TEXT
        "\" font-weight=\"bold\">",
        x0);
    put_escaped(cv, o->title ? o->title : "relapsewatch copy-number profile");
    put(cv, "</text>\n");
    double lx = x1 - 330, ly = 24;
    put(cv, "<g class=\"legend\" font-size=\"11\" fill=\"" COL_TEXT "\">\n");
    put(cv,
        "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"" COL_BIN "\"/>"
        "<text x=\"%.2f\" y=\"%.2f\">bin (log2 ratio)</text>\n",
        lx, ly - 4, lx + 8, ly);
    put(cv,
        "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"" COL_SEG
        "\" stroke-width=\"2.5\"/><text x=\"%.2f\" y=\"%.2f\">segment mean</text>\n",
        lx + 110, ly - 4, lx + 128, ly - 4, lx + 133, ly);
    if (reg)
        put(cv,
            "<rect x=\"%.2f\" y=\"%.2f\" width=\"12\" height=\"10\" fill=\"" COL_REGION
            "\" fill-opacity=\"0.45\"/><text x=\"%.2f\" y=\"%.2f\">%s</text>\n",
            lx + 225, ly - 9, lx + 241, ly, reg->name);
    put(cv, "</g>\n</svg>\n");
}

rw_status rw_plot_genome_svg_string(rw_build build, const rw_plot_opts *o, const rw_plot_bins *bins,
                                    const rw_plot_segments *segs, char **out, rw_error *err)
{
    *out = NULL;
    rw_status st = check_args(build, o, bins, segs, err);
    if (st != RW_OK)
        return st;
    canvas v = {.s = {0, 0, NULL}, .build = build, .o = o};
    v.nchrom = o->include_y ? RW_NCHROM : RW_NCHROM - 1;
    for (size_t i = 0; i < bins->n; i++)
        if (bins->chrom[i] == RW_CHROM_Y)
            v.nchrom = RW_NCHROM;
    v.x0 = o->margin_left;
    v.x1 = o->width - o->margin_right;
    v.y0 = o->margin_top;
    v.y1 = o->height - o->margin_bottom;
    draw_header(&v);
    draw_chromosomes(&v);
    const rw_region *reg = draw_region(&v);
    draw_axis(&v);
    draw_bins(&v, bins);
    draw_segments(&v, segs);
    draw_legend(&v, reg);
    if (v.bad) {
        free(v.s.s);
        return rw_error_set(err, RW_ERR_NOMEM, "plot: out of memory");
    }
    *out = ks_release(&v.s);
    return RW_OK;
}

rw_status rw_plot_genome_svg(const char *path, rw_build build, const rw_plot_opts *o,
                             const rw_plot_bins *bins, const rw_plot_segments *segs, rw_error *err)
{
    char *svg = NULL, tmp[RW_ATOMIC_TMP_MAX];
    FILE *f = NULL;
    rw_status st = rw_plot_genome_svg_string(build, o, bins, segs, &svg, err);
    if (st == RW_OK)
        st = rw_atomic_open(path, tmp, &f, err);
    if (st == RW_OK) {
        fputs(svg, f); /* a failed write sets the stream's error flag: commit checks it */
        st = rw_atomic_commit(f, tmp, path, err);
    }
    free(svg);
    return st;
}
