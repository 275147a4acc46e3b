# Unit tests: tests/unit/test_X.c each, linked with everything (LDADD); the harness finds its data
# through the environment below. Shell tests drive the real binaries and the real daemon.
LDADD = $(SERVER_LIBS)
UNIT_TESTS = \
	tests/unit/test_genome tests/unit/test_bins tests/unit/test_count tests/unit/test_pon \
	tests/unit/test_score tests/unit/test_ddpcr tests/unit/test_simulate tests/unit/test_gc \
	tests/unit/test_segment tests/unit/test_purity tests/unit/test_plot tests/unit/test_trend \
	tests/unit/test_dilution tests/unit/test_monitor tests/unit/test_sha256 \
	tests/unit/test_validate tests/unit/test_options tests/unit/test_migrate tests/unit/test_router \
	tests/unit/test_auth tests/unit/test_reply tests/unit/test_resource tests/unit/test_ddpcr_input \
	tests/unit/test_blob tests/unit/test_settings
UNIT_TESTS += tests/unit/test_wig tests/unit/test_realism tests/unit/test_mbc315 tests/unit/test_baseline
UNIT_TESTS += tests/unit/test_calibration
UNIT_TESTS += tests/unit/test_fragments
UNIT_TESTS += tests/unit/test_answer_cache
check_PROGRAMS += $(UNIT_TESTS)
check_PROGRAMS += tests/unit/list_routes # prints the compiled routes for test_openapi.sh
UNIT_TESTS += tests/unit/test_query
SCRIPT_TESTS = \
	tests/cli/test_cli_count.sh tests/cli/test_cli_errors.sh \
	tests/integration/test_api.sh tests/integration/test_patients.sh \
	tests/integration/test_monitoring.sh tests/integration/test_demo.sh \
	tests/integration/test_pipeline.sh tests/integration/test_frag_daemon.sh \
	tests/integration/test_install.sh \
	tests/e2e/test_web.sh tests/integration/test_readme.sh \
	tests/check_core_isolation.sh tests/check_docs.sh tests/check_format.sh
SCRIPT_TESTS += tests/cli/test_cli_fragments.sh
SCRIPT_TESTS += tests/integration/test_roles.sh tests/integration/test_users.sh
SCRIPT_TESTS += tests/integration/test_openapi.sh tests/integration/test_contract.sh
EXTRA_DIST += tests/integration/openapi.mjs
SCRIPT_TESTS += tests/check_fuzz_corpus.sh
SCRIPT_TESTS += tests/integration/test_cohort_counts.sh
SCRIPT_TESTS += tests/integration/test_import.sh
SCRIPT_TESTS += tests/integration/test_static.sh
SCRIPT_TESTS += tests/integration/test_metrics.sh tests/integration/test_workflow.sh \
	tests/integration/test_package.sh
TESTS += $(UNIT_TESTS) $(SCRIPT_TESTS)
SH_LOG_COMPILER = $(SHELL)
TEST_EXTENSIONS = .sh
AM_TESTS_ENVIRONMENT = \
	RW_SRCDIR='$(abs_top_srcdir)'; RW_BUILDDIR='$(abs_top_builddir)'; \
	RW_TEST_DATA='$(abs_top_srcdir)/tests/data'; \
	export RW_SRCDIR RW_BUILDDIR RW_TEST_DATA;
EXTRA_DIST += $(SCRIPT_TESTS) tests/unit/harness.h tests/lib.sh tests/e2e/web.mjs tests/valgrind.sh \
	tests/data tools/gen-cli-doc.sh tools/gen-config-doc.sh
SCRIPT_TESTS += tests/integration/test_corrections.sh tests/integration/test_idempotency.sh
SCRIPT_TESTS += tests/integration/test_tls.sh tests/integration/test_overload.sh
EXTRA_DIST += tests/integration/slowclient.py
SCRIPT_TESTS += tests/integration/test_uploads_early.sh tests/integration/test_audit.sh \
	tests/integration/test_backup.sh tests/integration/test_crash.sh
SCRIPT_TESTS += tests/integration/test_backup_paging.sh
# Interop (issue 13): FHIR R4, HL7 v2 over MLLP, webhooks.
UNIT_TESTS += tests/unit/test_interop
SCRIPT_TESTS += tests/integration/test_fhir.sh tests/integration/test_hl7.sh \
	tests/integration/test_webhooks.sh
EXTRA_DIST += tests/integration/interop_setup.sh tests/fhir/validate.mjs tests/hl7/parse.mjs \
	tests/hl7/mllp_receiver.py tests/webhooks/receiver.py
SCRIPT_TESTS += tests/integration/test_logging.sh tests/integration/test_hardening.sh
UNIT_TESTS += tests/unit/test_audit
UNIT_TESTS += tests/unit/test_rows_text
SCRIPT_TESTS += tests/integration/test_lists_paging.sh
SCRIPT_TESTS += tests/integration/test_hot_tokens.sh
