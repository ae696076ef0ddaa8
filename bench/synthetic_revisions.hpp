// Synthetic revisions shared by the bench programs: ids, names and SQL of revision i of a chain.
#ifndef MIGRATOR_BENCH_SYNTHETIC_REVISIONS_HPP
#define MIGRATOR_BENCH_SYNTHETIC_REVISIONS_HPP

#include <cstdint>
#include <cstdio>
#include <string>

namespace migrator::bench {

/// Twelve hex digits, like an Alembic id, spread over the id space so that sorting files by name
/// (as discovery does) does not follow the chain. Distinct for every i below 2^48: multiplying by
/// an odd constant is a bijection modulo 2^48.
inline std::string revision_id(std::uint64_t i) {
    const std::uint64_t value = (i * 0x9E3779B97F4A7C15ULL) & 0xFFFFFFFFFFFFULL;
    char text[16];
    std::snprintf(text, sizeof text, "%012llx", static_cast<unsigned long long>(value));
    return text;
}

/// The table revision i creates: bench_00042. Five digits cover every compiled set.
inline std::string table_name(std::uint64_t i) {
    char text[32];
    std::snprintf(text, sizeof text, "bench_%05llu", static_cast<unsigned long long>(i));
    return text;
}

/// The message of revision i, which is also its file slug with '_' for ' '.
inline std::string message(std::uint64_t i) { return "create table " + table_name(i); }

/// <id>_create_table_bench_00042: the folder, source stem and plugin name of revision i.
inline std::string stem(std::uint64_t i) {
    return revision_id(i) + "_create_table_" + table_name(i);
}

/// What revision i runs on upgrade and on downgrade; valid SQL for SQLite and PostgreSQL.
inline std::string upgrade_sql(std::uint64_t i) {
    return "CREATE TABLE " + table_name(i) + " (id INTEGER PRIMARY KEY, name VARCHAR(64) NOT NULL)";
}
inline std::string downgrade_sql(std::uint64_t i) { return "DROP TABLE " + table_name(i); }

}  // namespace migrator::bench

#endif  // MIGRATOR_BENCH_SYNTHETIC_REVISIONS_HPP
