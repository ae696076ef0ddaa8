// The release public keys compiled into this migrator (CMake: -DMIGRATOR_RELEASE_PUBLIC_KEY=FILE):
// a bundle whose migrator carries them needs no key file to refuse unsigned plugins.
#include "cli.hpp"

#ifdef MIGRATOR_RELEASE_KEYS_HEADER
#include MIGRATOR_RELEASE_KEYS_HEADER
#endif
#ifndef MIGRATOR_RELEASE_KEYS
#define MIGRATOR_RELEASE_KEYS ""
#endif

namespace migrator::cli {

const char* compiled_release_keys() { return MIGRATOR_RELEASE_KEYS; }

}  // namespace migrator::cli
