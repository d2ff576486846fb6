-- The audit chain: one row per event, in seq order. body is the event's
-- JSON without its hash, exactly the bytes the hash covers; the other
-- columns repeat fields of the body for queries (audit verify checks that
-- they agree). There is no index on id: ids start with their event's time
-- in milliseconds, and Get looks them up through the time index; a random
-- id index would dirty a page per event and halve the append rate.
CREATE TABLE audit_events (
    seq      INTEGER PRIMARY KEY,
    id       TEXT    NOT NULL,
    time     INTEGER NOT NULL, -- Unix nanoseconds
    kind     TEXT    NOT NULL,
    tool     TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    decision TEXT    NOT NULL,
    hash     TEXT    NOT NULL,
    body     BLOB    NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (time);
