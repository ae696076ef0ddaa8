-- migrator upgrade base -> head --sql (postgresql)
CREATE TABLE IF NOT EXISTS "migrator_version" (version_num VARCHAR(32) NOT NULL, CONSTRAINT "migrator_version_pkc" PRIMARY KEY (version_num));
CREATE TABLE IF NOT EXISTS "migrator_version_history" (id BIGSERIAL PRIMARY KEY, revision VARCHAR(32) NOT NULL, direction VARCHAR(16) NOT NULL, heads_before TEXT NOT NULL, heads_after TEXT NOT NULL, started_at VARCHAR(40) NOT NULL, duration_ms DOUBLE PRECISION NOT NULL, success INTEGER NOT NULL, source_sha256 VARCHAR(64) NOT NULL, error TEXT NOT NULL, run_by TEXT NOT NULL, run_host TEXT NOT NULL, dirty INTEGER NOT NULL DEFAULT 0);

BEGIN;
-- Running upgrade  -> a1a1a1a1a1a1, create item
CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO "migrator_version" (version_num) VALUES ('a1a1a1a1a1a1');
INSERT INTO "migrator_version_history" (revision, direction, heads_before, heads_after, started_at, duration_ms, success, source_sha256, error, run_by, run_host, dirty) VALUES ('a1a1a1a1a1a1', 'upgrade', '', 'a1a1a1a1a1a1', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 0, 1, '<sha256>', '', current_user, 'offline SQL', 0);
COMMIT;

BEGIN;
-- Running upgrade a1a1a1a1a1a1 -> b2b2b2b2b2b2, add price to item
ALTER TABLE item ADD COLUMN price INTEGER NOT NULL DEFAULT 0;
DELETE FROM "migrator_version" WHERE version_num = 'a1a1a1a1a1a1';
INSERT INTO "migrator_version" (version_num) VALUES ('b2b2b2b2b2b2');
INSERT INTO "migrator_version_history" (revision, direction, heads_before, heads_after, started_at, duration_ms, success, source_sha256, error, run_by, run_host, dirty) VALUES ('b2b2b2b2b2b2', 'upgrade', 'a1a1a1a1a1a1', 'b2b2b2b2b2b2', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 0, 1, '<sha256>', '', current_user, 'offline SQL', 0);
COMMIT;

BEGIN;
-- Running upgrade b2b2b2b2b2b2 -> c3c3c3c3c3c3, index item name
CREATE INDEX ix_item_name ON item (name);
DELETE FROM "migrator_version" WHERE version_num = 'b2b2b2b2b2b2';
INSERT INTO "migrator_version" (version_num) VALUES ('c3c3c3c3c3c3');
INSERT INTO "migrator_version_history" (revision, direction, heads_before, heads_after, started_at, duration_ms, success, source_sha256, error, run_by, run_host, dirty) VALUES ('c3c3c3c3c3c3', 'upgrade', 'b2b2b2b2b2b2', 'c3c3c3c3c3c3', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 0, 1, '<sha256>', '', current_user, 'offline SQL', 0);
COMMIT;

