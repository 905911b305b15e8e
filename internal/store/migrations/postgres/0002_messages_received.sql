-- The list of received messages reads its rows from the index alone: a
-- member's messages lie together in it, where in the table they are spread
-- among everyone's. It replaces messages_recipient_id, its key columns.
CREATE INDEX messages_received ON messages (recipient_id, id) INCLUDE (sender_id, created_at, body);
DROP INDEX messages_recipient_id;
