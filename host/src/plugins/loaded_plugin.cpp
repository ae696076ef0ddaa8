// Loading one revision plugin with Boost.DLL and checking its entry point against its metadata.
#include <boost/dll/shared_library.hpp>
#include <migrator/errors.hpp>
#include <migrator/plugins.hpp>

namespace migrator {

struct LoadedPlugin::Library {
    boost::dll::shared_library library;
};

LoadedPlugin::LoadedPlugin(const PluginFile& file) : file_(file), library_(new Library) {
    const std::string name = file_.path.string();
    try {
        // RTLD_LOCAL keeps one revision's symbols from resolving another's; RTLD_NOW reports a
        // missing symbol here rather than in the middle of a migration.
        library_->library.load(boost::dll::fs::path(name),
                               boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        throw PluginError("cannot load plugin " + name + ": " + e.what());
    }
    if (!library_->library.has(MIGRATOR_ENTRY_SYMBOL))
        throw PluginError("plugin " + name +
                          " does not export " MIGRATOR_ENTRY_SYMBOL
                          "; was it built with migrator_add_revision()?");
    const auto entry = library_->library.get<const migrator_plugin*()>(MIGRATOR_ENTRY_SYMBOL);
    entry_ = entry();
    if (entry_ == nullptr)
        throw PluginError("plugin " + name + ": " MIGRATOR_ENTRY_SYMBOL " returned nothing");
    // The magic-block check of PostgreSQL modules: refuse before calling anything else.
    if (entry_->abi_version != MIGRATOR_ABI_VERSION)
        throw PluginError("plugin " + name + " was built for plugin ABI version " +
                          std::to_string(entry_->abi_version) + ", but this migrator supports " +
                          "version " + std::to_string(MIGRATOR_ABI_VERSION) + "; rebuild it");
    if (entry_->struct_size < sizeof(migrator_plugin))
        throw PluginError("plugin " + name + " returned an incomplete plugin description (" +
                          std::to_string(entry_->struct_size) + " bytes); rebuild it");
    if (entry_->metadata == nullptr ||
        std::string_view(entry_->metadata, entry_->metadata_size) != file_.metadata)
        throw PluginError("plugin " + name +
                          ": the metadata its entry point returns differs from its metadata "
                          "section; the file was built incorrectly or tampered with");
    if (entry_->upgrade == nullptr || entry_->downgrade == nullptr)
        throw PluginError("plugin " + name + " has no upgrade or downgrade function");
}

LoadedPlugin::~LoadedPlugin() = default;

migrator_step_fn LoadedPlugin::step(Direction direction) const {
    return direction == Direction::upgrade ? entry_->upgrade : entry_->downgrade;
}

}  // namespace migrator
