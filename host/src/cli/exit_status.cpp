// The one mapping from an error's kind to the exit status both programs report it with.
#include <migrator/database_url.hpp>
#include <migrator/errors.hpp>

#include "cli.hpp"

namespace migrator::cli {

ErrorReport report_of_current_exception() {
    const auto report = [](int status, const std::exception& e) {
        return ErrorReport{status, mask_password(e.what()), status == exit_internal};
    };
    try {
        throw;
    } catch (const ConfigError& e) {
        return report(exit_usage, e);
    } catch (const MigrationError& e) {
        return report(exit_migration_failed, e);
    } catch (const DirtyError& e) {
        return report(exit_dirty, e);
    } catch (const RevisionError& e) {
        return report(exit_revision, e);
    } catch (const PluginError& e) {
        return report(exit_plugin, e);
    } catch (const LockError& e) {
        return report(exit_lock_timeout, e);
    } catch (const DatabaseError& e) {
        return report(exit_database, e);
    } catch (const std::exception& e) {
        return report(exit_internal, e);
    } catch (...) {
        return ErrorReport{exit_internal, "an exception that is not a std::exception", true};
    }
}

}  // namespace migrator::cli
