# Fuzzing harnesses (fuzz/fuzz.h). Here they are built with fuzz/driver.c and replay the seed
# corpus and every past finding (tests/check_fuzz_corpus.sh); fuzz/run.sh builds them with
# libFuzzer for a campaign.
FUZZ_HARNESSES = fuzz/fuzz_bins fuzz/fuzz_wig fuzz/fuzz_pon fuzz/fuzz_count fuzz/fuzz_ddpcr \
	fuzz/fuzz_route fuzz/fuzz_http
check_PROGRAMS += $(FUZZ_HARNESSES)
FUZZ_COMMON = fuzz/fuzz.h fuzz/path.c fuzz/driver.c
fuzz_fuzz_bins_SOURCES = fuzz/fuzz_bins.c $(FUZZ_COMMON)
fuzz_fuzz_wig_SOURCES = fuzz/fuzz_wig.c $(FUZZ_COMMON)
fuzz_fuzz_pon_SOURCES = fuzz/fuzz_pon.c $(FUZZ_COMMON)
fuzz_fuzz_count_SOURCES = fuzz/fuzz_count.c $(FUZZ_COMMON)
fuzz_fuzz_ddpcr_SOURCES = fuzz/fuzz_ddpcr.c $(FUZZ_COMMON)
fuzz_fuzz_route_SOURCES = fuzz/fuzz_route.c $(FUZZ_COMMON)
fuzz_fuzz_http_SOURCES = fuzz/fuzz_http.c $(FUZZ_COMMON)
EXTRA_DIST += fuzz/run.sh fuzz/seed.sh fuzz/seed_http.py fuzz/http.dict fuzz/corpus fuzz/regressions
