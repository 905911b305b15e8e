-- natter's first schema. Times are Unix microseconds (INTEGER) in both
-- dialects, so the same SQL and the same Go code serve SQLite and PostgreSQL.

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    username             TEXT    NOT NULL,
    username_key         TEXT    NOT NULL UNIQUE, -- lower(username): unique regardless of case
    email                TEXT    NOT NULL,
    email_key            TEXT    NOT NULL UNIQUE,
    password_hash        TEXT    NOT NULL,
    about_me             TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    last_seen            INTEGER NOT NULL,
    -- Counters kept in step with the rows they count, so a badge never
    -- scans a member's history.
    unread_messages      INTEGER NOT NULL DEFAULT 0,
    unread_activity      INTEGER NOT NULL DEFAULT 0,
    activity_read_id     INTEGER NOT NULL DEFAULT 0,
    last_message_read_at INTEGER NOT NULL DEFAULT 0,
    -- The last notification sequence number handed out to this member.
    notification_seq     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE posts (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX posts_user_id ON posts (user_id, id);

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    sender_id    INTEGER NOT NULL REFERENCES users (id),
    recipient_id INTEGER NOT NULL REFERENCES users (id),
    body         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX messages_recipient_id ON messages (recipient_id, id);
CREATE INDEX messages_pair ON messages (sender_id, recipient_id, id);

-- One row per member and peer: the inbox, newest conversation first.
CREATE TABLE conversations (
    user_id         INTEGER NOT NULL REFERENCES users (id),
    peer_id         INTEGER NOT NULL REFERENCES users (id),
    last_message_id INTEGER NOT NULL REFERENCES messages (id),
    unread          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, peer_id)
);
CREATE INDEX conversations_recent ON conversations (user_id, last_message_id);

-- The seed's notifications: one named value per member, replaced on change.
CREATE TABLE notifications (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    name       TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    data       TEXT    NOT NULL, -- JSON
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, name)
);
CREATE INDEX notifications_seq ON notifications (user_id, seq);
CREATE INDEX notifications_time ON notifications (user_id, created_at);

-- The notification centre: mentions and message arrivals.
CREATE TABLE activity (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT    NOT NULL,
    actor_id   INTEGER NOT NULL REFERENCES users (id),
    post_id    INTEGER REFERENCES posts (id),
    message_id INTEGER REFERENCES messages (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX activity_user_id ON activity (user_id, id);

CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL REFERENCES users (id),
    blocked_id INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

CREATE TABLE sessions (
    token  TEXT    PRIMARY KEY,
    data   BLOB    NOT NULL,
    expiry INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);
