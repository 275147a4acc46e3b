# Migrations are embedded in the daemon so an installed binary needs no source tree; they are
# installed as well, for reading.
SCHEMA_FILES = $(sort $(wildcard $(srcdir)/schema/[0-9][0-9][0-9]_*.sql))
server/schema_sql.c: $(SCHEMA_FILES) $(srcdir)/tools/embed-schema.sh
	$(AM_V_GEN)$(MKDIR_P) server && $(SHELL) $(srcdir)/tools/embed-schema.sh $(SCHEMA_FILES) > $@.tmp && mv $@.tmp $@
CLEANFILES += server/schema_sql.c
BUILT_SOURCES += server/schema_sql.c
dist_pkgdata_DATA = $(SCHEMA_FILES)
EXTRA_DIST += tools/embed-schema.sh
