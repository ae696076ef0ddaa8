// Exception types the host throws; each maps to one documented exit status in the CLI.
#ifndef MIGRATOR_ERRORS_HPP
#define MIGRATOR_ERRORS_HPP

#include <stdexcept>

namespace migrator {

/// Base of every error the host reports: what() is one sentence a user can act on.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A setting is wrong: the config file is missing, unreadable, or holds an unknown key or value.
class ConfigError : public Error {
public:
    using Error::Error;
};

/// The revision graph or a revision identifier is wrong (unknown, ambiguous, cycle, ...).
class RevisionError : public Error {
public:
    using Error::Error;
};

/// A plugin file or the versions directory cannot be used (not ELF, no metadata, wrong ABI, ...).
class PluginError : public Error {
public:
    using Error::Error;
};

/// The database URL is malformed, or the database cannot be opened, read or written.
class DatabaseError : public Error {
public:
    using Error::Error;
};

/// The database cannot be written or read for a reason of its storage, not of any statement: a
/// read-only file, directory, mount or transaction, a full disk, an I/O error. A database failure
/// (exit status 5) even when a revision's own SQL met it; the sentence says what to fix.
class DatabaseStorageError : public DatabaseError {
public:
    using DatabaseError::DatabaseError;
};

/// Another migrator held the migration lock for longer than the lock timeout.
class LockError : public DatabaseError {
public:
    using DatabaseError::DatabaseError;
};

/// A revision's upgrade or downgrade failed; the database is left at the previous revision.
class MigrationError : public Error {
public:
    using Error::Error;
};

/// The database is dirty: a non-transactional revision started and did not finish, so the schema
/// is in an unknown state until the user resolves it (`migrator resolve`).
class DirtyError : public Error {
public:
    using Error::Error;
};

/// The database's version rows are not the heads of the revisions where a command needs them to
/// be (autogenerate would diff against a schema the revisions do not end at).
class NotUpToDateError : public Error {
public:
    using Error::Error;
};

}  // namespace migrator

#endif  // MIGRATOR_ERRORS_HPP
