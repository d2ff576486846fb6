-- Admin tokens may expire, as grants do. Existing tokens keep working:
-- the new column is NULL for them, which means "never".
ALTER TABLE admin_tokens ADD COLUMN expires_at INTEGER; -- Unix nanoseconds; NULL: never
