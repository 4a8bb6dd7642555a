-- Replicas sharing an outbound quota: each running gateway heartbeats one
-- row per provider credential it calls, and divides that credential's
-- documented quota by the number of live rows, so adding replicas never
-- multiplies the load on a vendor.
CREATE TABLE upstream_replicas (
    replica_id text        NOT NULL,
    provider   text        NOT NULL,
    credential text        NOT NULL,
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (replica_id, provider, credential)
);
CREATE INDEX upstream_replicas_seen_at ON upstream_replicas (seen_at);
