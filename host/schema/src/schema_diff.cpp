// diff_schemas: the changes that turn one schema into another, in an order that applies as is.
#include <algorithm>
#include <map>
#include <migrator/common/text.hpp>
#include <migrator/schema/schema_compare.hpp>
#include <set>
#include <string>
#include <tuple>
#include <utility>

namespace migrator {
namespace {

using schema::Column;
using schema::ForeignKey;
using schema::Index;
using schema::Schema;
using schema::Table;
using schema::Type;
using schema::TypeKind;
using schema::UniqueConstraint;
using Kind = SchemaChange::Kind;

std::string list_text(const std::vector<std::string>& names) { return "(" + join(names) + ")"; }

std::string default_text(const std::optional<std::string>& default_sql) {
    return default_sql ? "default " + *default_sql : std::string("no default");
}

/// "VARCHAR(16) NOT NULL DEFAULT 'open'": the column as a definition reads, name aside.
std::string column_text(const Column& column) {
    std::string text = schema::portable_name(column.type);
    if (!column.nullable) text += " NOT NULL";
    if (column.default_sql) text += " DEFAULT " + *column.default_sql;
    if (column.autoincrement) text += " AUTOINCREMENT";
    return text;
}

/// "type VARCHAR(16) -> TEXT, NULL -> NOT NULL": each part of the column that changes.
std::string column_change_text(const Column& from, const Column& to) {
    std::vector<std::string> parts;
    if (from.type != to.type)
        parts.push_back("type " + schema::portable_name(from.type) + " -> " +
                        schema::portable_name(to.type));
    if (from.nullable != to.nullable)
        parts.push_back(from.nullable ? "NULL -> NOT NULL" : "NOT NULL -> NULL");
    if (from.default_sql != to.default_sql)
        parts.push_back(default_text(from.default_sql) + " -> " + default_text(to.default_sql));
    if (from.autoincrement != to.autoincrement)
        parts.push_back(from.autoincrement ? "autoincrement -> not autoincrement"
                                           : "not autoincrement -> autoincrement");
    return join(parts);
}

std::string named(const std::string& name) { return name.empty() ? "" : " " + name; }

std::string foreign_key_text(const std::string& table, const ForeignKey& key) {
    std::string text = named(key.name) + " " + table + " " + list_text(key.columns) + " -> " +
                       key.referred_table + " " + list_text(key.referred_columns);
    if (!key.on_delete.empty()) text += " ON DELETE " + key.on_delete;
    if (!key.on_update.empty()) text += " ON UPDATE " + key.on_update;
    return text;
}

std::string index_text(const Index& index) {
    return std::string(index.unique ? "unique index " : "index ") + index.name + " on " +
           index.table + " " + list_text(index.columns);
}

std::string unique_text(const std::string& table, const UniqueConstraint& unique) {
    return "unique constraint" + named(unique.name) + " on " + table + " " +
           list_text(unique.columns);
}

std::string table_text(const Table& table) {
    std::vector<std::string> names;
    for (const auto& column : table.columns) names.push_back(column.name);
    return "table " + table.name + " " + list_text(names);
}

bool same_index(const Index& a, const Index& b) {
    return a.name == b.name && a.table == b.table && a.columns == b.columns && a.unique == b.unique;
}

std::string joined(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) text += name + ",";
    return text;
}

/// What orders changes within one group: the table, then the object's name, then its columns.
std::tuple<std::string, std::string, std::string> sort_key(const SchemaChange& change) {
    const auto pick = [](const auto& old_value, const auto& new_value) -> const auto& {
        return new_value ? *new_value : *old_value;
    };
    if (change.old_column || change.new_column)
        return {change.table, pick(change.old_column, change.new_column).name, ""};
    if (change.old_index || change.new_index) {
        const Index& index = pick(change.old_index, change.new_index);
        return {change.table, index.name, joined(index.columns)};
    }
    if (change.old_unique || change.new_unique) {
        const UniqueConstraint& unique = pick(change.old_unique, change.new_unique);
        return {change.table, unique.name, joined(unique.columns)};
    }
    if (change.old_foreign_key || change.new_foreign_key) {
        const ForeignKey& key = pick(change.old_foreign_key, change.new_foreign_key);
        return {change.table, key.name,
                joined(key.columns) + "->" + key.referred_table + joined(key.referred_columns)};
    }
    return {change.table, "", ""};
}

SchemaChange change_of(Kind kind, std::string table) {
    SchemaChange change{};
    change.kind = kind;
    change.table = std::move(table);
    return change;
}

/// Where changes of one kind go: the kind, the field carrying the item, the group.
template <typename Item>
struct ChangeSink {
    Kind kind;
    std::optional<Item> SchemaChange::*field;
    std::vector<SchemaChange>& group;

