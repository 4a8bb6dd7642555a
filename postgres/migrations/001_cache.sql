-- The record store: list pages, records and look-ups, keyed by provider,
-- credential identity (a hash, never the secret) and what was asked.
CREATE TABLE cache_entries (
    key        text        PRIMARY KEY,
    provider   text        NOT NULL,
    credential text        NOT NULL,
    kind       text        NOT NULL,
    record_id  text        NOT NULL DEFAULT '',
    body       bytea       NOT NULL,
    stored_at  timestamptz NOT NULL
);
CREATE INDEX cache_entries_scope ON cache_entries (provider, credential, kind, record_id);
CREATE INDEX cache_entries_stored_at ON cache_entries (stored_at);

-- The identity index: every customer record the gateway has seen, with its
-- normalized email and the cross-references it carries.
CREATE TABLE identities (
    provider   text        NOT NULL,
    credential text        NOT NULL,
    vendor_id  text        NOT NULL,
    email      text        NOT NULL DEFAULT '',
    refs       jsonb       NOT NULL DEFAULT '[]',
    updated_at timestamptz,
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (provider, credential, vendor_id)
);
CREATE INDEX identities_email ON identities (email) WHERE email <> '';

-- Where each provider credential's background sync stands.
CREATE TABLE sync_state (
    provider    text        NOT NULL,
    credential  text        NOT NULL,
    complete    boolean     NOT NULL DEFAULT false,
    last_run_at timestamptz,
    last_error  text,
    PRIMARY KEY (provider, credential)
);
