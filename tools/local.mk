# Build-time tools. gen-openapi merges docs/openapi/base.json and every other fragment of
# docs/openapi/ (picked up by name: a new area's file needs no edit here) into one OpenAPI 3.1
# document: docs/openapi.json in the build folder (installed) and server/openapi_json.c (embedded
# in the daemon, served at /api/v1/openapi.json). A merge conflict fails the build.
noinst_PROGRAMS += tools/gen-openapi
tools_gen_openapi_SOURCES = tools/gen-openapi.c
tools_gen_openapi_CPPFLAGS = $(JANSSON_CFLAGS)
tools_gen_openapi_LDADD = $(JANSSON_LIBS)
OPENAPI_BASE = $(srcdir)/docs/openapi/base.json
OPENAPI_FRAGMENTS = $(filter-out %/base.json,$(sort $(wildcard $(srcdir)/docs/openapi/*.json)))
server/openapi_json.c: $(OPENAPI_BASE) $(OPENAPI_FRAGMENTS) tools/gen-openapi$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) server docs && ./tools/gen-openapi$(EXEEXT) -o docs/openapi.json.tmp \
	    -c srv_openapi_json $@.tmp $(OPENAPI_BASE) $(OPENAPI_FRAGMENTS) && \
	    mv docs/openapi.json.tmp docs/openapi.json && mv $@.tmp $@
docs/openapi.json: server/openapi_json.c
CLEANFILES += server/openapi_json.c docs/openapi.json
BUILT_SOURCES += server/openapi_json.c
nodist_pkgdata_DATA = docs/openapi.json
EXTRA_DIST += docs/openapi