    void operator()(const std::string& table, Item item) const {
        auto change = change_of(kind, table);
        change.*field = std::move(item);
        group.push_back(std::move(change));
    }
};

/// Pairs up `before` and `after` with `same` (each item used once): what only `before` has goes
/// to `gone`, what only `after` has to `added`.
template <typename Item, typename Same>
void match(const std::string& table, const std::vector<Item>& before,
           const std::vector<Item>& after, Same same, const ChangeSink<Item>& gone,
           const ChangeSink<Item>& added) {
    std::vector<bool> used(after.size(), false);
    for (const auto& item : before) {
        bool found = false;
        for (std::size_t i = 0; i < after.size() && !found; ++i)
            if (!used[i] && same(item, after[i])) used[i] = found = true;
        if (!found) gone(table, item);
    }
    for (std::size_t i = 0; i < after.size(); ++i)
        if (!used[i]) added(table, after[i]);
}

/// The changes of one group, each group sorted on its own.
struct Groups {
    std::vector<SchemaChange> drop_foreign_keys, drop_indexes, drop_uniques;
    std::vector<SchemaChange> drop_columns, alter_columns, add_columns, alter_primary_keys;
    std::vector<SchemaChange> add_tables, drop_tables;  // in dependency order, not sorted
    std::vector<SchemaChange> add_uniques, add_foreign_keys, add_indexes;
};

/// Columns, primary key, uniques and foreign keys of a table both sides have.
void diff_table(const Table& before, const Table& after, Groups& groups) {
    const std::string& name = after.name;
    for (const auto& column : before.columns) {
        const Column* wanted = after.find_column(column.name);
        if (wanted == nullptr) {
            ChangeSink<Column>{Kind::drop_column, &SchemaChange::old_column, groups.drop_columns}(
                name, column);
        } else if (*wanted != column) {
            auto change = change_of(Kind::alter_column, name);
            change.old_column = column;
            change.new_column = *wanted;
            groups.alter_columns.push_back(std::move(change));
        }
    }
    for (const auto& column : after.columns)
        if (before.find_column(column.name) == nullptr)
            ChangeSink<Column>{Kind::add_column, &SchemaChange::new_column, groups.add_columns}(
                name, column);
    if (before.primary_key_columns != after.primary_key_columns) {
        auto change = change_of(Kind::alter_primary_key, name);
        change.old_table = before;
        change.new_table = after;
        groups.alter_primary_keys.push_back(std::move(change));
    }
    match(
        name, before.unique_constraints, after.unique_constraints,
        [](const UniqueConstraint& a, const UniqueConstraint& b) { return a.columns == b.columns; },
        ChangeSink<UniqueConstraint>{Kind::drop_unique_constraint, &SchemaChange::old_unique,
                                     groups.drop_uniques},
        ChangeSink<UniqueConstraint>{Kind::add_unique_constraint, &SchemaChange::new_unique,
                                     groups.add_uniques});
    match(
        name, before.foreign_keys, after.foreign_keys,
        [](const ForeignKey& a, const ForeignKey& b) { return a.same_as(b); },
        ChangeSink<ForeignKey>{Kind::drop_foreign_key, &SchemaChange::old_foreign_key,
                               groups.drop_foreign_keys},
        ChangeSink<ForeignKey>{Kind::add_foreign_key, &SchemaChange::new_foreign_key,
                               groups.add_foreign_keys});
}

/// Moves the foreign keys of `table` that `picks` out of it into `sink`.
template <typename Picks>
void take_foreign_keys(Table& table, Picks picks, const ChangeSink<ForeignKey>& sink) {
    std::vector<ForeignKey> kept;
    for (auto& key : table.foreign_keys) {
        if (picks(key))
            sink(table.name, std::move(key));
        else
            kept.push_back(std::move(key));
    }
    table.foreign_keys = std::move(kept);
}

/// The new tables, each after the new tables it refers to (ties by name). A cycle is broken at
/// its first table by name: its foreign keys to the tables still waiting become add_foreign_key
/// changes for after every table exists.
void add_tables_in_order(std::map<std::string, Table> pending, Groups& groups) {
    while (!pending.empty()) {
        const auto waits = [&](const Table& table) {
            for (const auto& key : table.foreign_keys)
                if (key.referred_table != table.name && pending.count(key.referred_table))
                    return true;
            return false;
        };
        auto next = std::find_if(pending.begin(), pending.end(),
                                 [&](const auto& entry) { return !waits(entry.second); });
        if (next == pending.end()) {
            next = pending.begin();
            take_foreign_keys(
                next->second,
                [&](const ForeignKey& key) {
                    return key.referred_table != next->first && pending.count(key.referred_table);
                },
                ChangeSink<ForeignKey>{Kind::add_foreign_key, &SchemaChange::new_foreign_key,
                                       groups.add_foreign_keys});
        }
        ChangeSink<Table>{Kind::add_table, &SchemaChange::new_table, groups.add_tables}(
            next->first, std::move(next->second));
        pending.erase(next);
    }
}

/// The tables that go, each before the tables it refers to (ties by name). A cycle is broken at
/// its first table by name: the foreign keys of the waiting tables that refer to it become
/// drop_foreign_key changes, which run first.
void drop_tables_in_order(std::map<std::string, Table> pending, Groups& groups) {
    while (!pending.empty()) {
        const auto referred = [&](const std::string& name) {
            for (const auto& [other, table] : pending)
                if (other != name)
                    for (const auto& key : table.foreign_keys)
                        if (key.referred_table == name) return true;
            return false;
        };
        auto next = std::find_if(pending.begin(), pending.end(),
                                 [&](const auto& entry) { return !referred(entry.first); });
        if (next == pending.end()) {
            next = pending.begin();
            for (auto& [other, table] : pending)
                if (other != next->first)
                    take_foreign_keys(
                        table,
                        [&](const ForeignKey& key) { return key.referred_table == next->first; },
                        ChangeSink<ForeignKey>{Kind::drop_foreign_key,
                                               &SchemaChange::old_foreign_key,
                                               groups.drop_foreign_keys});
        }
        ChangeSink<Table>{Kind::drop_table, &SchemaChange::old_table, groups.drop_tables}(
            next->first, std::move(next->second));
        pending.erase(next);
    }
}

void diff_indexes(const Schema& database, const Schema& declared, Groups& groups) {
    std::map<std::string, const Index*> before, after;
    for (const auto& index : database.indexes) before[index.name] = &index;
    for (const auto& index : declared.indexes) after[index.name] = &index;
    for (const auto& [name, index] : before) {
        const auto wanted = after.find(name);
        if (wanted != after.end() && same_index(*index, *wanted->second)) continue;
        // A table that goes takes its indexes with it.
        if (declared.find_table(index->table) == nullptr) continue;
        ChangeSink<Index>{Kind::drop_index, &SchemaChange::old_index, groups.drop_indexes}(
            index->table, *index);
    }
    for (const auto& [name, index] : after) {
        const auto existing = before.find(name);
        if (existing != before.end() && same_index(*index, *existing->second)) continue;
        ChangeSink<Index>{Kind::add_index, &SchemaChange::new_index, groups.add_indexes}(
            index->table, *index);
    }
}

}  // namespace

