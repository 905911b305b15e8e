-- What members control of their accounts (issue 14).

-- The key that signs device cookies is a row of secrets (0003).

-- What a member sees of each of their login sessions on /settings/sessions.
-- The session store (scs) writes token, data and expiry; natter writes these
-- when the member logs in, and last_active and idle_until as they use it. A
-- session whose idle_until has passed is gone: it is never found again.
ALTER TABLE sessions ADD COLUMN user_id     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN remember    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN user_agent  TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN address     TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN created_at  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_active INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN idle_until  INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sessions_user ON sessions (user_id);
-- Sessions idle past their limit are swept through this (DeleteExpired).
CREATE INDEX sessions_idle ON sessions (idle_until);

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
