// End to end: revisions written with the portable operations (fixture scenario "operations"), run
// by the real migrator on SQLite and PostgreSQL, the result read back with introspection.hpp.
#include <algorithm>
#include <catch2/catch.hpp>
#include <migrator/schema/introspection.hpp>

#include "database_context.hpp"
#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

/// The application's schema as lines (migrator's own tables left out).
std::vector<std::string> introspected(const Sandbox& sandbox) {
    DatabaseContext db(sandbox.url());
    return schema_lines(migrator::introspect_schema(
        db.context(), {"migrator_version", "migrator_version_history", "migrator_version_plugins",
                       "migrator_version_signed"}));
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
}

}  // namespace

TEST_CASE("portable operations run on both backends, keep the rows, and downgrade undoes them",
          "[e2e][operations]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const bool pg = backend == "postgresql";
    Sandbox sandbox(backend, fixture_dir("operations"));
    // SQLite keeps no constraint names; PostgreSQL reports them, and casts its defaults.
    const auto named = [&](const std::string& name) { return pg ? "'" + name + "'" : "''"; };

    REQUIRE(sandbox.migrator({"upgrade", "o2o2o2o2o2o2"}).exit_code == 0);
    const auto before = introspected(sandbox);
    CHECK(has_line(before, "table client"));
    CHECK(!has_line(before, "table customer"));
    CHECK(has_line(before, "column invoice.memo TEXT null"));
    CHECK(has_line(before, "column invoice.legacy VARCHAR(10) not null default 'none'" +
                               std::string(pg ? "::character varying" : "")));
    CHECK(has_line(before, "column client.id INTEGER not null autoincrement"));
    CHECK(has_line(before, "foreign key invoice " + named("fk_invoice_customer") +
                               " (customer_id) -> client (id)"));
    CHECK(has_line(before, "index ix_invoice_legacy on invoice (legacy)"));
    CHECK(has_line(before, "index ux_client_name on client (name) unique"));

    const auto up = sandbox.migrator({"upgrade", "head"});
    INFO(up.err);
    REQUIRE(up.exit_code == 0);
    const auto after = introspected(sandbox);
    CHECK(has_line(after, "column invoice.total NUMERIC(12, 2) not null default 0"));
    CHECK(has_line(
        after, "column invoice.memo TEXT not null default ''" + std::string(pg ? "::text" : "")));
    CHECK(has_line(after, "column invoice.stamped TIMESTAMP not null default CURRENT_TIMESTAMP"));
    CHECK(has_line(after, "column invoice.approver_id INTEGER null"));
    CHECK(!has_line(before, "column invoice.stamped TIMESTAMP not null default CURRENT_TIMESTAMP"));
    CHECK(std::none_of(after.begin(), after.end(), [](const std::string& line) {
        return line.find("legacy") != std::string::npos;
    }));
    CHECK(has_line(after, "unique client " + named("uq_client_email") + " (email)"));
    CHECK(has_line(after, "foreign key invoice " + named("fk_invoice_approver") +
                              " (approver_id) -> client (id) on delete SET NULL"));
    CHECK(has_line(after, "foreign key invoice " + named("fk_invoice_customer") +
                              " (customer_id) -> client (id) on delete CASCADE"));
    CHECK(has_line(after, "unique invoice " + named("uq_invoice_number") + " (number)"));
    // The tables' own indexes, and other tables' keys into the rebuilt tables, are all there.
    CHECK(has_line(after, "index ix_invoice_customer_number on invoice (customer_id, number)"));
    CHECK(has_line(after, "index ux_client_name on client (name) unique"));
    CHECK(
        has_line(after, "index ux_payment_invoice_amount on payment (invoice_id, amount) unique"));
    CHECK(has_line(after, "foreign key payment " + named("fk_payment_invoice") +
                              " (invoice_id) -> invoice (id) on delete CASCADE"));
    // Every row survived, ON DELETE CASCADE from payment into invoice and from invoice into
    // client notwithstanding.
    CHECK(sandbox.column("SELECT name || ' ' || email FROM client ORDER BY id") ==
          std::vector<std::string>{"ann ann@example.com", "bob bob@example.com"});
    CHECK(sandbox.column("SELECT number || ' ' || customer_id || ' ' || memo || ' ' || issued "
                         "FROM invoice ORDER BY id") ==
          std::vector<std::string>{"A-1 1 first 2026-01-02", "B-1 2  2026-01-03"});
    CHECK(sandbox.column("SELECT CAST(total * 10 AS INTEGER) FROM invoice ORDER BY id") ==
          std::vector<std::string>{"105", "200"});
    CHECK(sandbox.column("SELECT invoice_id FROM payment ORDER BY id") ==
          std::vector<std::string>{"1", "1", "2"});
    CHECK(sandbox.column("SELECT count(*) FROM invoice WHERE stamped IS NOT NULL") ==
          std::vector<std::string>{"2"});
    if (!pg)
        CHECK(sandbox.column("SELECT count(*) FROM pragma_foreign_key_check") ==
              std::vector<std::string>{"0"});

    SECTION("downgrade -1 gives back the schema before o3, and downgrade base none") {
        const auto down = sandbox.migrator({"downgrade", "-1"});
        INFO(down.err);
        REQUIRE(down.exit_code == 0);
        CHECK(introspected(sandbox) == before);
        CHECK(sandbox.column("SELECT count(*) FROM payment") == std::vector<std::string>{"3"});
        if (!pg)
            CHECK(sandbox.column("SELECT count(*) FROM pragma_foreign_key_check") ==
                  std::vector<std::string>{"0"});
        REQUIRE(sandbox.migrator({"downgrade", "base"}).exit_code == 0);
        CHECK(sandbox.tables().empty());
        CHECK(introspected(sandbox).empty());
    }
}

TEST_CASE("portable operations print their SQL offline for each dialect", "[e2e][operations]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    // SQLite rebuilds tables for o3, which needs the database: offline it stops at o2.
    const std::string target = backend == "sqlite" ? "o2o2o2o2o2o2" : "head";
    Sandbox sandbox(backend, fixture_dir("operations"));
    const auto result = sandbox.migrator({"upgrade", target, "--sql"});
    REQUIRE(result.exit_code == 0);
    CHECK(without_checksums(result.out) ==
          expected_file("offline_upgrade_operations." + backend + ".sql"));
    CHECK(!sandbox.touched());

    SECTION("the script, applied by hand, gives the schema an online run gives") {
        sandbox.execute_script(result.out);
        const auto by_hand = introspected(sandbox);
        Sandbox online(backend, fixture_dir("operations"));
        REQUIRE(online.migrator({"upgrade", target}).exit_code == 0);
        CHECK(sandbox.version_rows() == online.version_rows());
        CHECK(by_hand.size() > 20);
        CHECK(by_hand == introspected(online));
    }
}

TEST_CASE("portable operations refuse a SQLite table rebuild offline in one sentence",
          "[e2e][operations]") {
    Sandbox sandbox("sqlite", fixture_dir("operations"));
    const auto result = sandbox.migrator({"upgrade", "head", "--sql"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err,
               Contains("o3o3o3o3o3o3 (alter columns and keys) failed: SQLite cannot alter column "
                        "total of table invoice in place, and the table rebuild that does it must "
                        "read the table, which an offline run (--sql) cannot"));
    CHECK_THAT(result.err, Contains("do not apply it"));
    CHECK(!sandbox.touched());
}
