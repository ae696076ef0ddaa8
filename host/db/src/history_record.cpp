// One home for how a history row's direction and version rows are named and stored.
#include <migrator/common/errors.hpp>
#include <migrator/db/db.hpp>

#include "sql_database.hpp"

namespace migrator {
namespace {

struct NamedDirection {
    HistoryDirection direction;
    const char* name;
};

constexpr NamedDirection direction_names[] = {
    {HistoryDirection::upgrade, "upgrade"},
    {HistoryDirection::downgrade, "downgrade"},
    {HistoryDirection::stamp, "stamp"},
    {HistoryDirection::resolve, "resolve"},
    {HistoryDirection::accept_edit, "accept-edit"},
};

}  // namespace

const char* history_direction_name(HistoryDirection direction) {
    for (const auto& named : direction_names)
        if (named.direction == direction) return named.name;
    return "unknown";
}

std::optional<HistoryDirection> history_direction_named(std::string_view text) {
    for (const auto& named : direction_names)
        if (text == named.name) return named.direction;
    return std::nullopt;
}

namespace detail {

std::string stored_heads(const std::vector<std::string>& heads) {
    std::string text;
    for (const auto& head : heads) text += (text.empty() ? "" : ",") + head;
    return text;
}

std::vector<std::string> heads_of_stored(const std::string& text) {
    std::vector<std::string> heads;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto comma = std::min(text.find(',', start), text.size());
        if (comma > start) heads.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return heads;
}

HistoryDirection stored_direction(const std::string& text, const std::string& history) {
    if (const auto direction = history_direction_named(text)) return *direction;
    throw DatabaseError("history table " + history + " holds a row of unknown direction '" + text +
                        "', which no migrator writes");
}

}  // namespace detail
}  // namespace migrator
