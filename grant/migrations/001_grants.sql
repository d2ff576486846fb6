-- Grants: bearer tokens bound to a subject and a policy. Only the SHA-256
-- digest of a grant's current token is kept; the token itself never is.
CREATE TABLE grants (
	id           TEXT PRIMARY KEY,
	token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	subject      TEXT NOT NULL,
	policy       TEXT NOT NULL,
	labels       TEXT NOT NULL DEFAULT '{}', -- JSON object
	servers      TEXT NOT NULL DEFAULT '[]', -- JSON array; empty: every server
	created_at   INTEGER NOT NULL,           -- Unix nanoseconds
	expires_at   INTEGER,                    -- NULL: never
	last_used_at INTEGER,
	rotated_at   INTEGER,
	revoked_at   INTEGER                     -- NULL: not revoked
);

CREATE INDEX grants_created ON grants (created_at, id);
