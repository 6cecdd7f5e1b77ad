-- Printers an organization prints ID cards on, and the jobs sent to them.
CREATE TABLE printers (
    id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    uri TEXT NOT NULL,
    -- 'card': a card printer, one card per job page; 'sheet': paper, ten cards a page.
    kind TEXT NOT NULL CHECK (kind IN ('card', 'sheet')),
    -- IPP media keyword for card printers; sheets use the paper's keyword.
    media TEXT NOT NULL DEFAULT '',
    paper TEXT NOT NULL DEFAULT 'letter' CHECK (paper IN ('letter', 'a4')),
    dpi INTEGER NOT NULL CHECK (dpi BETWEEN 150 AND 1200),
    bitmap_width INTEGER NOT NULL,
    bitmap_height INTEGER NOT NULL,
    duplex INTEGER NOT NULL DEFAULT 0 CHECK (duplex IN (0, 1)),
    document_format TEXT NOT NULL DEFAULT 'application/pdf',
    created_at TEXT NOT NULL,
    disabled_at TEXT
) STRICT;

CREATE UNIQUE INDEX printers_by_name ON printers (organization_id, name) WHERE disabled_at IS NULL;

CREATE TABLE print_jobs (
    id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    printer_id INTEGER NOT NULL REFERENCES printers(id),
    user_id INTEGER REFERENCES users(id),
    title TEXT NOT NULL,
    card_count INTEGER NOT NULL,
    media TEXT NOT NULL,
    sides TEXT NOT NULL,
    -- The printer's job id once it accepted the job.
    ipp_job_id INTEGER,
    -- 'sending' until the printer answers, then its job-state keyword; 'refused' or 'failed'
    -- when the job never reached it.
    state TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE INDEX print_jobs_recent ON print_jobs (organization_id, id);
CREATE INDEX print_jobs_active ON print_jobs (state)
    WHERE state IN ('sending', 'pending', 'pending-held', 'processing', 'processing-stopped');

CREATE TABLE print_job_cards (
    job_id INTEGER NOT NULL REFERENCES print_jobs(id),
    card_id INTEGER NOT NULL REFERENCES cards(id),
    PRIMARY KEY (job_id, card_id)
) STRICT;
