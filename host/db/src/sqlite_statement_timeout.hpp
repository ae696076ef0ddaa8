// SQLite has no statement timeout of its own: this one interrupts a statement that runs too long.
#ifndef MIGRATOR_DB_SQLITE_STATEMENT_TIMEOUT_HPP
#define MIGRATOR_DB_SQLITE_STATEMENT_TIMEOUT_HPP

#include <chrono>

struct sqlite3;

namespace migrator::detail {

/// The statement timeout of one SQLite connection: each statement that starts (its first step,
/// seen by a trace callback) gets a deadline, and a progress handler interrupts it once the
/// deadline has passed, so it fails with SQLITE_INTERRUPT. The time between the steps of a query
/// whose rows are being read counts too. Nothing is installed for a zero timeout.
class SqliteStatementTimeout {
public:
    explicit SqliteStatementTimeout(std::chrono::milliseconds timeout) : timeout_(timeout) {}
    SqliteStatementTimeout(const SqliteStatementTimeout&) = delete;
    SqliteStatementTimeout& operator=(const SqliteStatementTimeout&) = delete;

    /// Applies the timeout to `handle`, which must not outlive this object; call again for each
    /// new handle. Replaces any trace callback and progress handler on it.
    void watch(sqlite3* handle);

private:
    static int on_trace(unsigned type, void* self, void* statement, void* sql);
    static int on_progress(void* self);

    std::chrono::milliseconds timeout_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

/// The message SQLite's "interrupted" stands for: only SqliteStatementTimeout interrupts
/// migrator's statements.
inline constexpr const char* sqlite_interrupt_explanation =
    " (the statement ran longer than the statement timeout, --statement-timeout)";

}  // namespace migrator::detail

#endif  // MIGRATOR_DB_SQLITE_STATEMENT_TIMEOUT_HPP
