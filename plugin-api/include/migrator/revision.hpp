// migrator revision authoring layer: a thin C++ layer over plugin_abi.h (bodies in
// src/revision.cpp).
#ifndef MIGRATOR_REVISION_HPP
#define MIGRATOR_REVISION_HPP

#include <migrator/plugin_abi.h>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// Where a revision's source called Context or Operations: taken by a default argument (two
/// constants at the call site, nothing else), named in the error when the call fails.
struct CallSite {
    constexpr CallSite(const char* at_file = __builtin_FILE(),
                       int at_line = __builtin_LINE()) noexcept
        : file(at_file), line(at_line) {}
    const char* file;  ///< the source file as the compiler was given it
    int line;
};

/// Thrown by Context when the host reports an SQL error; carries the host's message, and where
/// the revision ran which statement.
class SqlError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    /// The host's `message` for `statement` (empty for an operation the host rendered), called
    /// from `site`.
    SqlError(const std::string& message, CallSite site, std::string statement);
    /// what(), then where: "no such column: notes (at 1a2b_add_note.cpp:14, in `INSERT INTO
    /// orders (notes) VALUES ('x')`)", the statement on one line and shortened. What a failed
    /// step reports to migrator.
    std::string described() const;
    /// The statement that failed, as run; empty when unknown.
    const std::string& statement() const noexcept { return statement_; }

private:
    CallSite site_{nullptr, 0};
    std::string statement_;
};

/// Thrown by Context::query (and scalar) in an offline run (`migrator ... --sql`): there is no
/// database to read. Test ctx.offline() first, or catch this to fall back.
class OfflineQueryError : public SqlError {
public:
    using SqlError::SqlError;
};

/// One result row: text values in column order, std::nullopt for SQL NULL.
struct Row {
    std::vector<std::string> columns;
    std::vector<std::optional<std::string>> values;

    /// Value of the named column; throws std::out_of_range if there is no such column.
    const std::optional<std::string>& operator[](std::string_view column) const;
};

/// The database as a revision sees it during upgrade() or downgrade(). The bodies live in the
/// plugin-api support library (src/revision.cpp), compiled once, not into every revision.
class Context {
public:
    explicit Context(const migrator_host* host) : host_(host) {}

    /// Runs one or more SQL statements; throws SqlError with the database's message (and, for
    /// migrator's report, this call's place in the source and the statement).
    void execute(std::string_view sql, CallSite site = {}) const;

    /// Runs a query and returns every row; throws SqlError with the database's message, and
    /// OfflineQueryError in an offline run. A row the plugin fails to take (out of memory) fails
    /// the query with that error (MIGRATOR_ROW_FAILED): no row is ever silently lost.
    std::vector<Row> query(std::string_view sql, CallSite site = {}) const;

    /// First column of the first row, std::nullopt for no row or NULL; throws SqlError.
    std::optional<std::string> scalar(std::string_view sql, CallSite site = {}) const;

    /// "sqlite" or "postgresql": lets one revision write dialect-specific SQL.
    std::string_view dialect() const { return host_->dialect; }

    /// True when the host only prints the SQL instead of running it (migrator ... --sql).
    bool offline() const { return host_->offline != 0; }

    /// Writes a line to the migrator output under the running step.
    void log(std::string_view message) const;

    /// Hands one encoded portable operation to the host (operations.hpp builds the encoding);
    /// throws SqlError with the host's message, or if the host predates operations as data.
    void run_operation(const void* operation, std::size_t size, CallSite site = {}) const;

    /// The value of `-x key=value` on migrator's command line (Alembic's -x), std::nullopt when
    /// `key` was not given (or the host predates -x). E.g. `ctx.argument("tenant")`.
    std::optional<std::string> argument(std::string_view key) const;

private:
    const migrator_host* host_;
};

