-- migrator upgrade base -> o2o2o2o2o2o2 --sql (sqlite)
CREATE TABLE IF NOT EXISTS "migrator_version" (version_num VARCHAR(32) NOT NULL, CONSTRAINT "migrator_version_pkc" PRIMARY KEY (version_num));
CREATE TABLE IF NOT EXISTS "migrator_version_history" (id INTEGER PRIMARY KEY, revision VARCHAR(32) NOT NULL, direction VARCHAR(16) NOT NULL, heads_before TEXT NOT NULL, heads_after TEXT NOT NULL, started_at VARCHAR(40) NOT NULL, duration_ms DOUBLE PRECISION NOT NULL, success INTEGER NOT NULL, source_sha256 VARCHAR(64) NOT NULL, error TEXT NOT NULL, run_by TEXT NOT NULL, run_host TEXT NOT NULL, dirty INTEGER NOT NULL DEFAULT 0);

BEGIN;
-- Running upgrade  -> o1o1o1o1o1o1, create tables
CREATE TABLE "customer" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(80) NOT NULL, "email" TEXT);
CREATE TABLE "invoice" ("id" INTEGER NOT NULL PRIMARY KEY, "customer_id" INTEGER NOT NULL, "number" VARCHAR(20) NOT NULL, "total" NUMERIC(10,2) NOT NULL DEFAULT 0, "issued" DATE, "paid" BOOLEAN DEFAULT FALSE, "extra" JSON, "scan" BLOB, "ratio" REAL, "amount" DOUBLE PRECISION, "big" BIGINT, "created" TIMESTAMP, CONSTRAINT "uq_invoice_number" UNIQUE ("number"), CONSTRAINT "fk_invoice_customer" FOREIGN KEY ("customer_id") REFERENCES "customer" ("id"));
CREATE TABLE "payment" ("id" INTEGER NOT NULL PRIMARY KEY, "invoice_id" INTEGER NOT NULL, "amount" NUMERIC(10,2), CONSTRAINT "fk_payment_invoice" FOREIGN KEY ("invoice_id") REFERENCES "invoice" ("id") ON DELETE CASCADE);
CREATE INDEX "ix_invoice_customer_number" ON "invoice" ("customer_id", "number");
CREATE UNIQUE INDEX "ux_payment_invoice_amount" ON "payment" ("invoice_id", "amount");
INSERT INTO customer (id, name, email) VALUES (1, 'ann', 'ann@example.com'), (2, 'bob', 'bob@example.com');
INSERT INTO invoice (id, customer_id, number, total, issued) VALUES (1, 1, 'A-1', 10.5, '2026-01-02'), (2, 2, 'B-1', 20, '2026-01-03');
INSERT INTO payment (id, invoice_id, amount) VALUES (1, 1, 5), (2, 1, 5.5), (3, 2, 20);
INSERT INTO "migrator_version" (version_num) VALUES ('o1o1o1o1o1o1');
INSERT INTO "migrator_version_history" (revision, direction, heads_before, heads_after, started_at, duration_ms, success, source_sha256, error, run_by, run_host, dirty) VALUES ('o1o1o1o1o1o1', 'upgrade', '', 'o1o1o1o1o1o1', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 0, 1, '<sha256>', '', 'offline SQL', 'offline SQL', 0);
COMMIT;

BEGIN;
-- Running upgrade o1o1o1o1o1o1 -> o2o2o2o2o2o2, rename and add
ALTER TABLE "customer" RENAME TO "client";
ALTER TABLE "invoice" ADD COLUMN "note" TEXT;
ALTER TABLE "invoice" RENAME COLUMN "note" TO "memo";
ALTER TABLE "invoice" ADD COLUMN "legacy" VARCHAR(10) NOT NULL DEFAULT 'none';
CREATE INDEX "ix_invoice_legacy" ON "invoice" ("legacy");
CREATE UNIQUE INDEX "ux_client_name" ON "client" ("name");
UPDATE invoice SET memo = 'first' WHERE id = 1;
DELETE FROM "migrator_version" WHERE version_num = 'o1o1o1o1o1o1';
INSERT INTO "migrator_version" (version_num) VALUES ('o2o2o2o2o2o2');
INSERT INTO "migrator_version_history" (revision, direction, heads_before, heads_after, started_at, duration_ms, success, source_sha256, error, run_by, run_host, dirty) VALUES ('o2o2o2o2o2o2', 'upgrade', 'o1o1o1o1o1o1', 'o2o2o2o2o2o2', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 0, 1, '<sha256>', '', 'offline SQL', 'offline SQL', 0);
COMMIT;

