-- Every door keeps the same rules (DESIGN §13).

-- Sign-ins: failures remember the address they came from, and each user's addresses that
-- signed in successfully are known, so a username locked by someone else's guesses still
-- opens with the right password from the desk its owner uses.
ALTER TABLE sign_in_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE TABLE sign_in_known_addresses (
    user_id INTEGER NOT NULL REFERENCES users(id),
    address TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (user_id, address)
) STRICT;

-- An entry a station uploaded after its batch was closed (an offline station catching up):
-- kept and judged like any other, never lost, but held for staff to review and post.
ALTER TABLE batch_entries ADD COLUMN late INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1));