const char* kind_name(Kind kind) {
    switch (kind) {
        case Kind::add_table:
            return "add_table";
        case Kind::drop_table:
            return "drop_table";
        case Kind::add_column:
            return "add_column";
        case Kind::drop_column:
            return "drop_column";
        case Kind::alter_column:
            return "alter_column";
        case Kind::add_index:
            return "add_index";
        case Kind::drop_index:
            return "drop_index";
        case Kind::add_unique_constraint:
            return "add_unique_constraint";
        case Kind::drop_unique_constraint:
            return "drop_unique_constraint";
        case Kind::add_foreign_key:
            return "add_foreign_key";
        case Kind::drop_foreign_key:
            return "drop_foreign_key";
        case Kind::alter_primary_key:
            return "alter_primary_key";
    }
    return "unknown";
}

std::string SchemaChange::describe() const {
    switch (kind) {
        case Kind::add_table:
            return "added " + table_text(*new_table);
        case Kind::drop_table:
            return "dropped " + table_text(*old_table);
        case Kind::add_column:
            return "added column " + table + "." + new_column->name + " (" +
                   column_text(*new_column) + ")";
        case Kind::drop_column:
            return "dropped column " + table + "." + old_column->name + " (" +
                   column_text(*old_column) + ")";
        case Kind::alter_column:
            return "changed column " + table + "." + new_column->name + ": " +
                   column_change_text(*old_column, *new_column);
        case Kind::add_index:
            return "added " + index_text(*new_index);
        case Kind::drop_index:
            return "dropped " + index_text(*old_index);
        case Kind::add_unique_constraint:
            return "added " + unique_text(table, *new_unique);
        case Kind::drop_unique_constraint:
            return "dropped " + unique_text(table, *old_unique);
        case Kind::add_foreign_key:
            return "added foreign key" + foreign_key_text(table, *new_foreign_key);
        case Kind::drop_foreign_key:
            return "dropped foreign key" + foreign_key_text(table, *old_foreign_key);
        case Kind::alter_primary_key:
            return "changed the primary key of " + table + ": " +
                   list_text(old_table->primary_key_columns) + " -> " +
                   list_text(new_table->primary_key_columns);
    }
    return {};
}

