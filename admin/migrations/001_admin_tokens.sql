-- Admin tokens: bearer tokens of the admin API, each bound to a subject
-- and a role. Only the SHA-256 digest of a token is kept.
CREATE TABLE admin_tokens (
	id         TEXT PRIMARY KEY,
	token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	subject    TEXT NOT NULL,
	role       TEXT NOT NULL CHECK (role IN ('admin', 'policy_manager', 'viewer')),
	created_at INTEGER NOT NULL, -- Unix nanoseconds
	revoked_at INTEGER           -- NULL: not revoked
);

CREATE INDEX admin_tokens_created ON admin_tokens (created_at, id);
