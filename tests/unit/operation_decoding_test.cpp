// Tests of the operation decoder (host/schema/src/operation_decoding.cpp): every operation read
// back as the plugin-api writer wrote it, and malformed bytes refused with one sentence.
#include <catch2/catch.hpp>
#include <cstdint>
#include <migrator/db/db.hpp>
#include <migrator/operation_encoding.hpp>
#include <migrator/schema/host_session.hpp>
#include <migrator/schema/operation_decoding.hpp>
#include <sstream>
#include <string>
#include <vector>

using migrator::decode_operation;
using migrator::Operation;
using migrator::OperationDecodingError;
using migrator::encoding::OperationCode;
using migrator::encoding::OperationWriter;
using migrator::schema::Column;
using migrator::schema::ColumnChange;
using migrator::schema::ForeignKey;
using migrator::schema::Index;
using migrator::schema::Table;
using migrator::schema::Type;
using migrator::schema::UniqueConstraint;

namespace {

Operation decode(const std::string& bytes) { return decode_operation(bytes.data(), bytes.size()); }

Table invoice() {
    return Table("invoice")
        .column(Column("id", Type::integer()).auto_increment())
        .column(Column("number", Type::varchar(20)).not_null().default_value("'x'"))
        .column(Column("total", Type::numeric(10, 2)))
        .column(Column("id2", Type::raw("uuid")))
        .primary_key({"id"})
        .unique(UniqueConstraint::make("uq_invoice_number", {"number"}))
        .foreign_key(ForeignKey::make("fk", {"id2"}, "other", {"id"}, "CASCADE", "SET NULL"));
}

/// Four little-endian bytes.
std::string u32(std::uint32_t value) {
    std::string bytes;
    for (int shift = 0; shift < 32; shift += 8)
        bytes += static_cast<char>((value >> shift) & 0xffu);
    return bytes;
}

std::string header(std::uint32_t version, std::uint32_t code) { return u32(version) + u32(code); }

}  // namespace

TEST_CASE("the decoder reads every operation back as the plugin-api writer wrote it",
          "[operation_decoding]") {
    SECTION("create_table") {
        const auto op =
            decode(OperationWriter(OperationCode::create_table).table(invoice()).bytes());
        CHECK(op.encoding_version == 1);
        CHECK(op.code == OperationCode::create_table);
        const Table expected = invoice();
        CHECK(op.table == "invoice");
        CHECK(op.table_definition.columns == expected.columns);
        CHECK(op.table_definition.primary_key_columns == expected.primary_key_columns);
        REQUIRE(op.table_definition.unique_constraints.size() == 1);
        CHECK(op.table_definition.unique_constraints[0].name == "uq_invoice_number");
        CHECK(op.table_definition.unique_constraints[0].columns ==
              std::vector<std::string>{"number"});
        REQUIRE(op.table_definition.foreign_keys.size() == 1);
        CHECK(op.table_definition.foreign_keys[0].same_as(expected.foreign_keys[0]));
        CHECK(op.table_definition.foreign_keys[0].name == "fk");
    }
    SECTION("add_column, rename_table, rename_column, drop_column, drop_index") {
        const Column column = Column("stamp", Type::timestamp()).not_null().default_value("NOW()");
        auto op = decode(
            OperationWriter(OperationCode::add_column).text("invoice").column(column).bytes());
        CHECK(op.table == "invoice");
        CHECK(op.column_definition == column);
        op = decode(OperationWriter(OperationCode::rename_table).text("a").text("b").bytes());
        CHECK((op.table == "a" && op.new_name == "b"));
        op = decode(
            OperationWriter(OperationCode::rename_column).text("t").text("a").text("b").bytes());
        CHECK((op.table == "t" && op.column == "a" && op.new_name == "b"));
        op = decode(OperationWriter(OperationCode::drop_column).text("t").text("a").bytes());
        CHECK((op.code == OperationCode::drop_column && op.column == "a"));
        op = decode(OperationWriter(OperationCode::drop_index).text("t").text("ix").bytes());
        CHECK((op.table == "t" && op.index_name == "ix"));
    }
    SECTION("alter_column keeps, drops or sets the default") {
        auto op = decode(OperationWriter(OperationCode::alter_column)
                             .text("t")
                             .text("c")
                             .change(ColumnChange().type(Type::big_integer()).nullable(false))
                             .bytes());
        CHECK(op.change.new_type == Type::big_integer());
        CHECK(op.change.new_nullable == false);
        CHECK_FALSE(op.change.new_default.has_value());
        op = decode(OperationWriter(OperationCode::alter_column)
                        .text("t")
                        .text("c")
                        .change(ColumnChange().drop_default())
                        .bytes());
        CHECK_FALSE(op.change.new_type.has_value());
        REQUIRE(op.change.new_default.has_value());
        CHECK_FALSE(op.change.new_default->has_value());
        op = decode(OperationWriter(OperationCode::alter_column)
                        .text("t")
                        .text("c")
                        .change(ColumnChange().default_value("0"))
                        .bytes());
        CHECK(op.change.new_default == std::optional<std::string>("0"));
    }
    SECTION("create_index and the constraint operations") {
        auto op = decode(OperationWriter(OperationCode::create_index)
                             .index(Index("ix", "t", {"a", "b"}).make_unique())
                             .bytes());
        CHECK((op.index.name == "ix" && op.index.table == "t" && op.index.unique));
        CHECK(op.index.columns == std::vector<std::string>{"a", "b"});
        op = decode(OperationWriter(OperationCode::drop_unique_constraint)
                        .text("t")
                        .unique(UniqueConstraint::make("", {"a"}))
                        .bytes());
        CHECK((op.table == "t" && op.unique.name.empty()));
        op = decode(OperationWriter(OperationCode::create_foreign_key)
                        .text("t")
                        .foreign_key(ForeignKey::make("fk", {"a"}, "s.u", {"id"}, "RESTRICT"))
                        .bytes());
        CHECK(op.foreign_key.referred_table == "s.u");
        CHECK(op.foreign_key.on_delete == "RESTRICT");
    }
}

