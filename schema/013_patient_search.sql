-- 013_patient_search: the patient list's prefix search (GET /api/v1/patients?q=...) is a
-- case-insensitive LIKE 'prefix%'. Without an index in the NOCASE collation SQLite walks the
-- sort order's index and tests every patient (12-16 ms at 100,000 patients whatever the prefix,
-- and a prefix that matches nothing reads them all). With this index a LIKE with a fixed prefix
-- becomes a range of it (SQLite's LIKE optimisation), so a search that selects few patients
-- reads only those.
CREATE INDEX patient_summary_search ON patient_summary (external_id COLLATE NOCASE);
