// Text every part of migrator and scaffold writes alike: lists of names and counts in messages.
#ifndef MIGRATOR_TEXT_HPP
#define MIGRATOR_TEXT_HPP

#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// `items` with `separator` between each two: join({"a", "b"}) is "a, b"; no items is "".
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

/// `count` and `thing`, plural unless one: count_of(2, "revision") is "2 revisions".
std::string count_of(std::size_t count, const char* thing);

}  // namespace migrator

#endif  // MIGRATOR_TEXT_HPP
