-- What members control of their accounts (issue 14).

-- Site secrets made on first start, shared by every instance: the key that
-- signs device cookies.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- The login sessions a member sees on /settings/sessions and can end. token
-- is the session's token in the sessions table (scs's); a session whose
-- row here is gone, or idle too long, is logged out.
CREATE TABLE logins (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    token       TEXT    NOT NULL UNIQUE,
    remember    INTEGER NOT NULL, -- 1: "remember me"
    user_agent  TEXT    NOT NULL,
    address     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    last_active INTEGER NOT NULL
);
CREATE INDEX logins_user ON logins (user_id, last_active);
CREATE INDEX logins_last_active ON logins (last_active);

-- Names members had before they renamed themselves, kept for them: the old
-- profile URL and old @mentions lead to the new name, and nobody else can
-- register or take the name.
CREATE TABLE former_names (
    name_key   TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    renamed_at INTEGER NOT NULL
);
CREATE INDEX former_names_user ON former_names (user_id);

-- A deleted account keeps its row, emptied, so that its name stays taken
-- and the messages it sent keep a sender (docs/operations.md).
ALTER TABLE users ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;
