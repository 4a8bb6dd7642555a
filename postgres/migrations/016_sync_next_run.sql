-- When each provider credential's next background walk is due, shared by
-- replicas: the replica that claims a due walk moves it one interval on, so
-- adding replicas never adds walks.
ALTER TABLE sync_state ADD COLUMN next_run_at timestamptz;
