-- 003_pipeline: the ingestion pipeline: uploaded inputs, the persistent job queue, panels of
-- normals and the per-sample results the jobs store (server/jobs.c, server/pipeline.c).
-- Applied by server/migrate.c inside one transaction (no BEGIN/COMMIT here).
-- Files live in the daemon's --data-dir; paths stored here are relative to it, so the folder can
-- move with its database.

-- The panels of normals the daemon knows; at most one is active (the partial unique index).
CREATE TABLE pons (
    id INTEGER PRIMARY KEY,
    -- a label given by the admin (defaults to pon_key)
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    -- the panel's own id from its file ("pon-hg38-500kb-n10-1a2b3c4d"): versions.pon of a result
    pon_key TEXT NOT NULL,
    build TEXT NOT NULL CHECK (build IN ('hg38', 'hg19')),
    bin_size INTEGER NOT NULL CHECK (bin_size > 0),
    -- counting filters of the normals ("mapq=20;flags=0xF04;..."): samples must match them
    filters TEXT NOT NULL,
    n_normals INTEGER NOT NULL CHECK (n_normals > 0),
    -- lowercase hex SHA-256 of the file: uploading the same panel twice is a no-op
    checksum TEXT NOT NULL UNIQUE CHECK (length(checksum) = 64),
    -- the PoN file (core/pon.h format), relative to the data folder
    path TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- 1 for the panel every new analysis uses
    active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
) STRICT;
-- at most one active panel: a second row with active = 1 violates this index
CREATE UNIQUE INDEX pons_one_active ON pons (active) WHERE active = 1;

-- The input of a sample as uploaded (one per sample; a re-upload after a failure replaces it).
CREATE TABLE sample_inputs (
    sample_id INTEGER PRIMARY KEY REFERENCES samples (id),
    kind TEXT NOT NULL CHECK (kind IN ('reads', 'bins', 'ddpcr')),
    -- the uploaded file relative to the data folder; NULL for ddpcr (the wells are in `ddpcr`)
    path TEXT,
    -- lowercase hex SHA-256 of the uploaded bytes: same checksum = no-op, another = conflict
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    size INTEGER NOT NULL CHECK (size >= 0),
    -- build read from the BAM header or the bins file; NULL for ddpcr
    build TEXT CHECK (build IS NULL OR build IN ('hg38', 'hg19')),
    uploaded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- ddPCR wells as uploaded (JSON), NULL otherwise
    ddpcr TEXT CHECK (ddpcr IS NULL OR json_valid(ddpcr)),
    -- bins counted from the reads (relative path): kept so a PoN can be built from a sample, or
    -- a call re-run, without counting the reads again even when the analysis itself failed
    counts_path TEXT
) STRICT;

-- The job queue. Workers claim the oldest queued job atomically; a job found 'running' at
-- start-up (the daemon stopped or crashed under it) goes back to 'queued'.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    -- analyse: from the uploaded input; recall: re-run the call from the stored bin counts
    kind TEXT NOT NULL CHECK (kind IN ('analyse', 'recall')),
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- percent done of the current attempt
    progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    -- why the last attempt failed (state 'failed'); NULL otherwise
    error TEXT,
    -- attempts started (a run cut by a crash counts too)
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    started_at TEXT,
    finished_at TEXT
) STRICT;
-- workers look for the oldest queued job; GET /jobs?state= lists by state
CREATE INDEX jobs_state ON jobs (state, id);
-- the jobs of one sample (upload answers, PoN activation)
CREATE INDEX jobs_sample ON jobs (sample_id, id);

-- The result of a sample's last successful job. Per-bin arrays are little-endian float32 BLOBs
-- (bins->n values in the layout order of core/bins.h: chr1..chr22, chrX[, chrY]).
CREATE TABLE results (
    sample_id INTEGER PRIMARY KEY REFERENCES samples (id),
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    assay TEXT NOT NULL CHECK (assay IN ('swgs', 'bins', 'ddpcr')),
    core_version TEXT NOT NULL,
    -- the panel used (NULL for ddPCR)
    pon_id INTEGER REFERENCES pons (id),
    -- JSON of the options used (filters, thresholds, primary copy number, include_y)
    settings TEXT NOT NULL CHECK (json_valid(settings)),
    build TEXT,        -- NULL for ddPCR
    bin_size INTEGER,  -- NULL for ddPCR
    -- raw per-bin counts, float32 LE, NaN = absent (what a 'recall' job re-runs from)
    counts BLOB,
    -- per-bin log2 ratio to the panel, float32 LE, NaN = masked or no data
    log2 BLOB,
    -- per-bin mask bits of the panel (core/pon.h RW_PON_MASK_*), one byte per bin
    mask BLOB,
    -- JSON array of segments {chrom, start, end, n_bins, mean, call}
    segments TEXT CHECK (segments IS NULL OR json_valid(segments)),
    -- JSON array of region scores {name, chrom, start, end, mean_log2, se, z, ratio, ...}
    regions TEXT CHECK (regions IS NULL OR json_valid(regions)),
    qc TEXT CHECK (qc IS NULL OR json_valid(qc)),
    -- JSON {estimate, low, high, method, flag, ...} or NULL when not estimated
    tumour_fraction TEXT CHECK (tumour_fraction IS NULL OR json_valid(tumour_fraction)),
    -- JSON of the ddPCR computation (cn, cn_low, cn_high, wells, flags) or NULL
    ddpcr TEXT CHECK (ddpcr IS NULL OR json_valid(ddpcr)),
    -- 1q21.3 copy ratio: sWGS 2^mean log2, ddPCR CN/2 (0 when no target droplet was positive)
    ratio REAL,
    ratio_low REAL,  -- 95% interval of the ratio
    ratio_high REAL,
    log2_ratio REAL, -- log2 of the ratio (the 1q21.3 mean log2 for sWGS)
    se REAL,         -- SE of the 1q21.3 mean log2 (sWGS); NULL for ddPCR
    cv REAL,         -- analytical CV of the ratio (the RCV's CV_A)
    z REAL,          -- z-score against the panel (sWGS); NULL for ddPCR
    call TEXT NOT NULL CHECK (call IN ('amplified', 'not_detected')),
    strong INTEGER NOT NULL DEFAULT 0 CHECK (strong IN (0, 1)),
    computed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
