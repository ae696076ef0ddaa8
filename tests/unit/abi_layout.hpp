// The layout of the plugin ABI's v1 structs and constants, as one header version compiles them:
// abi_layout_v1.cpp compiles the frozen version-1 header, abi_layout_current.cpp today's, each
// alone in its translation unit (both define the same C names), and abi_layout_test.cpp compares.
#ifndef MIGRATOR_TEST_ABI_LAYOUT_HPP
#define MIGRATOR_TEST_ABI_LAYOUT_HPP

#include <cstddef>
#include <string>
#include <vector>

namespace abi_layout {

/// One field of a struct: where it sits, how large it is, and its type (typeid's name, which
/// spells a function pointer's whole signature).
struct Field {
    std::string name;
    std::size_t offset;
    std::size_t size;
    std::string type;
};

/// What a plugin of ABI 1 relies on, as one version of plugin_abi.h defines it.
struct Layout {
    long abi_version;
    std::vector<Field> host;  ///< the fields of migrator_host that ABI 1 has, in order
    std::size_t host_size;
    std::vector<Field> plugin;  ///< the fields of migrator_plugin that ABI 1 has, in order
    std::size_t plugin_size;
    std::string row_fn, step_fn, entry_fn;  ///< typeid names of the function pointer types
    long ok, error, log_info, log_warning;
    std::string metadata_section, metadata_magic, entry_symbol, seal_magic;
};

/// tests/fixtures/abi_v1/migrator/plugin_abi.h, frozen at version 1.
Layout frozen_v1();
/// plugin-api/include/migrator/plugin_abi.h as it is today (its v1 fields only).
Layout current();
/// Today's offsetof(migrator_host, run_operation): where the fields ABI 2 appended begin.
std::size_t current_first_v2_host_field();

}  // namespace abi_layout

#endif  // MIGRATOR_TEST_ABI_LAYOUT_HPP
