-- Email (issue 12): verified addresses, single-use links, and what the
-- email channel needs of the outbox.

-- users.email is the member's address; email_verified says it was proved
-- by a link. With email on, a new or changed address waits in
-- pending_email until its link is followed.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN pending_email  TEXT    NOT NULL DEFAULT '';

-- Links sent by email (verify an address, reset a password). Only the
-- SHA-256 of the token is kept; a row is deleted when it is used.
CREATE TABLE email_tokens (
    token_hash TEXT    PRIMARY KEY,
    purpose    TEXT    NOT NULL,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    address    TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);

-- An email groups what is due for a member: the job that sends it leads
-- the group (mail_group = its id), and sending_at marks the moment the
-- SMTP server may have taken it (see docs/operations.md, "Email").
ALTER TABLE outbox ADD COLUMN mail_group BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sending_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_member_channel ON outbox (user_id, channel, due_at);

-- Notification emails sent per member per UTC day, for the daily cap.
CREATE TABLE mail_counts (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    day     BIGINT NOT NULL,
    sent    BIGINT NOT NULL
);

-- The digest (off, daily or weekly) of what waits for a member away more
-- than a week, and when the next one is due (0: off).
ALTER TABLE notification_settings ADD COLUMN digest        TEXT NOT NULL DEFAULT '';
ALTER TABLE notification_settings ADD COLUMN digest_due_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX notification_settings_digest ON notification_settings (digest_due_at) WHERE digest_due_at > 0;
