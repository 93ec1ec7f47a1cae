// SPDX-License-Identifier: Apache-2.0
// ConfigLoader: the public entry points. `load(paths:)` reads `-f` arguments (files, or directories of `*.cfg` in
// name order) with plain open/read, then parses them as one concatenated configuration; `parse(text:fileName:)`
// does the same for text already in memory. Blocking file I/O: call it before the loop starts or during a reload.

#if canImport(Glibc)
import Glibc
#endif

/// The outcome of a load: the model when there was no alert, and every diagnostic in file order.
public struct ConfigLoadResult: Sendable {
    /// nil when any alert was raised.
    public var configuration: Configuration?
    /// Every alert and warning, in file order.
    public var diagnostics: [Diagnostic]
    /// The model as far as it could be parsed, alerts or not: never run, only searched for the errors that
    /// parsing cannot see (a certificate's contents), so that one `-c` reports them all.
    public var partialConfiguration: Configuration?

    /// Builds a result (the loader does; tests and the proxy may too).
    public init(configuration: Configuration?, diagnostics: [Diagnostic], partialConfiguration: Configuration? = nil) {
        self.configuration = configuration
        self.diagnostics = diagnostics
        self.partialConfiguration = partialConfiguration ?? configuration
    }
}

/// Loads and validates configuration files.
public enum ConfigLoader {
    /// Load `-f` arguments in order: a file is read; a directory contributes its `*.cfg` files in name order
    /// (non-recursive), as HAProxy does. Errors (unreadable file, etc.) become diagnostics.
    public static func load(paths: [String], environment: ConfigEnvironment = .process) -> ConfigLoadResult {
        var parser = ConfigParser(environment: environment)
        for path in paths {
            switch FileReader.kind(of: path) {
            case .failure(let error):
                parser.beginFile(path)
                parser.record(Diagnostic(severity: .alert, location: nil, message: error.message))
            case .success(.directory):
                switch FileReader.configFiles(in: path) {
                case .failure(let error):
                    parser.beginFile(path)
                    parser.record(Diagnostic(severity: .alert, location: nil, message: error.message))
                case .success(let files):
                    if files.isEmpty {
                        parser.beginFile(path)
                        parser.record(
                            Diagnostic(
                                severity: .warning,
                                location: nil,
                                message: "no '*.cfg' file in configuration directory '\(path)'"
                            )
                        )
                    }
                    for file in files { load(file: file, into: &parser) }
                }
            case .success(.file):
                load(file: path, into: &parser)
            }
        }
        return parser.finish()
    }

    /// Parse text as if it were file `fileName` (for tests and for `-f` files already read).
    public static func parse(
        text: String,
        fileName: String,
        environment: ConfigEnvironment = .process
    ) -> ConfigLoadResult {
        var parser = ConfigParser(environment: environment)
        parser.parse(text: Array(text.utf8), fileName: fileName)
        return parser.finish()
    }

    private static func load(file: String, into parser: inout ConfigParser) {
        switch FileReader.read(file) {
        case .success(let bytes):
            parser.parse(text: bytes, fileName: file)
        case .failure(let error):
            parser.beginFile(file)
            parser.record(Diagnostic(severity: .alert, location: nil, message: error.message))
        }
    }
}

/// A file or directory that could not be read; `message` is the whole alert text.
struct FileError: Error {
    var message: String
}

/// Plain Glibc file access for the loader: stat, open/read, opendir/readdir.
enum FileReader {
    /// What a path names.
    enum Kind {
        case file
        case directory
    }

    /// stat()s `path`; fails with HAProxy's message ("Could not open configuration file X : reason").
    static func kind(of path: String) -> Result<Kind, FileError> {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return .failure(FileError(message: "Could not open configuration file \(path) : \(errorText(errno))"))
        }
        return .success((info.st_mode & S_IFMT) == S_IFDIR ? .directory : .file)
    }

    /// Reads a whole configuration file.
    static func read(_ path: String) -> Result<[UInt8], FileError> {
        switch readBytes(path) {
        case .success(let bytes): return .success(bytes)
        case .failure(.open(let code)):
            return .failure(FileError(message: "Could not open configuration file \(path) : \(errorText(code))"))
        case .failure(.read(let code)):
            return .failure(FileError(message: "Could not read configuration file \(path) : \(errorText(code))"))
        }
    }

    /// Which step of reading a file failed, with its errno.
    enum ReadFailure: Error {
        case open(Int32)
        case read(Int32)
    }

    /// open/read/close of a whole file; the errno of the step that failed.
    static func readBytes(_ path: String) -> Result<[UInt8], ReadFailure> {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.open(errno)) }
        defer { _ = Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: chunk[0..<count])
            } else if count == 0 {
                return .success(bytes)
            } else {
                let error = errno
                if error == EINTR { continue }
                return .failure(.read(error))
            }
        }
    }

    /// A file named inside the configuration (errorfile, pattern file): its bytes, or the system's reason.
    static func contents(of path: String) -> Result<[UInt8], FileAccessError> {
        switch readBytes(path) {
        case .success(let bytes): return .success(bytes)
        case .failure(.open(let code)), .failure(.read(let code)):
            return .failure(FileAccessError(reason: errorText(code)))
        }
    }

    /// stat()s `path` and checks that it can be opened for reading (opendir for a directory); the system's reason
    /// otherwise. Neither a file nor a directory (a socket, a device) is refused as "not a regular file".
    static func accessibleKind(of path: String) -> Result<FileKind, FileAccessError> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(FileAccessError(reason: errorText(errno))) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            guard let dir = opendir(path) else { return .failure(FileAccessError(reason: errorText(errno))) }
            closedir(dir)
            return .success(.directory)
        case S_IFREG:
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return .failure(FileAccessError(reason: errorText(errno))) }
            _ = Glibc.close(fd)
            return .success(.file)
        default:
            return .failure(FileAccessError(reason: "not a regular file"))
        }
    }

    /// The regular files named `*.cfg` directly in `directory`, sorted by name (byte order), as full paths.
    static func configFiles(in directory: String) -> Result<[String], FileError> {
        guard let dir = opendir(directory) else {
            return .failure(
                FileError(message: "Could not open configuration directory \(directory) : \(errorText(errno))")
            )
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let bytes = raw.bindMemory(to: UInt8.self)
                let length = bytes.firstIndex(of: 0) ?? bytes.count
                return String(decoding: bytes[0..<length], as: UTF8.self)
            }
            guard name.hasSuffix(".cfg"), name != ".cfg" else { continue }
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            names.append(path)
        }
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return .success(names)
    }

    private static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
