// SPDX-License-Identifier: Apache-2.0
// ConfigEnvironment: everything a load asks the outside world: environment variables (`"${VAR}"`), host name
// resolution (`server s db:5432`), user and group ids (`user haproxy`), and the files the configuration names
// (`crt`, `ca-file`, `errorfile`, `-f` pattern files). Injectable so tests are deterministic; `.process` is the real
// thing (getenv, getaddrinfo, getpwnam_r, getgrnam_r, stat/open/read). Blocking; called only while loading.

#if canImport(Glibc)
import Glibc
#endif

/// Lookup of environment variables (`${VAR}`), host names, users and groups for one configuration load.
/// `.process` uses getenv, getaddrinfo, getpwnam_r and getgrnam_r; tests build one from dictionaries.
public struct ConfigEnvironment: Sendable {
    /// Returns the value of an environment variable, nil when unset (an empty value is not unset).
    public var variable: @Sendable (_ name: String) -> String?
    /// Resolves a host name to one address (the port is ignored and set by the caller); nil when it does not
    /// resolve. Numeric addresses never reach it.
    public var resolveHost: @Sendable (_ host: String) -> NetworkAddress?
    /// Returns the uid of a user name, nil when there is no such user.
    public var userID: @Sendable (_ name: String) -> UInt32?
    /// Returns the gid of a group name, nil when there is no such group.
    public var groupID: @Sendable (_ name: String) -> UInt32?
    /// Says whether a path names a readable regular file or a readable directory (`crt` takes either), or why not.
    public var fileKind: @Sendable (_ path: String) -> Result<FileKind, FileAccessError>
    /// Reads a whole file (`errorfile`, `http-request return file`, ACL `-f` pattern files).
    public var readFile: @Sendable (_ path: String) -> Result<[UInt8], FileAccessError>

    /// Builds an environment from closures (each defaults to "not found"; files to "No such file or directory").
    public init(
        variable: @escaping @Sendable (String) -> String? = { _ in nil },
        resolveHost: @escaping @Sendable (String) -> NetworkAddress? = { _ in nil },
        userID: @escaping @Sendable (String) -> UInt32? = { _ in nil },
        groupID: @escaping @Sendable (String) -> UInt32? = { _ in nil },
        fileKind: @escaping @Sendable (String) -> Result<FileKind, FileAccessError> = { _ in .failure(.notFound) },
        readFile: @escaping @Sendable (String) -> Result<[UInt8], FileAccessError> = { _ in .failure(.notFound) }
    ) {
        self.variable = variable
        self.resolveHost = resolveHost
        self.userID = userID
        self.groupID = groupID
        self.fileKind = fileKind
        self.readFile = readFile
    }

    /// Builds a fixed environment for tests: `hosts` maps a name to an address (its port is ignored); `files` maps a
    /// path to its contents and `directories` lists readable directories; every other path does not exist.
    public init(
        variables: [String: String],
        hosts: [String: NetworkAddress] = [:],
        users: [String: UInt32] = [:],
        groups: [String: UInt32] = [:],
        files: [String: String] = [:],
        directories: Set<String> = []
    ) {
        self.init(
            variable: { variables[$0] },
            resolveHost: { hosts[$0] },
            userID: { users[$0] },
            groupID: { groups[$0] },
            fileKind: { path in
                if directories.contains(path) { return .success(.directory) }
                return files[path] == nil ? .failure(.notFound) : .success(.file)
            },
            readFile: { path in
                if directories.contains(path) { return .failure(FileAccessError(reason: "Is a directory")) }
                guard let text = files[path] else { return .failure(.notFound) }
                return .success(Array(text.utf8))
            }
        )
    }

    /// The running process: getenv, getaddrinfo (IPv4 answers preferred, as they are the common case and make the
    /// choice deterministic), getpwnam_r and getgrnam_r.
    public static var process: ConfigEnvironment {
        ConfigEnvironment(
            variable: { name in
                guard let value = getenv(name) else { return nil }
                return String(cString: value)
            },
            resolveHost: { ProcessLookup.resolve($0) },
            userID: { ProcessLookup.userID($0) },
            groupID: { ProcessLookup.groupID($0) },
            fileKind: { FileReader.accessibleKind(of: $0) },
            readFile: { FileReader.contents(of: $0) }
        )
    }
}

/// What a path named in the configuration is.
public enum FileKind: Sendable, Equatable {
    case file
    case directory
}

/// Why a file named in the configuration could not be used: the system's reason (strerror text).
public struct FileAccessError: Error, Sendable, Equatable {
    public var reason: String

    /// Wraps a reason such as "Permission denied".
    public init(reason: String) {
        self.reason = reason
    }

    /// ENOENT's text.
    public static let notFound = FileAccessError(reason: "No such file or directory")
}

/// The libc lookups behind `ConfigEnvironment.process`.
enum ProcessLookup {
    /// getaddrinfo(host, AF_UNSPEC, SOCK_STREAM): the first IPv4 answer, else the first IPv6 one; port 0.
    static func resolve(_ host: String) -> NetworkAddress? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(first) }
        var v6: NetworkAddress?
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sa = info.pointee.ai_addr {
                if info.pointee.ai_family == AF_INET {
                    let address = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                    return .ipv4(address: UInt32(bigEndian: address), port: 0)
                }
                if info.pointee.ai_family == AF_INET6, v6 == nil {
                    let bytes = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer -> [UInt8] in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    v6 = .ipv6(address: IPv6Bytes(bytes: bytes), port: 0)
                }
            }
            cursor = info.pointee.ai_next
        }
        return v6
    }

    /// getpwnam_r; nil when the user does not exist or the lookup fails.
    static func userID(_ name: String) -> UInt32? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getpwnam_r(name, &entry, &buffer, buffer.count, &found)
        guard rc == 0, found != nil else { return nil }
        return entry.pw_uid
    }

    /// getgrnam_r; nil when the group does not exist or the lookup fails.
    static func groupID(_ name: String) -> UInt32? {
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getgrnam_r(name, &entry, &buffer, buffer.count, &found)
        guard rc == 0, found != nil else { return nil }
        return entry.gr_gid
    }
}
