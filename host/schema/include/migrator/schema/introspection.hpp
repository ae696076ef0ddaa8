// migrator introspection: reads tables, keys and indexes back from the catalog into schema.hpp
// values, over a Context. Host-only; the one piece of introspection code in migrator, used by the
// SQLite table rebuild of schema_operations.hpp and by schema comparison, each over a Context on
// the host's own session.
#ifndef MIGRATOR_INTROSPECTION_HPP
#define MIGRATOR_INTROSPECTION_HPP

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <map>
#include <migrator/revision.hpp>
#include <migrator/schema.hpp>
#include <migrator/schema/sql.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace migrator {

inline schema::Type parse_type(std::string_view dialect, std::string_view sql_type);

namespace detail {

/// `text` trimmed, lower-cased, runs of white space folded to one space and none left around
/// parentheses and commas: "Character  Varying ( 20 )" -> "character varying(20)".
inline std::string normalised_type(std::string_view text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = true;
            continue;
        }
        const bool tight = c == '(' || c == ')' || c == ',';
        if (space && !out.empty() && !tight && out.back() != '(' && out.back() != ',') out += ' ';
        space = false;
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

/// The whole of `text` as a positive decimal number, or std::nullopt.
inline std::optional<int> positive_number(std::string_view text) {
    if (text.empty() || text.size() > 9) return std::nullopt;
    int value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value > 0 ? std::optional<int>(value) : std::nullopt;
}

/// For "name(args)" with a name in `names`: the text between the parentheses; for a bare name in
/// `names`: "". std::nullopt when `type` is neither.
inline std::optional<std::string> type_arguments(const std::string& type,
                                                 std::initializer_list<std::string_view> names) {
    for (std::string_view name : names) {
        if (type == name) return std::string();
        if (type.size() > name.size() + 2 && type.compare(0, name.size(), name) == 0 &&
            type[name.size()] == '(' && type.back() == ')')
            return type.substr(name.size() + 1, type.size() - name.size() - 2);
    }
    return std::nullopt;
}

/// The value of `column` in `row`, "" for NULL.
inline std::string text_of(const Row& row, std::string_view column) {
    const auto& value = row[column];
    return value ? *value : std::string();
}

/// ASCII lower case: SQLite compares table names case-insensitively.
inline std::string lower_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// A foreign key action as the portable model writes it: "NO ACTION" (the default) is "".
inline std::string normalised_action(std::string action) {
    for (char& c : action) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return action == "NO ACTION" ? std::string() : action;
}

/// Unique constraints and foreign keys in one stable order (columns first: SQLite has no names).
inline void sort_constraints(schema::Table& table) {
    std::sort(table.unique_constraints.begin(), table.unique_constraints.end(),
              [](const schema::UniqueConstraint& a, const schema::UniqueConstraint& b) {
                  return std::tie(a.columns, a.name) < std::tie(b.columns, b.name);
              });
    std::sort(table.foreign_keys.begin(), table.foreign_keys.end(),
              [](const schema::ForeignKey& a, const schema::ForeignKey& b) {
                  return std::tie(a.columns, a.referred_table, a.referred_columns, a.name) <
                         std::tie(b.columns, b.referred_table, b.referred_columns, b.name);
              });
}

inline void sort_indexes(std::vector<schema::Index>& indexes) {
    std::sort(indexes.begin(), indexes.end(), [](const schema::Index& a, const schema::Index& b) {
        return std::tie(a.name, a.table) < std::tie(b.name, b.table);
    });
}

// --- SQLite: PRAGMA table_info / index_list / index_info / foreign_key_list + sqlite_master ---

/// The table's name as sqlite_master stores it (SQLite names are case-insensitive), or nullopt.
inline std::optional<std::string> sqlite_table_name(const Context& ctx, const std::string& table) {
    return ctx.scalar("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name = " +
                      sql::quote_literal(table) + " COLLATE NOCASE");
}

/// Column names of an index in key order; "" for an expression.
inline std::vector<std::string> sqlite_index_columns(const Context& ctx, const std::string& index) {
    std::vector<std::string> columns;
    for (const auto& row : ctx.query("SELECT name FROM pragma_index_info(" +
                                     sql::quote_literal(index) + ", 'main') ORDER BY seqno"))
        columns.push_back(text_of(row, "name"));
    return columns;
}

/// Primary key columns in key order.
inline std::vector<std::string> sqlite_primary_key(const Context& ctx, const std::string& table) {
    std::vector<std::string> columns;
    for (const auto& row :
         ctx.query("SELECT name FROM pragma_table_info(" + sql::quote_literal(table) +
                   ", 'main') WHERE pk > 0 ORDER BY pk"))
        columns.push_back(text_of(row, "name"));
    return columns;
}

inline schema::Table sqlite_reflect_table(const Context& ctx, const std::string& name) {
    schema::Table table(name);
    const std::string literal = sql::quote_literal(name);
    std::vector<std::pair<int, std::string>> key;
    for (const auto& row : ctx.query("SELECT name, type, \"notnull\", dflt_value, pk FROM "
                                     "pragma_table_info(" +
                                     literal + ", 'main') ORDER BY cid")) {
        schema::Column column(text_of(row, "name"), parse_type("sqlite", text_of(row, "type")));
        column.nullable = text_of(row, "notnull") == "0";
        column.default_sql = row["dflt_value"];
        const int position = std::stoi(text_of(row, "pk"));
        if (position > 0) key.emplace_back(position, column.name);
        table.columns.push_back(std::move(column));
    }
    std::sort(key.begin(), key.end());
    for (auto& entry : key) table.primary_key_columns.push_back(std::move(entry.second));

    bool key_index = false;  // a rowid alias has none; other keys and WITHOUT ROWID tables do
    for (const auto& row :
         ctx.query("SELECT name, origin FROM pragma_index_list(" + literal + ", 'main')")) {
        const std::string origin = text_of(row, "origin");
        if (origin == "pk") key_index = true;
        if (origin != "u") continue;
        schema::UniqueConstraint constraint;
        constraint.columns = sqlite_index_columns(ctx, text_of(row, "name"));
        table.unique_constraints.push_back(std::move(constraint));
    }
    // SQLite's rule: a single-column primary key declared exactly INTEGER is the rowid alias.
    if (table.primary_key_columns.size() == 1 && !key_index) {
        for (auto& column : table.columns)
            if (column.name == table.primary_key_columns.front() &&
                column.type.kind == schema::TypeKind::integer) {
                column.autoincrement = true;
                // A rowid is never NULL (SQLite assigns one instead), though table_info says
                // nullable unless NOT NULL was written: reported as PostgreSQL reports keys.
                column.nullable = false;
            }
    }

    std::map<int, schema::ForeignKey> keys;
    for (const auto& row : ctx.query("SELECT id, \"table\", \"from\", \"to\", on_update, "
                                     "on_delete FROM pragma_foreign_key_list(" +
                                     literal + ", 'main') ORDER BY id, seq")) {
        auto& key_of = keys[std::stoi(text_of(row, "id"))];
        key_of.referred_table = text_of(row, "table");
        key_of.on_update = normalised_action(text_of(row, "on_update"));
        key_of.on_delete = normalised_action(text_of(row, "on_delete"));
        key_of.columns.push_back(text_of(row, "from"));
        // NULL: REFERENCES parent without columns means the parent's primary key.
        if (row["to"]) key_of.referred_columns.push_back(*row["to"]);
    }
    for (auto& entry : keys) {
        auto& foreign_key = entry.second;
        if (foreign_key.referred_columns.empty())
            foreign_key.referred_columns = sqlite_primary_key(ctx, foreign_key.referred_table);
        table.foreign_keys.push_back(std::move(foreign_key));
    }
    sort_constraints(table);
    return table;
}

inline std::vector<schema::Index> sqlite_reflect_indexes(const Context& ctx,
                                                         const std::string& table) {
    std::vector<schema::Index> indexes;
    for (const auto& row : ctx.query("SELECT name, \"unique\" FROM pragma_index_list(" +
                                     sql::quote_literal(table) + ", 'main') WHERE origin = 'c'")) {
        schema::Index index(text_of(row, "name"), table,
                            sqlite_index_columns(ctx, text_of(row, "name")));
        index.unique = text_of(row, "unique") == "1";
        indexes.push_back(std::move(index));
    }
    sort_indexes(indexes);
    return indexes;
}

// --- PostgreSQL: pg_catalog (pg_class, pg_attribute, pg_constraint, pg_index, format_type) ---

/// The schema as SQL: the given name as a literal, or current_schema().
inline std::string pg_namespace_sql(const std::string& pg_namespace) {
    return pg_namespace.empty() ? std::string("current_schema()")
                                : sql::quote_literal(pg_namespace);
}

/// One relation found in pg_class: its oid and the name of its schema.
struct PgRelation {
    std::string oid;
    std::string name;
    std::string schema;
};

inline std::vector<PgRelation> pg_relations(const Context& ctx, const std::string& condition,
                                            const std::string& pg_namespace) {
    std::vector<PgRelation> relations;
    for (const auto& row : ctx.query(
             "SELECT c.oid, c.relname, n.nspname FROM pg_catalog.pg_class c JOIN "
             "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
             "AND NOT c.relispartition AND n.nspname = " +
             pg_namespace_sql(pg_namespace) + condition))
        relations.push_back(
            {text_of(row, "oid"), text_of(row, "relname"), text_of(row, "nspname")});
    return relations;
}

inline schema::Table pg_reflect_table(const Context& ctx, const PgRelation& relation) {
    schema::Table table(relation.name);
    // A serial column's default calls nextval() on a sequence the column owns (pg_depend 'a').
    for (const auto& row : ctx.query(
             "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, "
             "a.attnotnull, a.attidentity, CASE WHEN a.attgenerated = '' THEN "
             "pg_catalog.pg_get_expr(d.adbin, d.adrelid) END AS default_sql, EXISTS (SELECT 1 "
             "FROM pg_catalog.pg_depend dep JOIN pg_catalog.pg_class s ON s.oid = dep.objid "
             "WHERE dep.classid = 'pg_catalog.pg_class'::regclass AND dep.refclassid = "
             "'pg_catalog.pg_class'::regclass AND dep.refobjid = a.attrelid AND dep.refobjsubid "
             "= a.attnum AND dep.deptype = 'a' AND s.relkind = 'S') AS owns_sequence FROM "
             "pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = "
             "a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = " +
             relation.oid + " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")) {
        schema::Column column(text_of(row, "attname"),
                              parse_type("postgresql", text_of(row, "type")));
        column.nullable = text_of(row, "attnotnull") != "t";
        column.default_sql = row["default_sql"];
        const bool serial = text_of(row, "owns_sequence") == "t" && column.default_sql &&
                            column.default_sql->compare(0, 8, "nextval(") == 0;
        if (!text_of(row, "attidentity").empty() || serial) {
            column.autoincrement = true;
            column.default_sql.reset();
        }
        table.columns.push_back(std::move(column));
    }

    struct Found {
        std::string type;
        std::string name;
        schema::ForeignKey key;
    };
    std::map<std::string, Found> constraints;  // by oid
    std::vector<std::string> order;
    for (const auto& row :
         ctx.query("SELECT con.oid, con.conname, con.contype, a.attname, rn.nspname AS ref_schema, "
                   "rc.relname AS ref_table, ra.attname AS ref_column, con.confupdtype, "
                   "con.confdeltype FROM pg_catalog.pg_constraint con CROSS JOIN LATERAL "
                   "unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, refnum, ord) JOIN "
                   "pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum "
                   "LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid LEFT JOIN "
                   "pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace LEFT JOIN "
                   "pg_catalog.pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = "
                   "k.refnum WHERE con.conrelid = " +
                   relation.oid + " AND con.contype IN ('p', 'u', 'f') ORDER BY con.oid, k.ord")) {
        const std::string oid = text_of(row, "oid");
        auto [entry, fresh] = constraints.try_emplace(oid);
        auto& found = entry->second;
        if (fresh) {
            order.push_back(oid);
            found.type = text_of(row, "contype");
            found.name = text_of(row, "conname");
            const std::string schema_name = text_of(row, "ref_schema");
            const std::string ref_table = text_of(row, "ref_table");
            found.key.name = found.name;
            found.key.referred_table =
                schema_name == relation.schema ? ref_table : schema_name + "." + ref_table;
            static const std::map<std::string, std::string> actions{{"a", ""},
                                                                    {"r", "RESTRICT"},
                                                                    {"c", "CASCADE"},
                                                                    {"n", "SET NULL"},
                                                                    {"d", "SET DEFAULT"}};
            const auto action = [&](const char* field) {
                const auto known = actions.find(text_of(row, field));
                return known == actions.end() ? std::string() : known->second;
            };
            found.key.on_update = action("confupdtype");
            found.key.on_delete = action("confdeltype");
        }
        found.key.columns.push_back(text_of(row, "attname"));
        if (row["ref_column"]) found.key.referred_columns.push_back(*row["ref_column"]);
    }
    for (const auto& oid : order) {
        auto& found = constraints[oid];
        if (found.type == "p") {
            table.primary_key_columns = found.key.columns;
        } else if (found.type == "u") {
            schema::UniqueConstraint constraint;
            constraint.name = found.name;
            constraint.columns = found.key.columns;
            table.unique_constraints.push_back(std::move(constraint));
        } else {
            table.foreign_keys.push_back(std::move(found.key));
        }
    }
    sort_constraints(table);
    return table;
}

inline std::vector<schema::Index> pg_reflect_indexes(const Context& ctx,
                                                     const PgRelation& relation) {
    std::vector<schema::Index> indexes;
    // Indexes behind a primary key, UNIQUE or EXCLUDE constraint belong to the constraint.
    for (const auto& row : ctx.query(
             "SELECT ic.relname, i.indisunique, a.attname, pg_catalog.pg_get_indexdef("
             "i.indexrelid, k.ord::int, true) AS expression FROM pg_catalog.pg_index i JOIN "
             "pg_catalog.pg_class ic ON ic.oid = i.indexrelid CROSS JOIN LATERAL "
             "unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) LEFT JOIN "
             "pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND "
             "k.attnum > 0 WHERE i.indrelid = " +
             relation.oid +
             " AND k.ord <= i.indnkeyatts AND NOT EXISTS (SELECT 1 FROM "
             "pg_catalog.pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = "
             "i.indrelid AND con.contype IN ('p', 'u', 'x')) ORDER BY ic.relname, k.ord")) {
        const std::string name = text_of(row, "relname");
        if (indexes.empty() || indexes.back().name != name) {
            indexes.emplace_back(name, relation.name, std::vector<std::string>{});
            indexes.back().unique = text_of(row, "indisunique") == "t";
        }
        indexes.back().columns.push_back(row["attname"] ? *row["attname"]
                                                        : text_of(row, "expression"));
    }
    sort_indexes(indexes);
    return indexes;
}

}  // namespace detail

