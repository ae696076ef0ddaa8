// Context::query and the row collection behind it (revision.hpp): an object file of its own, so
// only a revision that reads rows links it in.
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

std::vector<Row> Context::query(std::string_view sql, CallSite site) const {
    RowSink sink;
    const std::string text(sql);
    if (host_->query(host_->session, text.c_str(), &collect_row, &sink) != MIGRATOR_OK) {
        // A row the plugin failed to take (out of memory) fails the query, never loses rows.
        if (sink.failure) std::rethrow_exception(sink.failure);
        if (offline()) throw OfflineQueryError(host_->last_error(host_->session), site, text);
        throw SqlError(host_->last_error(host_->session), site, text);
    }
    return std::move(sink.rows);
}

std::optional<std::string> Context::scalar(std::string_view sql, CallSite site) const {
    auto rows = query(sql, site);
    if (rows.empty() || rows.front().values.empty()) return std::nullopt;
    return rows.front().values.front();
}

}  // namespace migrator
