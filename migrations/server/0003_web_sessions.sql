-- Staff sign-in: server-side sessions and failed sign-in attempts (DESIGN §13).

-- A session is known by the SHA-256 of its cookie value; the value itself is never stored.
CREATE TABLE sessions (
    id BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed sign-ins by username (lower-cased), for throttling; old rows are pruned on sign-in.
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX sign_in_failures_by_name ON sign_in_failures (username, at);

-- Find client by the last four digits of the SSN, on a million clients.
CREATE INDEX clients_by_ssn4 ON clients (substr(ssn, 6, 4)) WHERE ssn IS NOT NULL;