/// Parses a type as the dialect reports it ("character varying(20)", "VARCHAR(20)",
/// "timestamp without time zone", ...) into the portable set, TypeKind::raw (with `sql_type` as
/// given) otherwise. parse_type(d, sql::render_type(d, t)) == t for every portable type but an
/// enumeration (PostgreSQL reports its name, read as a raw type; SQLite a VARCHAR). On SQLite
/// only the spellings render_type writes are portable ("INT" stays raw: SQLite treats it apart
/// from INTEGER); throws std::invalid_argument for an unknown dialect.
inline schema::Type parse_type(std::string_view dialect, std::string_view sql_type) {
    using schema::Type;
    const bool pg = sql::dialect_of(dialect) == sql::Dialect::postgresql;
    const std::string type = detail::normalised_type(sql_type);
    const auto is_one_of = [&](std::initializer_list<std::string_view> names) {
        return std::find(names.begin(), names.end(), type) != names.end();
    };
    if (pg ? is_one_of({"integer", "int", "int4"}) : type == "integer") return Type::integer();
    if (pg ? is_one_of({"bigint", "int8"}) : type == "bigint") return Type::big_integer();
    if (type == "text") return Type::text();
    if (pg ? is_one_of({"boolean", "bool"}) : type == "boolean") return Type::boolean();
    if (pg ? is_one_of({"real", "float4"}) : type == "real") return Type::real();
    if (pg ? is_one_of({"double precision", "float8"}) : type == "double precision")
        return Type::double_precision();
    if (type == "date") return Type::date();
    // DATETIME is SQLAlchemy's (and so Alembic's) spelling of a timestamp on SQLite.
    if (pg ? is_one_of({"timestamp", "timestamp without time zone"})
           : type == "timestamp" || type == "datetime")
        return Type::timestamp();
    if (type == (pg ? "bytea" : "blob")) return Type::blob();
    if (pg ? is_one_of({"smallint", "int2"}) : type == "smallint") return Type::small_integer();
    if (pg ? is_one_of({"time", "time without time zone"}) : type == "time") return Type::time();
    if (pg ? is_one_of({"timestamp with time zone", "timestamptz"})
           : type == "timestamp with time zone")
        return Type::timestamp_tz();
    if (type == (pg ? "uuid" : "char(32)")) return Type::uuid();
    if (type == "json") return Type::json();
    const auto varchar = pg ? detail::type_arguments(type, {"character varying", "varchar"})
                            : detail::type_arguments(type, {"varchar"});
    if (varchar) {
        if (varchar->empty()) return Type::varchar(0);
        if (const auto length = detail::positive_number(*varchar)) return Type::varchar(*length);
    }
    const auto numeric = pg ? detail::type_arguments(type, {"numeric", "decimal"})
                            : detail::type_arguments(type, {"numeric"});
    if (numeric) {
        if (numeric->empty()) return Type::numeric(0, 0);
        const auto comma = numeric->find(',');
        const auto precision = detail::positive_number(numeric->substr(0, comma));
        if (precision && comma == std::string::npos) return Type::numeric(*precision, 0);
        const std::string scale_text =
            comma == std::string::npos ? std::string() : numeric->substr(comma + 1);
        const auto scale =
            scale_text == "0" ? std::optional<int>(0) : detail::positive_number(scale_text);
        if (precision && scale) return Type::numeric(*precision, *scale);
    }
    return Type::raw(std::string(sql_type));
}

