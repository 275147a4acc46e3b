-- 012_read_paths: indexes for read paths whose cost grew with the store (issue 14, measured at
-- 10,000 patients in bench/load.sh).
--   alerts_fired: GET /api/v1/alerts lists live alerts newest first (ORDER BY fired_on DESC,
--     id DESC LIMIT n) under optional filters written as "(? IS NULL OR ...)", which no other
--     index serves: SQLite sorted every alert, evidence and all, for each page (76 M
--     instructions a page of 50 at 1,040 alerts). Walking this index backwards stops after n
--     matching rows (34 M, most of it building the answer's JSON).
CREATE INDEX alerts_fired ON alerts (fired_on, id);