std::vector<SchemaChange> diff_schemas(const Schema& database, const Schema& declared) {
    Groups groups;
    std::map<std::string, Table> added, dropped;
    for (const auto& table : declared.tables)
        if (const Table* existing = database.find_table(table.name))
            diff_table(*existing, table, groups);
        else
            added.emplace(table.name, table);
    for (const auto& table : database.tables)
        if (declared.find_table(table.name) == nullptr) dropped.emplace(table.name, table);
    diff_indexes(database, declared, groups);
    add_tables_in_order(std::move(added), groups);
    drop_tables_in_order(std::move(dropped), groups);

    std::vector<SchemaChange> changes;
    for (auto* group : {&groups.drop_foreign_keys, &groups.drop_indexes, &groups.drop_uniques,
                        &groups.drop_columns, &groups.alter_columns, &groups.add_columns,
                        &groups.alter_primary_keys, &groups.add_tables, &groups.drop_tables,
                        &groups.add_uniques, &groups.add_foreign_keys, &groups.add_indexes}) {
        if (group != &groups.add_tables && group != &groups.drop_tables)
            std::stable_sort(group->begin(), group->end(),
                             [](const SchemaChange& a, const SchemaChange& b) {
                                 return sort_key(a) < sort_key(b);
                             });
        for (auto& change : *group) changes.push_back(std::move(change));
    }
    return changes;
}

}  // namespace migrator
