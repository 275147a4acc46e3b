# relapsewatchd: main.c over server/libserver.la, which the unit tests link too.
noinst_LTLIBRARIES += server/libserver.la
SERVER_LIBS = server/libserver.la json/libjson.la core/libcore.la $(MHD_LIBS) $(JANSSON_LIBS) \
	$(SQLITE_LIBS) $(HTSLIB_LIBS) $(SODIUM_LIBS) $(ZLIB_LIBS) $(GNUTLS_LIBS) -lm
server_libserver_la_CPPFLAGS = $(AM_CPPFLAGS) -DRW_PKGDATADIR='"$(pkgdatadir)"'
server_libserver_la_SOURCES = \
	server/options.c server/options.h \
	server/log.c server/log.h \
	server/http.c server/http.h \
	server/router.c server/router.h \
	server/routes.c \
	server/status.c server/status.h \
	server/reply.c server/reply.h \
	server/validate.c server/validate.h \
	server/db.c server/db.h \
	server/migrate.c server/migrate.h \
	server/auth.c server/auth.h \
	server/audit.c server/audit.h \
	server/sha256.c server/sha256.h \
	server/api.h \
	server/api_health.c server/api_tokens.c server/api_patients.c \
	server/api_treatments.c server/api_events.c server/api_samples.c \
	server/query.c server/query.h server/rows.c server/rows.h \
	server/monitor.c server/monitor.h \
	server/api_clinical.c server/api_clinical.h server/resource.c server/resource.h \
	server/datadir.c server/datadir.h server/blob.c server/blob.h \
	server/guard.c server/guard.h server/deadline.h \
	server/panel.c server/panel.h server/counts.c server/counts.h \
	server/ddpcr_input.c server/ddpcr_input.h server/result_row.c server/result_row.h \
	server/jobs.c server/jobs.h server/pipeline.c server/pipeline.h \
	server/uploads.c server/uploads.h \
	server/api_uploads.c server/api_jobs.c server/api_pons.c server/api_profile.c \
	server/api_trend.c server/api_alerts.c server/api_cohort.c \
	server/answer_cache.c server/answer_cache.h server/static_files.c server/static_files.h \
	server/import.c server/import.h server/api_import.c
server_libserver_la_SOURCES += server/users.c server/users.h server/session.c server/session.h \
	server/api_session.c server/api_users.c
server_libserver_la_SOURCES += server/metrics.c server/metrics.h server/readiness.c \
	server/readiness.h server/api_metrics.c
nodist_server_libserver_la_SOURCES = server/schema_sql.c
nodist_server_libserver_la_SOURCES += server/openapi_json.c # tools/local.mk
server_libserver_la_SOURCES += server/openapi.h server/location.c server/location.h
bin_PROGRAMS += relapsewatchd
relapsewatchd_LDADD = $(SERVER_LIBS)
relapsewatchd_SOURCES = server/main.c
server_libserver_la_SOURCES += server/backup.c server/backup.h server/api_admin.c \
	server/actions.c server/actions.h
server_libserver_la_SOURCES += server/corrections.c server/corrections.h server/api_corrections.c \
	server/idempotency.c server/idempotency.h
# Standards exports and outgoing deliveries (issue 13: FHIR R4, HL7 v2 over MLLP, webhooks).
server_libserver_la_SOURCES += server/export.c server/export.h server/fhir.c server/fhir.h \
	server/hl7.c server/hl7.h server/netclient.c server/netclient.h server/webhooks.c \
	server/webhooks.h server/outbox.c server/outbox.h server/api_fhir.c server/api_hl7.c \
	server/api_webhooks.c server/api_deliveries.c
server_libserver_la_SOURCES += server/api_settings.c # the pages' settings screen
