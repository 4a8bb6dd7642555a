-- The synced store: every record a complete sync walk read, with the columns
-- the synced read path sorts, filters and counts by, so an orderBy, search or
-- totalCount over every synced provider is one query. Rows are versioned
-- (valid_from/valid_to): a change closes the old version and adds a new one,
-- so a walk reads one snapshot (its cursor carries the snapshot time) and
-- never sees a record twice while the sync writes.
--
-- pg_trgm is database-wide: it is created once, in public, under a lock that
-- spans schemas (tests migrate many schemas of one database at once). A role
-- that may not create it still gets the synced store, searched without the
-- trigram indexes (slower over large stores, the same answers).
SELECT pg_advisory_xact_lock(hashtext('gateway-extensions'));
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
    RAISE NOTICE 'pg_trgm is not available (%): synced search runs without trigram indexes', SQLERRM;
END $$;

CREATE TABLE synced_customers (
    provider   text        NOT NULL,
    credential text        NOT NULL,
    vendor_id  text        NOT NULL COLLATE "C",
    rank       smallint    NOT NULL,  -- the provider's enum position: ties sort by it
    valid_from timestamptz NOT NULL,
    valid_to   timestamptz NOT NULL DEFAULT 'infinity',
    seen_at    timestamptz NOT NULL,  -- last walk that read this version
    digest     text        NOT NULL,  -- hash of body: an unchanged record keeps its version
    name_key   text        COLLATE "C",  -- folded (lower case, no accents) name; NULL without one
    email_key  text        COLLATE "C",  -- folded email (search, EMAIL order)
    email      text,                  -- lower-cased email (the exact email filter)
    country    text,                  -- upper-case ISO code
    created_at timestamptz,
    updated_at timestamptz,
    body       bytea       NOT NULL,  -- the mapped record, JSON
    PRIMARY KEY (provider, credential, vendor_id, valid_from)
);
CREATE UNIQUE INDEX synced_customers_current ON synced_customers (provider, credential, vendor_id) WHERE valid_to = 'infinity';
CREATE INDEX synced_customers_name ON synced_customers (name_key, rank, vendor_id);
CREATE INDEX synced_customers_email ON synced_customers (email_key, rank, vendor_id);
CREATE INDEX synced_customers_created ON synced_customers (created_at, rank, vendor_id);
CREATE INDEX synced_customers_updated ON synced_customers (updated_at, rank, vendor_id);
CREATE INDEX synced_customers_order ON synced_customers (rank, vendor_id);
-- Records without a value of an order field, in tie order (they sort last).
CREATE INDEX synced_customers_no_name ON synced_customers (rank, vendor_id) WHERE name_key IS NULL;
CREATE INDEX synced_customers_no_email ON synced_customers (rank, vendor_id) WHERE email_key IS NULL;
CREATE INDEX synced_customers_no_created ON synced_customers (rank, vendor_id) WHERE created_at IS NULL;
CREATE INDEX synced_customers_no_updated ON synced_customers (rank, vendor_id) WHERE updated_at IS NULL;
-- Counts read the scope and snapshot columns alone.
CREATE INDEX synced_customers_scope ON synced_customers (provider, credential, valid_to, valid_from);
CREATE INDEX synced_customers_email_exact ON synced_customers (email);
CREATE INDEX synced_customers_valid_to ON synced_customers (valid_to) WHERE valid_to <> 'infinity';
-- Trigram indexes for search, with the operator class from wherever pg_trgm
-- lives (public, unless it was installed elsewhere before).
DO $$
DECLARE ops text;
BEGIN
    SELECT format('%I.gin_trgm_ops', n.nspname) INTO ops
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
    IF ops IS NOT NULL THEN
        EXECUTE format('CREATE INDEX synced_customers_name_trgm ON synced_customers USING gin (name_key %s)', ops);
        EXECUTE format('CREATE INDEX synced_customers_email_trgm ON synced_customers USING gin (email_key %s)', ops);
    END IF;
END $$;

-- When each provider credential's last complete walk started: the synced
-- read path serves a provider only while this is recent enough.
CREATE TABLE synced_walks (
    provider    text        NOT NULL,
    credential  text        NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    PRIMARY KEY (provider, credential)
);