/// The named table of the current schema (SQLite: "main"; PostgreSQL: `pg_namespace` if
/// non-empty, else current_schema()), or std::nullopt if there is none: columns in order, primary
/// key, unique constraints and foreign keys (each sorted by columns). Throws SqlError, and
/// OfflineQueryError in an offline run.
inline std::optional<schema::Table> reflect_table(const Context& ctx, const std::string& table,
                                                  const std::string& pg_namespace = "") {
    if (sql::dialect_of(ctx.dialect()) == sql::Dialect::sqlite) {
        const auto name = detail::sqlite_table_name(ctx, table);
        if (!name) return std::nullopt;
        return detail::sqlite_reflect_table(ctx, *name);
    }
    const auto found =
        detail::pg_relations(ctx, " AND c.relname = " + sql::quote_literal(table), pg_namespace);
    if (found.empty()) return std::nullopt;
    return detail::pg_reflect_table(ctx, found.front());
}

/// The indexes created with CREATE [UNIQUE] INDEX on the table (not those behind its primary key
/// or UNIQUE constraints), sorted by name; empty if there is no such table. An expression in an
/// index is listed as its text (PostgreSQL) or "" (SQLite). Throws as reflect_table does.
inline std::vector<schema::Index> reflect_indexes(const Context& ctx, const std::string& table,
                                                  const std::string& pg_namespace = "") {
    if (sql::dialect_of(ctx.dialect()) == sql::Dialect::sqlite) {
        const auto name = detail::sqlite_table_name(ctx, table);
        if (!name) return {};
        return detail::sqlite_reflect_indexes(ctx, *name);
    }
    const auto found =
        detail::pg_relations(ctx, " AND c.relname = " + sql::quote_literal(table), pg_namespace);
    if (found.empty()) return {};
    return detail::pg_reflect_indexes(ctx, found.front());
}

