-- Values the store keeps about itself, e.g. the argument hash key.
CREATE TABLE approval_settings (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
