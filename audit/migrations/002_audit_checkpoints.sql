-- Values the audit log keeps about itself: the checkpoint signing key.
CREATE TABLE audit_settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
-- One row per prune: the events from_seq..seq were deleted, and the
-- remaining chain continues from hash, the hash of the event at seq.
-- signature is the HMAC-SHA256 (hex) of the other columns under the
-- checkpoint key in audit_settings (see checkpointMessage).
CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    from_seq  INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    hash      TEXT    NOT NULL,
    pruned    INTEGER NOT NULL,
    time      INTEGER NOT NULL, -- Unix nanoseconds
    signature TEXT    NOT NULL
);
