# The JSON form of the core's structs, written once for the CLI, the stored results and the API.
noinst_LTLIBRARIES += json/libjson.la
json_libjson_la_CPPFLAGS = -I$(top_srcdir) -I$(top_builddir) $(HTSLIB_CFLAGS) $(JANSSON_CFLAGS)
json_libjson_la_LIBADD = core/libcore.la $(JANSSON_LIBS)
json_libjson_la_SOURCES = \
	json/num.c json/num.h json/result.c json/result.h json/settings.c json/settings.h \
	json/trend.c json/trend.h
