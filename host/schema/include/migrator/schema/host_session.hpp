// The host side of the plugin ABI over one Database: what a revision's Context calls into.
#ifndef MIGRATOR_HOST_SESSION_HPP
#define MIGRATOR_HOST_SESSION_HPP

#include <migrator/plugin_abi.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <migrator/db/db.hpp>
#include <string>
#include <utility>

namespace migrator {

/// A migrator_host whose execute/query run on a Database and whose log lines go to a callback.
/// The runner hands it to each plugin it calls; introspection builds a Context over it. It keeps
/// the last error text alive for last_error(); nothing thrown by the database or the callback
/// crosses the C boundary.
class HostSession {
public:
    /// Receives each line a revision logs.
    using LogLine = std::function<void(const std::string& message)>;

    /// `db` must outlive the session; `log` may be empty (log lines are dropped).
    HostSession(Database& db, LogLine log);
    HostSession(const HostSession&) = delete;
    HostSession& operator=(const HostSession&) = delete;

    /// The C struct to pass to a plugin or to a Context; valid while this session lives.
    const migrator_host* host() const { return &host_; }

    /// Serves a plugin built for ABI `abi` (1 to MIGRATOR_ABI_VERSION, the default) from now on:
    /// what its calls mean follows its version. For ABI 2 on, a row callback returning
    /// MIGRATOR_ROW_FAILED fails the query; for ABI 1, any non-zero return stops it early.
    void serve_plugin_abi(std::uint32_t abi) { plugin_abi_ = abi; }

    /// What Context::argument answers from now on: the run's `-x key=value` pairs.
    void set_arguments(std::map<std::string, std::string> arguments) {
        arguments_ = std::move(arguments);
    }

    /// Rethrows the DatabaseStorageError a statement of the plugin met, if one did (a read-only
    /// file, a full disk): the run then fails as the database's fault, not the revision's.
    void rethrow_storage_failure() const;

private:
    /// Keeps what a call from the plugin threw (called inside its catch block).
    void failed(const std::exception& e);
    static int execute(void* session, const char* sql);
    static int query(void* session, const char* sql, migrator_row_fn on_row, void* user);
    static const char* last_error(void* session);
    static void log(void* session, int level, const char* message);
    /// Decodes one portable operation (untrusted bytes from the plugin), renders it for the
    /// session's dialect and runs it through execute/query above (so --sql prints it).
    static int run_operation(void* session, const void* operation, std::size_t operation_size);
    static const char* argument(void* session, const char* key);

    Database& db_;
    LogLine log_;
    std::string dialect_;
    std::string last_error_;
    std::exception_ptr storage_failure_;
    std::map<std::string, std::string> arguments_;
    std::uint32_t plugin_abi_ = MIGRATOR_ABI_VERSION;  ///< of the plugin being served
    migrator_host host_{};
};

}  // namespace migrator

#endif  // MIGRATOR_HOST_SESSION_HPP
