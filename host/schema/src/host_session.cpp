// The host side of migrator_host: routes a plugin's (or introspection's) calls to a Database.
#include <migrator/common/errors.hpp>
#include <migrator/revision.hpp>
#include <migrator/schema/host_session.hpp>
#include <migrator/schema/operation_decoding.hpp>
#include <migrator/schema/schema_operations.hpp>
#include <optional>
#include <utility>
#include <vector>

namespace migrator {

HostSession::HostSession(Database& db, LogLine log)
    : db_(db), log_(std::move(log)), dialect_(db.dialect()) {
    host_.abi_version = MIGRATOR_ABI_VERSION;
    host_.struct_size = sizeof(migrator_host);
    host_.session = this;
    host_.dialect = dialect_.c_str();
    host_.offline = db.offline() ? 1 : 0;
    host_.execute = &HostSession::execute;
    host_.query = &HostSession::query;
    host_.last_error = &HostSession::last_error;
    host_.log = &HostSession::log;
    host_.run_operation = &HostSession::run_operation;
    host_.argument = &HostSession::argument;
}

const char* HostSession::argument(void* opaque, const char* key) {
    const auto& arguments = static_cast<HostSession*>(opaque)->arguments_;
    const auto found = arguments.find(key ? key : "");
    return found == arguments.end() ? nullptr : found->second.c_str();
}

int HostSession::execute(void* opaque, const char* sql) {
    auto& session = *static_cast<HostSession*>(opaque);
    try {
        session.db_.execute(sql ? sql : "");
        return MIGRATOR_OK;
    } catch (const std::exception& e) {
        session.failed(e);
    }
    return MIGRATOR_ERROR;
}

int HostSession::query(void* opaque, const char* sql, migrator_row_fn on_row, void* user) {
    auto& session = *static_cast<HostSession*>(opaque);
    try {
        std::vector<const char*> values;
        std::vector<const char*> names;
        bool row_failed = false;
        session.db_.query(sql ? sql : "", [&](const std::vector<std::string>& columns,
                                              const std::vector<std::optional<std::string>>& row) {
            names.clear();
            values.clear();
            for (const auto& c : columns) names.push_back(c.c_str());
            for (const auto& v : row) values.push_back(v ? v->c_str() : nullptr);
            if (on_row == nullptr) return true;
            const int verdict =
                on_row(user, static_cast<int>(values.size()), values.data(), names.data());
            if (verdict == MIGRATOR_ROW_NEXT) return true;
            // ABI 1 knew only "stop"; from ABI 2 on, a value other than MIGRATOR_ROW_STOP means
            // the plugin could not take a row, and a silently shortened result would lose it.
            row_failed = session.plugin_abi_ >= 2 && verdict != MIGRATOR_ROW_STOP;
            return false;
        });
        if (!row_failed) return MIGRATOR_OK;
        session.last_error_ = "the revision stopped reading rows with an error";
        return MIGRATOR_ERROR;
    } catch (const std::exception& e) {
        session.failed(e);
    }
    return MIGRATOR_ERROR;
}

int HostSession::run_operation(void* opaque, const void* operation, std::size_t operation_size) {
    auto& session = *static_cast<HostSession*>(opaque);
    try {
        const Operation decoded = decode_operation(operation, operation_size);
        // The rendered statements go through this session's own execute/query, exactly as the
        // revision's own SQL does: same transaction, same offline printing, same error handling.
        Context context(&session.host_);
        SchemaOperations(context).run(decoded);
        return MIGRATOR_OK;
    } catch (const std::exception& e) {
        session.failed(e);
    }
    return MIGRATOR_ERROR;
}

void HostSession::failed(const std::exception& e) {
    last_error_ = e.what();
    // A statement migrator rendered for a portable operation is named (the revision knows only
    // the operation); where migrator's own code ran it is of no use to the revision's author.
    if (const auto* sql = dynamic_cast<const SqlError*>(&e); sql && !sql->statement().empty())
        last_error_ = SqlError(e.what(), CallSite(nullptr, 0), sql->statement()).described();
    if (dynamic_cast<const DatabaseStorageError*>(&e)) storage_failure_ = std::current_exception();
}

void HostSession::rethrow_storage_failure() const {
    if (storage_failure_) std::rethrow_exception(storage_failure_);
}

const char* HostSession::last_error(void* opaque) {
    return static_cast<HostSession*>(opaque)->last_error_.c_str();
}

void HostSession::log(void* opaque, int /*level*/, const char* message) {
    auto& session = *static_cast<HostSession*>(opaque);
    if (!session.log_) return;
    try {
        session.log_(message ? message : "");
    } catch (...) {
        // Logging must never turn into an exception crossing back into the plugin.
    }
}

}  // namespace migrator
