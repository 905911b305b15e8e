-- What members do with posts (issue 15): reply, like, edit, delete.
--
-- A reply names the post it answers (reply_to; no foreign key: when an
-- account is deleted its posts go, and replies to them say they answer a
-- deleted post). A post keeps its counts of likes and replies, kept in step
-- by the transactions that change them, so no page counts rows. edited_at
-- is when it was last edited (0: never); deleted_at when its author deleted
-- it (0: not deleted): a deleted post keeps its row, emptied, so that its
-- page can say it was deleted and its replies still say what they answer.
ALTER TABLE posts ADD COLUMN reply_to   INTEGER;
ALTER TABLE posts ADD COLUMN likes      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN replies    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN edited_at  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;
-- A post's replies, oldest first.
CREATE INDEX posts_replies ON posts (reply_to, id);

-- Who liked what: one row per member and post. The primary key finds a
-- member's like of a post; likes_user the posts of a page a member liked.
CREATE TABLE likes (
    post_id    INTEGER NOT NULL REFERENCES posts (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX likes_user ON likes (user_id, post_id);

-- The earlier texts of edited posts, shown on the post's page: written_at
-- is when that text was posted (or edited in).
CREATE TABLE post_versions (
    id         INTEGER PRIMARY KEY,
    post_id    INTEGER NOT NULL REFERENCES posts (id),
    body       TEXT    NOT NULL,
    written_at INTEGER NOT NULL
);
CREATE INDEX post_versions_post ON post_versions (post_id, id);

-- A deleted post's entries in the notification centre are withdrawn.
CREATE INDEX activity_post ON activity (post_id);
