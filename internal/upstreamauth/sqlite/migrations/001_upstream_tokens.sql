-- Sealed OAuth tokens of upstream servers, by server name: AES-256-GCM
-- ciphertext only, never a token in the clear.
CREATE TABLE upstream_tokens (
    server     TEXT PRIMARY KEY,
    sealed     BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);
