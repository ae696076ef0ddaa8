// The SQLite statement timeout: a trace callback starts the clock, a progress handler stops the
// statement (see sqlite_statement_timeout.hpp).
#include "sqlite_statement_timeout.hpp"

#include <sqlite3.h>

namespace migrator::detail {
namespace {

// Virtual machine instructions between two looks at the clock: a fraction of a millisecond.
constexpr int instructions_between_checks = 10'000;

}  // namespace

void SqliteStatementTimeout::watch(sqlite3* handle) {
    if (timeout_.count() <= 0) return;
    sqlite3_trace_v2(handle, SQLITE_TRACE_STMT, &on_trace, this);
    sqlite3_progress_handler(handle, instructions_between_checks, &on_progress, this);
}

int SqliteStatementTimeout::on_trace(unsigned type, void* self, void* /*statement*/, void* sql) {
    // A trigger's subprogram reports itself as an SQL comment; it belongs to the statement that
    // fired it and does not restart its clock.
    const auto* text = static_cast<const char*>(sql);
    if (type == SQLITE_TRACE_STMT && !(text != nullptr && text[0] == '-' && text[1] == '-')) {
        auto& timeout = *static_cast<SqliteStatementTimeout*>(self);
        timeout.deadline_ = std::chrono::steady_clock::now() + timeout.timeout_;
    }
    return 0;
}

int SqliteStatementTimeout::on_progress(void* self) {
    // Non-zero interrupts the running statement.
    return std::chrono::steady_clock::now() >= static_cast<SqliteStatementTimeout*>(self)->deadline_
               ? 1
               : 0;
}

}  // namespace migrator::detail
