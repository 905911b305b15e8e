-- One count per thing, and reading what is shown (docs/architecture.md,
-- "The notification centre and the counts").
--
-- Messages: each message now knows whether its recipient has read it, so
-- that a page of /messages marks read exactly the messages it showed. The
-- counters (conversations.unread, users.unread_messages) say how many
-- messages are unread; until now only they knew, and a conversation's unread
-- messages were always its newest ones from the peer, so that is what is
-- marked here. Messages inserted without saying (bulk loads) are read.
ALTER TABLE messages ADD COLUMN unread BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE messages SET unread = TRUE WHERE id IN (
    SELECT id FROM (
        SELECT m.id, c.unread AS n,
            ROW_NUMBER() OVER (PARTITION BY m.recipient_id, m.sender_id ORDER BY m.id DESC) AS k
        FROM conversations c
        JOIN messages m ON m.recipient_id = c.user_id AND m.sender_id = c.peer_id
        WHERE c.unread > 0
    ) newest WHERE k <= n
);
-- The page of received messages still reads from the index alone, read
-- state included.
DROP INDEX messages_received;
CREATE INDEX messages_received ON messages (recipient_id, id, sender_id, created_at, body, unread);
-- A member's unread messages from one peer (opening a conversation), and
-- the whether-still-unread checks, touch only unread rows.
CREATE INDEX messages_unread ON messages (recipient_id, sender_id, id) WHERE unread;

-- The notification centre no longer lists messages: they have the
-- Messages badge, and counting them twice made the two badges disagree.
DELETE FROM activity WHERE kind = 'message';

-- Entries of one kind about one thing, close in time, form a group: one
-- row of the centre. subject_id is the thing (a post, for replies and likes;
-- 0 for mentions, which are about the member). first_at starts the group's
-- window; last_id is its newest entry, by which the centre is ordered and
-- paged.
CREATE TABLE activity_groups (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT    NOT NULL,
    subject_id INTEGER NOT NULL DEFAULT 0,
    first_at   INTEGER NOT NULL,
    last_id    INTEGER NOT NULL,
    entries    INTEGER NOT NULL,
    actors     INTEGER NOT NULL,
    unread     INTEGER NOT NULL
);
CREATE INDEX activity_groups_recent ON activity_groups (user_id, last_id);
CREATE INDEX activity_groups_open ON activity_groups (user_id, kind, subject_id, first_at);

ALTER TABLE activity ADD COLUMN group_id INTEGER REFERENCES activity_groups (id);
ALTER TABLE activity ADD COLUMN unread BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE activity SET unread = TRUE
WHERE id > (SELECT activity_read_id FROM users WHERE users.id = activity.user_id);
-- The history is not regrouped: each earlier entry is a group of its own,
-- numbered as the entry.
INSERT INTO activity_groups (id, user_id, kind, subject_id, first_at, last_id, entries, actors, unread)
SELECT id, user_id, kind, 0, created_at, id, 1, 1, CASE WHEN unread THEN 1 ELSE 0 END FROM activity;
UPDATE activity SET group_id = id;

DROP INDEX activity_user_id;
CREATE INDEX activity_group ON activity (group_id, id);
CREATE INDEX activity_group_actor ON activity (group_id, actor_id);
-- Unread entries by what they are about: opening a post reads its entries,
-- "mark all read" reads them all.
CREATE INDEX activity_unread ON activity (user_id, post_id) WHERE unread;

UPDATE users SET unread_activity = (SELECT count(*) FROM activity a WHERE a.user_id = users.id AND a.unread);
ALTER TABLE users DROP COLUMN activity_read_id;
