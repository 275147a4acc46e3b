# The copy-number and trend library. Compiled with htslib's flags only, so an HTTP, SQL or JSON
# include fails here (tests/check_core_isolation.sh also checks the symbols).
noinst_LTLIBRARIES += core/libcore.la
core_libcore_la_CPPFLAGS = -I$(top_srcdir) -I$(top_builddir) $(HTSLIB_CFLAGS)
core_libcore_la_LIBADD = $(HTSLIB_LIBS) -lm
core_libcore_la_SOURCES = \
	core/status.c core/status.h \
	core/genome.c core/genome.h \
	core/bins.c core/bins.h \
	core/count.c core/count.h \
	core/pon.c core/pon.h \
	core/score.c core/score.h \
	core/ddpcr.c core/ddpcr.h \
	core/simulate.c core/simulate.h \
	core/wig.c core/wig.h \
	core/gc.c core/gc.h \
	core/segment.c core/segment.h \
	core/purity.c core/purity.h \
	core/plot.c core/plot.h \
	core/trend.c core/trend.h \
	core/settings.c core/settings.h \
	core/date.c core/date.h \
	core/analyse.c core/analyse.h \
	core/stats.c core/stats.h core/denoise.c core/denoise.h \
	core/atomic.c core/atomic.h \
	core/version.h
