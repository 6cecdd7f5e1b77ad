-- Guests served without a card and without a record ("+ Guest without card" at the kiosk):
-- counted per batch, so the reports and the plain services file show them as a line of their
-- own. A station sends its count again and again; the larger one stands.
ALTER TABLE batches ADD COLUMN anonymous INTEGER NOT NULL DEFAULT 0
    CHECK (anonymous BETWEEN 0 AND 100000);
