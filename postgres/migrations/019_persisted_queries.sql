-- Automatic persisted queries (APQ) shared by replicas and kept across
-- restarts: a hash registered on one replica is known to all. Scoped per
-- API key (a hash of it, never the key), so callers never see or evict
-- each other's documents.
CREATE TABLE persisted_queries (
    scope      text        NOT NULL,
    hash       text        NOT NULL,
    query      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, hash)
);
