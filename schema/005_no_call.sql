-- 005_no_call: results.call can say that a sample was not called. The core's quality gate
-- (core/score.h rw_score_quality) answers `insufficient_quality` for a sample whose residual
-- noise is too high to detect its target tumour fraction; such a no-call must never read as
-- `not_detected`, so it is stored as itself, with why in the new `quality` column. `no_data`
-- is allowed too, for a core that gives it (the daemon refuses such a job today).
-- SQLite cannot alter a CHECK: the results table is rebuilt with every row kept (the column
-- order of 003 plus `quality` at the end); nothing references results and it has no index of
-- its own. Applied by server/migrate.c inside one transaction (no BEGIN/COMMIT here).

CREATE TABLE results_005 (
    sample_id INTEGER PRIMARY KEY REFERENCES samples (id),
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    assay TEXT NOT NULL CHECK (assay IN ('swgs', 'bins', 'ddpcr')),
    core_version TEXT NOT NULL,
    pon_id INTEGER REFERENCES pons (id),
    settings TEXT NOT NULL CHECK (json_valid(settings)),
    build TEXT,
    bin_size INTEGER,
    counts BLOB,
    log2 BLOB,
    mask BLOB,
    segments TEXT CHECK (segments IS NULL OR json_valid(segments)),
    regions TEXT CHECK (regions IS NULL OR json_valid(regions)),
    qc TEXT CHECK (qc IS NULL OR json_valid(qc)),
    tumour_fraction TEXT CHECK (tumour_fraction IS NULL OR json_valid(tumour_fraction)),
    ddpcr TEXT CHECK (ddpcr IS NULL OR json_valid(ddpcr)),
    ratio REAL,
    ratio_low REAL,
    ratio_high REAL,
    log2_ratio REAL,
    se REAL,
    cv REAL,
    z REAL,
    -- amplified / not_detected: a call; insufficient_quality / no_data: a no-call, which the
    -- monitoring engine skips (never a negative draw)
    call TEXT NOT NULL
        CHECK (call IN ('amplified', 'not_detected', 'insufficient_quality', 'no_data')),
    strong INTEGER NOT NULL DEFAULT 0 CHECK (strong IN (0, 1)),
    computed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- why a no-call: JSON {code ("low_depth", "genomic_waves"), reason (a sentence), band_sd,
    -- count_sd, limit, window} (json/result.h); NULL for a call. A no-call has its reason.
    quality TEXT CHECK (quality IS NULL OR json_valid(quality)),
    CHECK (call IN ('amplified', 'not_detected') OR quality IS NOT NULL OR call = 'no_data')
) STRICT;

INSERT INTO results_005 (sample_id, job_id, assay, core_version, pon_id, settings, build,
                         bin_size, counts, log2, mask, segments, regions, qc, tumour_fraction,
                         ddpcr, ratio, ratio_low, ratio_high, log2_ratio, se, cv, z, call, strong,
                         computed_at)
SELECT sample_id, job_id, assay, core_version, pon_id, settings, build, bin_size, counts, log2,
       mask, segments, regions, qc, tumour_fraction, ddpcr, ratio, ratio_low, ratio_high,
       log2_ratio, se, cv, z, call, strong, computed_at
FROM results;

DROP TABLE results;
ALTER TABLE results_005 RENAME TO results;
