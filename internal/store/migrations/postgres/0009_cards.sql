-- What the hover card shows (issue 16).

-- How many posts a member has, kept in step by creating a post and deleting
-- an account (and deleting a post), so the card never counts a member's
-- posts. Backfilled once here, through posts_user_id.
ALTER TABLE users ADD COLUMN post_count BIGINT NOT NULL DEFAULT 0;
UPDATE users SET post_count = (SELECT count(*) FROM posts WHERE posts.user_id = users.id AND posts.deleted_at = 0);

-- A member may hide when they were last seen from everyone else (a
-- setting on /edit-profile); they always see it themselves.
ALTER TABLE users ADD COLUMN hide_last_seen BOOLEAN NOT NULL DEFAULT FALSE;