TEST_CASE("an enumeration travels in encoding version 2, everything else stays in version 1",
          "[operation_decoding]") {
    using migrator::encoding::version_for;
    const Type status = Type::enumeration("account_status", {"active", "closed"});
    Table account("account");
    account.column(Column("id", Type::small_integer()))
        .column(Column("seen", Type::timestamp_tz()))
        .column(Column("at", Type::time()))
        .column(Column("key", Type::uuid()));
    CHECK(version_for(account) == 1);
    const auto plain = decode(
        OperationWriter(OperationCode::create_table, version_for(account)).table(account).bytes());
    CHECK(plain.encoding_version == 1);
    CHECK(plain.table_definition.columns == account.columns);

    account.column(Column("status", status).not_null());
    REQUIRE(version_for(account) == 2);
    const auto with_enum =
        decode(OperationWriter(OperationCode::create_table, 2).table(account).bytes());
    CHECK(with_enum.encoding_version == 2);
    CHECK(with_enum.table_definition.columns == account.columns);
    CHECK(with_enum.table_definition.columns.back().type.values ==
          std::vector<std::string>{"active", "closed"});
    // Version 1 has no field for the labels: the writer refuses rather than drop them.
    CHECK_THROWS(OperationWriter(OperationCode::create_table, 1).table(account));

    const auto created =
        decode(OperationWriter(OperationCode::create_enum, 2).type(status).bytes());
    CHECK(created.code == OperationCode::create_enum);
    CHECK(created.type == status);
    const auto dropped =
        decode(OperationWriter(OperationCode::drop_enum).text("account_status").bytes());
    CHECK(dropped.code == OperationCode::drop_enum);
    CHECK(dropped.type.sql == "account_status");
    // An enumeration without labels, or create_enum of another type, is malformed.
    CHECK_THROWS_WITH(decode(OperationWriter(OperationCode::create_enum, 2)
                                 .type(Type::enumeration("e", {}))
                                 .bytes()),
                      Catch::Contains("has no labels"));
    CHECK_THROWS_WITH(
        decode(OperationWriter(OperationCode::create_enum, 2).type(Type::text()).bytes()),
        Catch::Contains("create_enum carries a type that is not an enumeration"));
}

TEST_CASE("the decoder refuses a truncated operation at every length", "[operation_decoding]") {
    const std::string bytes = OperationWriter(OperationCode::create_table).table(invoice()).bytes();
    for (std::size_t size = 0; size < bytes.size(); ++size) {
        CAPTURE(size);
        CHECK_THROWS_AS(decode_operation(bytes.data(), size), OperationDecodingError);
    }
    CHECK_THROWS_WITH(decode_operation(bytes.data(), 6),
                      "the revision sent a malformed portable operation (6 bytes): it ends at "
                      "byte 6 in the middle of the operation code");
}

TEST_CASE("the decoder refuses an encoding version it does not know", "[operation_decoding]") {
    const std::uint32_t version = GENERATE(0u, 3u, 0xffffffffu);
    const std::string bytes = header(version, 2) + u32(1) + "t";
    CHECK_THROWS_WITH(decode(bytes),
                      "the revision sent a portable operation in encoding version " +
                          std::to_string(version) +
                          ", and this migrator reads versions 1 to 2: upgrade migrator to run "
                          "this revision");
}

TEST_CASE("the decoder refuses an operation code it does not know", "[operation_decoding]") {
    const std::uint32_t code = GENERATE(0u, 16u, 0xffffffffu);
    CHECK_THROWS_WITH(decode(header(1, code)),
                      "the revision sent a portable operation with code " + std::to_string(code) +
                          ", which this migrator does not know (it knows 1 to 15): upgrade "
                          "migrator");
}

