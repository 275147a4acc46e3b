# The pages, served by the daemon. Chart.js comes from Debian's libjs-chart.js (no CDN).
CHARTJS = /usr/share/javascript/chart.js/chart.min.js
install-data-local:
	$(MKDIR_P) $(DESTDIR)$(pkgdatadir)/web/vendor
	cp -R $(srcdir)/web/. $(DESTDIR)$(pkgdatadir)/web/
	cp $(CHARTJS) $(DESTDIR)$(pkgdatadir)/web/vendor/chart.min.js
uninstall-local:
	rm -rf $(DESTDIR)$(pkgdatadir)/web
EXTRA_DIST += web tools/load-demo.sh
EXTRA_DIST += tests/e2e/seed_cohort.sql # the browser test's large-cohort seeding (tests/e2e/test_web.sh)