/// Tables (sorted by name) with columns, PK, unique constraints, FKs, and the CREATE INDEX
/// indexes (sorted by name) of the current schema; SQLite: "main"; PostgreSQL: `pg_namespace` if
/// non-empty, else current_schema(). Tables named in exclude_tables (migrator's own version and
/// history tables) are left out, as are SQLite's sqlite_% internals. Throws as reflect_table does.
inline schema::Schema introspect_schema(const Context& ctx,
                                        const std::vector<std::string>& exclude_tables = {},
                                        const std::string& pg_namespace = "") {
    schema::Schema result;
    const auto excluded = [&](const std::string& name) {
        return std::find(exclude_tables.begin(), exclude_tables.end(), name) !=
               exclude_tables.end();
    };
    const auto add = [&](schema::Table table, std::vector<schema::Index> indexes) {
        result.tables.push_back(std::move(table));
        result.indexes.insert(result.indexes.end(), indexes.begin(), indexes.end());
    };
    if (sql::dialect_of(ctx.dialect()) == sql::Dialect::sqlite) {
        for (const auto& row :
             ctx.query("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT "
                       "LIKE 'sqlite\\_%' ESCAPE '\\'")) {
            const std::string name = detail::text_of(row, "name");
            if (excluded(name)) continue;
            add(detail::sqlite_reflect_table(ctx, name), detail::sqlite_reflect_indexes(ctx, name));
        }
    } else {
        for (const auto& relation : detail::pg_relations(ctx, "", pg_namespace)) {
            if (excluded(relation.name)) continue;
            add(detail::pg_reflect_table(ctx, relation), detail::pg_reflect_indexes(ctx, relation));
        }
    }
    std::sort(result.tables.begin(), result.tables.end(),
              [](const schema::Table& a, const schema::Table& b) { return a.name < b.name; });
    detail::sort_indexes(result.indexes);
    return result;
}

}  // namespace migrator

#endif  // MIGRATOR_INTROSPECTION_HPP