namespace detail {

/// Copies `text` into the host's error buffer, truncated and NUL-terminated.
void copy_error(char* error, std::size_t size, const char* text) noexcept;

/// Adapts `void fn(Context&)` to the C step signature; no exception leaves the plugin.
template <void (*Fn)(Context&)>
int run_step(const migrator_host* host, char* error, std::size_t error_size) noexcept {
    try {
        Context context(host);
        Fn(context);
        return MIGRATOR_OK;
    } catch (const SqlError& e) {
        copy_error(error, error_size, e.described().c_str());
    } catch (const std::exception& e) {
        copy_error(error, error_size, e.what());
    } catch (...) {
        copy_error(error, error_size, "the revision threw an exception that is not std::exception");
    }
    return MIGRATOR_ERROR;
}

}  // namespace detail
}  // namespace migrator

#define MIGRATOR_DETAIL_STR2(x) #x
#define MIGRATOR_DETAIL_STR(x) MIGRATOR_DETAIL_STR2(x)

// The build (migrator_add_revision) defines this from the source file; a hand-built plugin has
// none.
#ifndef MIGRATOR_SOURCE_SHA256
#define MIGRATOR_SOURCE_SHA256 ""
#endif

/// Metadata fields, used only inside MIGRATOR_REVISION(...). Arguments are string literals.
#define MIGRATOR_REVISION_ID(id) "id=" id "\n"
/// Parent revision ids, comma separated ("" for the first revision of a history).
#define MIGRATOR_DOWN_REVISION(ids) "down=" ids "\n"
/// Branch labels, comma separated: name the branch this revision starts (`label@head`, ...).
#define MIGRATOR_BRANCH_LABELS(labels) "labels=" labels "\n"
/// Revisions on other branches that must be applied before this one, comma separated.
#define MIGRATOR_DEPENDS_ON(ids) "depends_on=" ids "\n"
#define MIGRATOR_MESSAGE(text) "message=" text "\n"
#define MIGRATOR_CREATE_DATE(date) "created=" date "\n"
/// The revision runs outside a transaction (for statements such as CREATE INDEX CONCURRENTLY that
/// refuse to run in one). If it fails or is interrupted, migrator marks the database dirty and
/// refuses further runs until `migrator resolve` says what state the schema is in.
#define MIGRATOR_NON_TRANSACTIONAL() "transactional=0\n"

/// Declares this file as a revision: its metadata (stored in the plugin's metadata section, read
/// by the host without loading the plugin) and the plugin entry point. The file then defines
///   void upgrade(migrator::Context& ctx)   and   void downgrade(migrator::Context& ctx).
// clang-format off
#define MIGRATOR_REVISION(...)                                                                   \
    static void upgrade(::migrator::Context&);                                                   \
    static void downgrade(::migrator::Context&);                                                 \
    extern "C" {                                                                                 \
    __attribute__((section(MIGRATOR_METADATA_SECTION), used))                                    \
    static const char migrator_revision_metadata[] =                                             \
        MIGRATOR_METADATA_MAGIC "\n"                                                             \
        "abi=" MIGRATOR_DETAIL_STR(MIGRATOR_ABI_VERSION) "\n"                                    \
        "api=" MIGRATOR_PLUGIN_API_VERSION "\n"                                                   \
        "platform=" MIGRATOR_PLATFORM "\n"                                                        \
        __VA_ARGS__                                                                              \
        "sha256=" MIGRATOR_SOURCE_SHA256 "\n";                                                   \
    __attribute__((visibility("default"))) const migrator_plugin* migrator_plugin_entry(void) { \
        static const migrator_plugin plugin = {                                                  \
            MIGRATOR_ABI_VERSION,                                                                \
            sizeof(migrator_plugin),                                                             \
            migrator_revision_metadata,                                                          \
            sizeof(migrator_revision_metadata) - 1,                                              \
            &::migrator::detail::run_step<&upgrade>,                                             \
            &::migrator::detail::run_step<&downgrade>,                                           \
        };                                                                                       \
        return &plugin;                                                                          \
    }                                                                                            \
    }                                                                                            \
    static_assert(true, "MIGRATOR_REVISION(...) is followed by a semicolon")
// clang-format on

#endif  // MIGRATOR_REVISION_HPP
