// Revision plugin files: find them, read their metadata without running code, load on demand.
#ifndef MIGRATOR_PLUGINS_HPP
#define MIGRATOR_PLUGINS_HPP

#include <migrator/plugin_abi.h>

#include <filesystem>
#include <memory>
#include <migrator/graph.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// A plugin file whose metadata has been read (the plugin itself is not loaded).
struct PluginFile {
    std::filesystem::path path;  ///< absolute
    Revision revision;           ///< parsed from the metadata section; revision.path == path
    std::string metadata;        ///< the raw metadata text, compared with the entry point's
};

/// Reads the raw bytes of the named section of an ELF file, without loading it. Bounds-checked:
/// throws PluginError naming `file` when it is empty, truncated, not ELF, malformed, or has no
/// such section. Never reads outside the file. (The only object-format-specific code.)
std::string read_elf_section(const std::filesystem::path& file, std::string_view section_name);

/// Parses metadata text (see plugin_abi.h). Throws PluginError naming `file` when the magic line,
/// a required key or the ABI version is missing or wrong, or an id is malformed.
Revision parse_metadata(std::string_view text, const std::filesystem::path& file);

/// Reads one plugin file's metadata: read_elf_section + parse_metadata.
PluginFile read_plugin_file(const std::filesystem::path& file);

/// Every `*.so` file in `dir` (not recursive), read with read_plugin_file, sorted by path. Other
/// files are ignored. Throws PluginError when `dir` is not a readable directory or a `.so` is not
/// a valid plugin.
std::vector<PluginFile> scan_versions_dir(const std::filesystem::path& dir);

/// A plugin loaded into the process (dlopen RTLD_NOW|RTLD_LOCAL via Boost.DLL). Stays loaded
/// while this object lives.
class LoadedPlugin {
public:
    /// Loads `file` by absolute path, calls its entry point and checks that the ABI version is
    /// known, the struct is complete and its metadata equals the section's. Throws PluginError.
    explicit LoadedPlugin(const PluginFile& file);
    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;

    const PluginFile& file() const { return file_; }
    /// The step function for a direction; never null.
    migrator_step_fn step(Direction direction) const;

private:
    struct Library;
    PluginFile file_;
    std::unique_ptr<Library> library_;
    const migrator_plugin* entry_ = nullptr;
};

}  // namespace migrator

#endif  // MIGRATOR_PLUGINS_HPP
