// The bodies of the revision authoring layer (revision.hpp): compiled once into the plugin-api
// support library that every plugin links, so a revision compiles only its own code.
#include <cstring>
#include <exception>
#include <migrator/revision.hpp>
#include <utility>

namespace migrator {

namespace {

struct RowSink {
    std::vector<Row> rows;
    std::exception_ptr failure;
};

int collect_row(void* user, int count, const char* const* values, const char* const* names) {
    // Runs inside the host's query loop: must not throw across the C boundary.
    auto& sink = *static_cast<RowSink*>(user);
    try {
        Row row;
        for (int i = 0; i < count; ++i) {
            row.columns.emplace_back(names[i] ? names[i] : "");
            row.values.emplace_back(values[i] ? std::optional<std::string>(values[i])
                                              : std::nullopt);
        }
        sink.rows.push_back(std::move(row));
        return MIGRATOR_ROW_NEXT;
    } catch (...) {
        sink.failure = std::current_exception();
        return MIGRATOR_ROW_FAILED;
    }
}

}  // namespace

const std::optional<std::string>& Row::operator[](std::string_view column) const {
    for (std::size_t i = 0; i < columns.size(); ++i)
        if (columns[i] == column) return values[i];
    throw std::out_of_range("no column named '" + std::string(column) + "' in the result");
}

void Context::execute(std::string_view sql) const {
    const std::string text(sql);
    if (host_->execute(host_->session, text.c_str()) != MIGRATOR_OK)
        throw SqlError(host_->last_error(host_->session));
}

std::vector<Row> Context::query(std::string_view sql) const {
    RowSink sink;
    const std::string text(sql);
    if (host_->query(host_->session, text.c_str(), &collect_row, &sink) != MIGRATOR_OK) {
        // A row the plugin failed to take (out of memory) fails the query, never loses rows.
        if (sink.failure) std::rethrow_exception(sink.failure);
        if (offline()) throw OfflineQueryError(host_->last_error(host_->session));
        throw SqlError(host_->last_error(host_->session));
    }
    return std::move(sink.rows);
}

std::optional<std::string> Context::scalar(std::string_view sql) const {
    auto rows = query(sql);
    if (rows.empty() || rows.front().values.empty()) return std::nullopt;
    return rows.front().values.front();
}

void Context::log(std::string_view message) const {
    const std::string text(message);
    host_->log(host_->session, MIGRATOR_LOG_INFO, text.c_str());
}

void Context::run_operation(const void* operation, std::size_t size) const {
    if (!MIGRATOR_HOST_HAS(host_, run_operation) || host_->run_operation == nullptr)
        throw SqlError("this migrator cannot run portable operations (its plugin ABI is " +
                       std::to_string(host_->abi_version) + "); upgrade migrator");
    if (host_->run_operation(host_->session, operation, size) != MIGRATOR_OK)
        throw SqlError(host_->last_error(host_->session));
}

namespace detail {

void copy_error(char* error, std::size_t size, const char* text) noexcept {
    if (error == nullptr || size == 0) return;
    std::strncpy(error, text, size - 1);
    error[size - 1] = '\0';
}

}  // namespace detail
}  // namespace migrator
