-- The cross-references of each indexed record, one row per external id, so
-- "which records point at this id" is an index lookup, not a scan of jsonb.
CREATE TABLE identity_refs (
    provider    text NOT NULL,
    credential  text NOT NULL,
    vendor_id   text NOT NULL,
    source_id   text NOT NULL,
    external_id text NOT NULL,
    FOREIGN KEY (provider, credential, vendor_id) REFERENCES identities ON DELETE CASCADE
);
CREATE INDEX identity_refs_external ON identity_refs (external_id);
CREATE INDEX identity_refs_owner ON identity_refs (provider, credential, vendor_id);
