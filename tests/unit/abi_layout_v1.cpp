// The frozen version-1 plugin ABI header, compiled alone (see abi_layout.hpp).
// By its path, not through the include path, where today's header of the same name sits.
#include <cstddef>
#include <typeinfo>

#include "../fixtures/abi_v1/migrator/plugin_abi.h"
#include "abi_layout.hpp"

static_assert(MIGRATOR_ABI_VERSION == 1, "abi_layout_v1.cpp must compile the frozen v1 header");

namespace abi_layout {
namespace {
#include "abi_layout_fields.inc"
}  // namespace

Layout frozen_v1() { return layout_of_this_header(); }

}  // namespace abi_layout
