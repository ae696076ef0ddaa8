// Today's plugin ABI header, compiled alone (see abi_layout.hpp).
#include <migrator/plugin_abi.h>

#include <cstddef>
#include <typeinfo>

#include "abi_layout.hpp"

namespace abi_layout {
namespace {
#include "abi_layout_fields.inc"
}  // namespace

Layout current() { return layout_of_this_header(); }

std::size_t current_first_v2_host_field() { return offsetof(migrator_host, run_operation); }

}  // namespace abi_layout
