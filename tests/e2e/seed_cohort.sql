-- TEST SEEDING ONLY (tests/e2e/test_web.sh): a cohort of 100,000 patients written straight into
-- a copy of a freshly migrated database, so the browser test can page through a large cohort
-- in seconds. Real patients come through the API; nothing here is a way to load data.
-- Every 10th patient has a draw (collected over 2023-2024), every 50th a state other than
-- not_detected, every 450th (222 patients) an open early_relapse alert.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO patients (external_id, er_status, pr_status, her2_status, diagnosis_date,
                      primary_1q213_status)
SELECT printf('BIG-%06d', i), CASE i % 3 WHEN 0 THEN 'positive' ELSE 'negative' END, 'unknown',
       'negative', '2022-01-01', CASE i % 4 WHEN 0 THEN 'amplified' ELSE 'unknown' END
FROM n;
INSERT INTO samples (accession, patient_id, collected_at, received_at, assay, status)
SELECT printf('BIG-S-%06d', id), id, date('2023-01-01', printf('+%d days', id % 700)),
       date('2023-01-01', printf('+%d days', id % 700)), 'bins', 'done'
FROM patients WHERE external_id LIKE 'BIG-%' AND id % 10 = 0;
INSERT INTO patient_state (patient_id, state, n_results, trend_config)
SELECT id, CASE (id / 50) % 4 WHEN 0 THEN 'stable' WHEN 1 THEN 'early_relapse'
                              WHEN 2 THEN 'responding' ELSE 'emerging_chemoresistance' END, 1, '{}'
FROM patients WHERE external_id LIKE 'BIG-%' AND id % 50 = 0;
INSERT INTO alerts (patient_id, kind, rule, fired_on, sample_id, evidence)
SELECT s.patient_id, 'early_relapse', 'strong_positive', s.collected_at, s.id, '{"rules": []}'
FROM samples s WHERE s.accession LIKE 'BIG-S-%' AND s.patient_id % 450 = 0;
UPDATE patient_state SET state = 'early_relapse' WHERE patient_id % 450 = 0;
