# relapsewatch: one file per subcommand, helpers in cli.c.
bin_PROGRAMS += relapsewatch
relapsewatch_LDADD = json/libjson.la core/libcore.la $(JANSSON_LIBS) $(HTSLIB_LIBS) -lm
relapsewatch_SOURCES = \
	cli/cli.c cli/cli.h \
	cli/count.c cli/pon.c cli/call.c cli/ddpcr.c \
	cli/simulate.c cli/plot.c cli/trend.c cli/segment.c cli/settings.c
