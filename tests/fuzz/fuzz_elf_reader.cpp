// Fuzz target: the ELF section reader, the metadata parser, the platform check and the loader's
// file checks (check_plugin_image), on arbitrary file contents.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <string>

namespace {

// The reader takes a path, so each input becomes the contents of one in-memory file that the
// reader opens through /proc/self/fd, as it would open a plugin in a versions directory.
class InputFile {
public:
    InputFile() : fd_(::memfd_create("fuzz_elf_reader", MFD_CLOEXEC)) {
        if (fd_ < 0) std::abort();
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }

    const std::string& write(const std::uint8_t* data, std::size_t size) {
        if (::ftruncate(fd_, 0) != 0) std::abort();
        std::size_t done = 0;
        while (done < size) {
            const ssize_t wrote = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
            if (wrote <= 0) std::abort();
            done += static_cast<std::size_t>(wrote);
        }
        return path_;
    }
    int fd() const { return fd_; }

private:
    int fd_;
    std::string path_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static InputFile file;
    const std::string& path = file.write(data, size);
    try {
        const std::string section = migrator::read_elf_section(path, MIGRATOR_METADATA_SECTION);
        migrator::parse_metadata(section, path);
    } catch (const migrator::Error&) {
        // A refusal with a message is the reader's job; only crashes and other exceptions count.
    }
    try {
        // What every command does with a plugin file: the section, the header's platform, the
        // metadata, then the platform check (which names the platform the header claims).
        migrator::ElfPlatform platform;
        const std::string section =
            migrator::read_elf_section(file.fd(), size, path, MIGRATOR_METADATA_SECTION, platform);
        const migrator::Revision revision = migrator::parse_metadata(section, path);
        migrator::check_plugin_platform(revision, platform, path);
    } catch (const migrator::Error&) {
        // As above.
    }
    try {
        migrator::check_plugin_image(file.fd(), size, path);
    } catch (const migrator::Error&) {
        // As above: the program headers and the dynamic symbol table are untrusted input too.
    }
    return 0;
}
