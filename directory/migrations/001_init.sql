-- The directory's schema: users, their identifiers, sessions and the outbox.
-- Timestamps are unix milliseconds. Email addresses, usernames and web3
-- wallets are unique case-insensitively (COLLATE NOCASE; the service also
-- lower-cases them).

CREATE TABLE users (
    id                          TEXT PRIMARY KEY,
    external_id                 TEXT UNIQUE,
    username                    TEXT COLLATE NOCASE UNIQUE,
    first_name                  TEXT,
    last_name                   TEXT,
    locale                      TEXT,
    profile_image_id            TEXT,
    primary_email_address_id    TEXT,
    primary_phone_number_id     TEXT,
    primary_web3_wallet_id      TEXT,
    public_metadata             TEXT NOT NULL DEFAULT '{}',
    private_metadata            TEXT NOT NULL DEFAULT '{}',
    unsafe_metadata             TEXT NOT NULL DEFAULT '{}',
    banned                      INTEGER NOT NULL DEFAULT 0,
    locked                      INTEGER NOT NULL DEFAULT 0,
    delete_self_enabled         INTEGER NOT NULL DEFAULT 1,
    create_organization_enabled INTEGER NOT NULL DEFAULT 1,
    create_organizations_limit  INTEGER,
    bypass_client_trust         INTEGER NOT NULL DEFAULT 0,
    legal_accepted_at           INTEGER,
    last_sign_in_at             INTEGER,
    last_active_at              INTEGER,
    password_last_updated_at    INTEGER,
    mfa_enabled_at              INTEGER,
    mfa_disabled_at             INTEGER,
    password_digest             TEXT NOT NULL DEFAULT '',
    password_hasher             TEXT NOT NULL DEFAULT '',
    password_pending_migration  INTEGER NOT NULL DEFAULT 0,
    totp_secret                 TEXT NOT NULL DEFAULT '',
    backup_codes                TEXT NOT NULL DEFAULT '[]',
    created_at                  INTEGER NOT NULL,
    updated_at                  INTEGER NOT NULL
) STRICT;

CREATE INDEX users_created_at ON users (created_at);

CREATE TABLE email_addresses (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_address TEXT NOT NULL COLLATE NOCASE UNIQUE,
    verified      INTEGER NOT NULL DEFAULT 0,
    reserved      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX email_addresses_user_id ON email_addresses (user_id);

CREATE TABLE phone_numbers (
    id                         TEXT PRIMARY KEY,
    user_id                    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone_number               TEXT NOT NULL UNIQUE,
    verified                   INTEGER NOT NULL DEFAULT 0,
    reserved                   INTEGER NOT NULL DEFAULT 0,
    reserved_for_second_factor INTEGER NOT NULL DEFAULT 0,
    default_second_factor      INTEGER NOT NULL DEFAULT 0,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
) STRICT;

CREATE INDEX phone_numbers_user_id ON phone_numbers (user_id);

CREATE TABLE web3_wallets (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    web3_wallet TEXT NOT NULL COLLATE NOCASE UNIQUE,
    verified    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX web3_wallets_user_id ON web3_wallets (user_id);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    status         TEXT NOT NULL,
    last_active_at INTEGER NOT NULL,
    expire_at      INTEGER NOT NULL,
    abandon_at     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_user_id ON sessions (user_id, status);

-- The outbox keeps notifications after their user is deleted.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
