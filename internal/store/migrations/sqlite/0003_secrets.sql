-- Values natter makes once and every instance shares (the key that signs
-- notices), and the row the readiness probe writes.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
