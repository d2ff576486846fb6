CREATE TABLE approvals (
	id         TEXT PRIMARY KEY,
	tool       TEXT NOT NULL,
	server     TEXT NOT NULL DEFAULT '',
	subject    TEXT NOT NULL DEFAULT '',
	grant_id   TEXT NOT NULL DEFAULT '',
	session    TEXT NOT NULL DEFAULT '',
	rule       TEXT NOT NULL DEFAULT '',
	args       TEXT NOT NULL DEFAULT '{}',
	args_hash  TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
	created_at INTEGER NOT NULL, -- Unix nanoseconds
	expires_at INTEGER NOT NULL,
	decided_at INTEGER,
	decided_by TEXT NOT NULL DEFAULT '',
	reason     TEXT NOT NULL DEFAULT '',
	used_at    INTEGER          -- set when the approval released a call
);

CREATE INDEX approvals_created ON approvals (created_at DESC, id DESC);
CREATE INDEX approvals_status_created ON approvals (status, created_at DESC, id DESC);
CREATE INDEX approvals_take ON approvals (tool, subject, args_hash) WHERE status = 'approved' AND used_at IS NULL;
