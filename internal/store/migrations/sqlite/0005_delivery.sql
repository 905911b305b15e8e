-- The delivery engine (DESIGN.md §8): push subscriptions, the outbox of
-- what is owed to which channel, what was pushed where (so reading closes
-- it), preferences, the site's keys, and which members have a page open on
-- which instance (PostgreSQL only; the table is empty on SQLite).

CREATE TABLE push_subscriptions (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    endpoint        TEXT    NOT NULL UNIQUE,
    p256dh          TEXT    NOT NULL,
    auth            TEXT    NOT NULL,
    user_agent      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    last_success_at INTEGER NOT NULL DEFAULT 0,
    failing_since   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- One row per thing owed: a push job per subscription, a job of another
-- channel per member. A row is taken by setting its lease; it is deleted
-- when done, and its next attempt moved on when it must wait.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    channel         TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    item_id         INTEGER NOT NULL,
    tag             TEXT    NOT NULL,
    subscription_id INTEGER REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    data            TEXT    NOT NULL DEFAULT '', -- a read job's tags, JSON
    due_at          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_next ON outbox (next_attempt_at);
CREATE INDEX outbox_owed ON outbox (user_id, kind, tag);
CREATE INDEX outbox_subscription ON outbox (subscription_id);

-- What was pushed to which subscription, by tag: reading closes it there.
CREATE TABLE push_sent (
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    tag             TEXT    NOT NULL,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    sent_at         INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, tag)
);
CREATE INDEX push_sent_user_tag ON push_sent (user_id, tag);

-- Per kind and channel; a missing row is the default (pushed, emailed when away).
CREATE TABLE notification_prefs (
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind    TEXT    NOT NULL,
    push    INTEGER NOT NULL,
    email   TEXT    NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE notification_settings (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id),
    quiet_from INTEGER NOT NULL DEFAULT 0, -- minutes after midnight
    quiet_to   INTEGER NOT NULL DEFAULT 0,
    time_zone  TEXT    NOT NULL DEFAULT '',
    previews   INTEGER NOT NULL DEFAULT 1
);

-- The VAPID key pair is a row of secrets (0003), made on first start.

CREATE TABLE presence (
    instance   TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (instance, user_id)
);
CREATE INDEX presence_user ON presence (user_id, expires_at);
