-- People: each synced record's person (one connected group of the identity
-- graph, by the rules links follow), named by its anchor (the group's first
-- record). scope_set names the configuration (its provider credentials) the
-- groups were computed over: two configurations on one database group apart.
CREATE TABLE synced_people (
    scope_set  text NOT NULL,
    provider   text NOT NULL,
    credential text NOT NULL,
    vendor_id  text NOT NULL COLLATE "C",
    person     text NOT NULL COLLATE "C",  -- anchor: rank, ':', vendor id
    PRIMARY KEY (scope_set, provider, credential, vendor_id)
);
CREATE INDEX synced_people_person ON synced_people (scope_set, person);
