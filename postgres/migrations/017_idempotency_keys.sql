-- Mutations' idempotency keys: the key (hashed with the caller's scope), the
-- fingerprint of the request that first used it and, once known, its
-- outcome. Kept 24 hours; a running claim older than its lease may be taken
-- over (its replica died mid-write).
CREATE TABLE idempotency_keys (
    key         text        PRIMARY KEY,
    fingerprint text        NOT NULL,
    done        boolean     NOT NULL DEFAULT false,
    outcome     bytea,
    claimed_at  timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_claimed_at ON idempotency_keys (claimed_at);
