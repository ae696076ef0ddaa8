// migrator log: the run history the history table records, as lines or JSON.
#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <iomanip>
#include <iostream>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "format.hpp"

namespace migrator::cli {
namespace {

/// "base", or the rows joined by ", ".
std::string rows_text(const std::vector<std::string>& rows) {
    return rows.empty() ? std::string("base") : join(rows, ", ");
}

/// "ok", "failed" or "dirty" (a non-transactional step that has not been seen to finish).
std::string outcome_of(const HistoryRecord& record) {
    if (record.dirty) return "dirty";
    return record.success ? "ok" : "failed";
}

boost::json::value text_or_null(const std::string& text) {
    return text.empty() ? boost::json::value(nullptr) : boost::json::value(text);
}

boost::json::object step_json(const HistoryRecord& record) {
    return {{"id", record.id},
            {"revision", record.revision},
            {"direction", history_direction_name(record.direction)},
            {"outcome", outcome_of(record)},
            {"started_at", record.started_at},
            {"duration_ms", record.duration_ms},
            {"heads_before", boost::json::value_from(record.heads_before)},
            {"heads_after", boost::json::value_from(record.heads_after)},
            {"source_sha256", text_or_null(record.source_sha256)},
            {"error", text_or_null(record.error)},
            {"run_by", text_or_null(record.run_by)},
            {"run_host", text_or_null(record.run_host)}};
}

/// One line a step: "2026-12-04T01:02:03.123Z  upgrade    c3c3c3c3c3c3  ok      4.2 ms
/// b2b2b2b2b2b2 -> c3c3c3c3c3c3  alice@build1", then its error indented on the next line.
std::string step_line(const HistoryRecord& record, const Colours& colours) {
    // Every value is escaped (printable) before it is coloured: the rows are the database's.
    std::ostringstream line;
    line << printable(record.started_at) << "  " << std::left << std::setw(11)
         << history_direction_name(record.direction) << "  " << std::setw(12)
         << (record.revision.empty() ? std::string("-") : printable(record.revision)) << "  ";
    const std::string outcome = outcome_of(record);
    const std::string padded = outcome + std::string(6 - outcome.size(), ' ');
    line << (outcome == "ok" ? colours.green(padded) : colours.red(padded)) << "  " << std::right
         << std::setw(9) << format_duration(record.duration_ms) << "  "
         << printable(rows_text(record.heads_before))
         << (record.success && record.heads_after != record.heads_before
                 ? " -> " + printable(rows_text(record.heads_after))
                 : " (unchanged)");
    if (!record.run_by.empty() || !record.run_host.empty())
        line << "  " << printable(record.run_by)
             << (record.run_host.empty() ? "" : "@" + printable(record.run_host));
    // A successful step's text is a note (a resolve, an accepted edit), a failed one's its error.
    if (!record.error.empty())
        line << "\n    " << (record.success ? "note: " : "error: ") << printable(record.error);
    return line.str();
}

}  // namespace

int run_log(const GlobalOptions& options, const LogOptions& log) {
    const auto db = open(options, true);
    std::vector<HistoryRecord> steps;
    for (auto& record : db->read_history(false)) {
        if (!log.revision.empty() && record.revision.compare(0, log.revision.size(), log.revision))
            continue;
        if (log.failed && record.success && !record.dirty) continue;
        steps.push_back(std::move(record));
    }
    // read_history gives the oldest first; the newest `limit` are kept either way.
    if (log.limit > 0 && steps.size() > log.limit)
        steps.erase(steps.begin(), steps.end() - static_cast<std::ptrdiff_t>(log.limit));
    if (!log.oldest_first) std::reverse(steps.begin(), steps.end());

    if (options.json) {
        boost::json::array array;
        for (const auto& record : steps) array.push_back(step_json(record));
        print_json({{"database", db->describe()}, {"steps", std::move(array)}});
        return exit_ok;
    }
    const Colours colours{Colours::enabled_for(1)};
    for (const auto& record : steps) std::cout << step_line(record, colours) << '\n';
    return exit_ok;
}

}  // namespace migrator::cli