TEST_CASE("the decoder refuses counts and lengths the bytes cannot hold", "[operation_decoding]") {
    SECTION("a text longer than the operation") {
        CHECK_THROWS_WITH(decode(header(1, 2) + u32(0xffffffffu) + "abc"),
                          Catch::Contains("the table name at byte 8 is 4294967295 bytes long, "
                                          "more than the 1048576 allowed"));
        CHECK_THROWS_WITH(decode(header(1, 2) + u32(10) + "abc"),
                          Catch::Contains("is 10 bytes long, past the end of the operation"));
    }
    SECTION("a huge column count") {
        const std::string bytes = header(1, 1) + u32(1) + "t" + u32(0xffffffffu);
        CHECK_THROWS_WITH(decode(bytes),
                          Catch::Contains("a table's columns at byte 13 counts 4294967295 "
                                          "entries, more than the 4096 allowed"));
    }
    SECTION("a count within the limit that the bytes left cannot hold") {
        const std::string bytes = header(1, 1) + u32(1) + "t" + u32(4000) + std::string(100, '\0');
        CHECK_THROWS_WITH(decode(bytes), Catch::Contains("more than the 100 bytes left can hold"));
    }
    SECTION("an operation larger than the limit") {
        const std::string bytes(migrator::encoding::max_operation_size + 1, '\0');
        CHECK_THROWS_WITH(decode(bytes), Catch::Contains("larger than the 16777216 bytes allowed"));
    }
    SECTION("no bytes at all behind a size") {
        CHECK_THROWS_WITH(decode_operation(nullptr, 8), Catch::Contains("its bytes are missing"));
    }
}

TEST_CASE("the decoder refuses fields out of range and bytes after the last field",
          "[operation_decoding]") {
    SECTION("a flag that is neither 0 nor 1") {
        std::string bytes =
            OperationWriter(OperationCode::create_index).index(Index("ix", "t", {"a"})).bytes();
        bytes.back() = 2;
        CHECK_THROWS_WITH(decode(bytes),
                          Catch::Contains("an index's unique flag at byte " +
                                          std::to_string(bytes.size() - 1) + " is 2, not 0 or 1"));
    }
    SECTION("an unknown type kind") {
        std::string bytes = OperationWriter(OperationCode::add_column)
                                .text("t")
                                .column(Column("c", Type::text()))
                                .bytes();
        bytes[8 + 5 + 5] = 18;  // header, "t", "c": then the kind
        CHECK_THROWS_WITH(decode(bytes),
                          Catch::Contains("the type kind at byte 18 is 18, which this migrator "
                                          "does not know"));
    }
    SECTION("an unknown default change") {
        std::string bytes = OperationWriter(OperationCode::alter_column)
                                .text("t")
                                .text("c")
                                .change(ColumnChange())
                                .bytes();
        bytes.back() = 3;
        CHECK_THROWS_WITH(decode(bytes), Catch::Contains("is none of 0 (keep), 1 (drop), 2 (set)"));
    }
    SECTION("a NUL byte in a name") {
        const std::string bytes = header(1, 2) + u32(3) + std::string("a\0b", 3);
        CHECK_THROWS_WITH(decode(bytes),
                          Catch::Contains("the table name at byte 8 contains a NUL"));
    }
    SECTION("trailing bytes") {
        const std::string bytes =
            OperationWriter(OperationCode::drop_table).text("t").bytes() + "x";
        CHECK_THROWS_WITH(decode(bytes),
                          "the revision sent a malformed portable operation (14 "
                          "bytes): 1 bytes follow its last field, at byte 13");
    }
}

TEST_CASE("the host session answers a malformed operation with an error, not a crash",
          "[operation_decoding]") {
    std::ostringstream printed;
    const auto db = migrator::open_offline_database(migrator::DatabaseUrl::parse("sqlite:///x.db"),
                                                    {}, {}, printed);
    migrator::HostSession session(*db, {});
    const migrator_host* host = session.host();
    REQUIRE(MIGRATOR_HOST_HAS(host, run_operation));
    const std::string bad = header(1, 99);
    CHECK(host->run_operation(host->session, bad.data(), bad.size()) == MIGRATOR_ERROR);
    CHECK(std::string(host->last_error(host->session)) ==
          "the revision sent a portable operation with code 99, which this migrator does not "
          "know (it knows 1 to 15): upgrade migrator");
    const std::string good = OperationWriter(OperationCode::drop_table).text("t").bytes();
    CHECK(host->run_operation(host->session, good.data(), good.size()) == MIGRATOR_OK);
    CHECK_THAT(printed.str(), Catch::Contains("DROP TABLE \"t\""));
}
