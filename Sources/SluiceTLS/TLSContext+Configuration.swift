// SPDX-License-Identifier: Apache-2.0
// TLSContext+Configuration: turns TLSContextOptions into SSL_CTX settings and loads certificate files. Config
// load time only: these functions read files (blocking) and allocate freely. Every failure drains the OpenSSL
// error queue into the TLSConfigError it throws.
internal import CSluiceSSL
import Glibc
import SluiceCore

extension TLSContext {
    static func checkVersions(_ options: TLSContextOptions) throws(TLSConfigError) {
        let lowest = options.minVersion ?? .tls1_2
        if let highest = options.maxVersion, highest < lowest {
            throw TLSConfigError("ssl-min-ver \(lowest.name) is above ssl-max-ver \(highest.name)")
        }
    }

    /// ALPN names → wire format (each name prefixed by its length). Nil for an empty list. The caller owns the
    /// returned buffer.
    static func encodeALPN(_ names: [String]) throws(TLSConfigError) -> UnsafeMutableBufferPointer<UInt8>? {
        if names.isEmpty { return nil }
        var wire: [UInt8] = []
        for name in names {
            let count = name.utf8.count
            guard count >= 1 && count <= 255 else {
                throw TLSConfigError("ALPN protocol name '\(name)' must be 1 to 255 bytes long")
            }
            wire.append(UInt8(count))
            wire.append(contentsOf: name.utf8)
        }
        guard wire.count <= 65535 else { throw TLSConfigError("ALPN list longer than 65535 bytes") }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: wire.count)
        _ = buffer.initialize(from: wire)
        return buffer
    }

    static func newContext(_ method: OpaquePointer?) throws(TLSConfigError) -> OpaquePointer {
        guard let ctx = SSL_CTX_new(method) else {
            throw TLSConfigError(TLSErrorQueue.message("SSL_CTX_new failed"))
        }
        return ctx
    }

    /// Settings shared by both sides: options, modes, versions, ciphers, groups.
    static func configureCommon(_ ctx: OpaquePointer, _ options: TLSContextOptions) throws(TLSConfigError) {
        // Renegotiation is a DoS lever and a source of WANT_READ inside SSL_write; compression invites CRIME.
        var flags = csluice_SSL_OP_NO_RENEGOTIATION() | csluice_SSL_OP_NO_COMPRESSION()
        if !options.sessionTickets { flags |= csluice_SSL_OP_NO_TICKET() }
        SSL_CTX_set_options(ctx, flags)
        // PARTIAL_WRITE: SSL_write returns after each record, so a large write does not hold the loop.
        // ACCEPT_MOVING_WRITE_BUFFER: a retried SSL_write may pass the same bytes from a moved buffer.
        // RELEASE_BUFFERS: OpenSSL frees a connection's record buffers while they are empty, so an idle TLS
        // connection costs about 15 KB instead of 25 KB (HAProxy and nginx set it too; the price is an
        // allocation when a record arrives on an idle connection).
        // SSL_OP_IGNORE_UNEXPECTED_EOF is deliberately left off: OpenSSL 3 then reports a transport EOF without
        // close_notify as an error (UNEXPECTED_EOF_WHILE_READING), which TLSConnection maps to `.truncated`,
        // apart from `.closed`. The owner decides what it means: harmless after a complete HTTP message (many
        // clients never send close_notify), a truncation of a body delimited by the close. With the option
        // set, both would read as a clean EOF and that decision would be impossible.
        _ = csluice_SSL_CTX_set_mode(
            ctx,
            Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS)
        )

        let lowest = options.minVersion ?? .tls1_2
        guard csluice_SSL_CTX_set_min_proto_version(ctx, lowest.openSSLValue) == 1 else {
            throw TLSConfigError(TLSErrorQueue.message("ssl-min-ver \(lowest.name) refused"))
        }
        // 0 = the highest version this OpenSSL supports.
        guard csluice_SSL_CTX_set_max_proto_version(ctx, options.maxVersion?.openSSLValue ?? 0) == 1 else {
            throw TLSConfigError(TLSErrorQueue.message("ssl-max-ver \(options.maxVersion?.name ?? "") refused"))
        }
        let ciphers = options.ciphers ?? TLSContextOptions.defaultCiphers
        guard SSL_CTX_set_cipher_list(ctx, ciphers) == 1 else {
            throw TLSConfigError(TLSErrorQueue.message("ciphers '\(ciphers)': no cipher OpenSSL accepts"))
        }
        if let suites = options.ciphersuites {
            guard SSL_CTX_set_ciphersuites(ctx, suites) == 1 else {
                throw TLSConfigError(TLSErrorQueue.message("ciphersuites '\(suites)': not a valid TLS 1.3 suite list"))
            }
        }
        let curves = options.curves ?? TLSContextOptions.defaultCurves
        guard csluice_SSL_CTX_set1_groups_list(ctx, curves) == 1 else {
            throw TLSConfigError(TLSErrorQueue.message("curves '\(curves)': not a valid group list"))
        }
    }

    /// Server side: client verification, resumption (cache, tickets), ALPN selection.
    static func configureServer(
        _ ctx: OpaquePointer,
        _ options: TLSContextOptions,
        hasALPN: Bool,
        hasTicketKeys: Bool
    ) throws(TLSConfigError) {
        _ = SSL_CTX_set_options(ctx, csluice_SSL_OP_CIPHER_SERVER_PREFERENCE())
        if options.verify != .none, let caFile = options.caFile {
            try loadVerifyLocations(ctx, caFile)
            // The CA names go into the CertificateRequest, so clients know which certificate to send.
            guard let caNames = SSL_load_client_CA_file(caFile) else {
                throw TLSConfigError(TLSErrorQueue.message("no CA certificate in CA file '\(caFile)'"))
            }
            SSL_CTX_set_client_CA_list(ctx, caNames)
            var mode = SSL_VERIFY_PEER
            if options.verify == .required { mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
            SSL_CTX_set_verify(ctx, mode, nil)
        }
        // Resumed sessions (cache or ticket) must carry a context id once client certificates are involved;
        // OpenSSL refuses to resume without one.
        let sessionContext: StaticString = "sluice"
        guard
            SSL_CTX_set_session_id_context(ctx, sessionContext.utf8Start, UInt32(sessionContext.utf8CodeUnitCount)) == 1
        else {
            throw TLSConfigError(TLSErrorQueue.message("SSL_CTX_set_session_id_context failed"))
        }
        // Sessions (cache entries and tickets) live 300 s, HAProxy's tune.ssl.lifetime; OpenSSL's default is
        // 2 h. TLSTicketKeys relies on it: a ticket never outlives the hour its key stays accepted.
        _ = SSL_CTX_set_timeout(ctx, TLSTicketKeys.sessionLifetimeSeconds)
        if options.sessionCacheSize > 0 {
            _ = csluice_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_SERVER))
            _ = csluice_SSL_CTX_sess_set_cache_size(ctx, options.sessionCacheSize)
        } else {
            _ = csluice_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_OFF))
            // TLS 1.3 sends tickets after every handshake, stateful ones when tickets are off: none at all.
            if !options.sessionTickets { _ = SSL_CTX_set_num_tickets(ctx, 0) }
        }
        if hasTicketKeys {
            _ = SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, sluiceTicketKeyCallback)
        }
        if hasALPN {
            SSL_CTX_set_alpn_select_cb(ctx, sluiceALPNSelectCallback, nil)
        }
    }

    /// Client side: server verification, ALPN offer, session saving.
    static func configureClient(
        _ ctx: OpaquePointer,
        _ options: TLSContextOptions,
        alpnWire: UnsafeMutableBufferPointer<UInt8>?,
        savesSessions: Bool
    ) throws(TLSConfigError) {
        // With SSL_VERIFY_NONE OpenSSL still checks the chain and records the result (verifyResult); a CA
        // file given with `verify none` makes that result meaningful.
        if let caFile = options.caFile {
            try loadVerifyLocations(ctx, caFile)
        }
        SSL_CTX_set_verify(ctx, options.verify == .required ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        if let wire = alpnWire {
            // Returns 0 on success, unlike almost every other OpenSSL call.
            guard SSL_CTX_set_alpn_protos(ctx, wire.baseAddress, UInt32(wire.count)) == 0 else {
                throw TLSConfigError(TLSErrorQueue.message("SSL_CTX_set_alpn_protos failed"))
            }
        }
        if savesSessions {
            // Sessions are kept per server by the proxy (TLSSessionSlot), not in OpenSSL's cache. The callback
            // also sees TLS 1.3 tickets, which arrive after the handshake.
            _ = csluice_SSL_CTX_set_session_cache_mode(
                ctx,
                Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE)
            )
            SSL_CTX_sess_set_new_cb(ctx, sluiceNewClientSessionCallback)
        } else {
            _ = csluice_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_OFF))
        }
    }

    static func loadVerifyLocations(_ ctx: OpaquePointer, _ caFile: String) throws(TLSConfigError) {
        try checkReadable(caFile, what: "CA file")
        guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
            throw TLSConfigError(TLSErrorQueue.message("invalid CA file '\(caFile)'"))
        }
    }

    /// Fails with the errno text when `path` cannot be opened for reading.
    static func checkReadable(_ path: String, what: String) throws(TLSConfigError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let err = errno
            throw TLSConfigError("unable to read \(what) '\(path)': \(Errno(rawValue: err))")
        }
        Glibc.close(fd)
    }

    /// Expands directories to the files they hold (name order; dot files and HAProxy's side files skipped);
    /// plain paths are kept as they are (checked when loaded).
    static func expandCertificateFiles(_ paths: [String]) throws(TLSConfigError) -> [String] {
        var files: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                files.append(path)
                continue
            }
            guard let dir = opendir(path) else {
                let err = errno
                throw TLSConfigError("unable to read certificate directory '\(path)': \(Errno(rawValue: err))")
            }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafePointer(to: &entry.pointee.d_name) {
                    String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
                }
                if name.hasPrefix(".") { continue }
                if [".key", ".ocsp", ".issuer", ".sctl"].contains(where: { name.hasSuffix($0) }) { continue }
                var fileInfo = stat()
                let full = path.hasSuffix("/") ? path + name : path + "/" + name
                if stat(full, &fileInfo) == 0 && fileInfo.st_mode & S_IFMT == S_IFREG { names.append(full) }
            }
            closedir(dir)
            if names.isEmpty {
                throw TLSConfigError("certificate directory '\(path)' holds no certificate file")
            }
            files += names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        return files
    }

    /// Loads certificate, chain and key from one PEM into `ctx`; returns the names the certificate covers
    /// (DNS subject alternative names and the subject CN, lowercase).
    static func loadCertificate(into ctx: OpaquePointer, from path: String) throws(TLSConfigError) -> [String] {
        try checkReadable(path, what: "certificate file")
        guard SSL_CTX_use_certificate_chain_file(ctx, path) == 1 else {
            throw TLSConfigError(TLSErrorQueue.message("no certificate found in '\(path)'"))
        }
        // The key is read separately so that "no key" and "wrong key" get different messages.
        guard let bio = BIO_new_file(path, "r") else {
            throw TLSConfigError(TLSErrorQueue.message("unable to read certificate file '\(path)'"))
        }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, sluiceNoPassphrase, nil) else {
            throw TLSConfigError(
                TLSErrorQueue.message("no unencrypted private key in '\(path)' (expected: certificate, chain, key)")
            )
        }
        defer { EVP_PKEY_free(key) }
        guard SSL_CTX_use_PrivateKey(ctx, key) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSConfigError(TLSErrorQueue.message("the private key in '\(path)' does not match its certificate"))
        }
        return certificateNames(ctx)
    }

    /// DNS names of the certificate loaded in `ctx`: subject alternative names, then the CN.
    static func certificateNames(_ ctx: OpaquePointer) -> [String] {
        guard let leaf = SSL_CTX_get0_certificate(ctx) else { return [] }
        var names: [String] = []
        if let raw = X509_get_ext_d2i(leaf, NID_subject_alt_name, nil, nil) {
            let list = OpaquePointer(raw)
            for i in 0..<csluice_sk_GENERAL_NAME_num(list) {
                guard let general = csluice_sk_GENERAL_NAME_value(list, i), general.pointee.type == GEN_DNS,
                    let name = text(of: general.pointee.d.dNSName)
                else { continue }
                names.append(name)
            }
            GENERAL_NAMES_free(list)
        }
        if let subject = X509_get_subject_name(leaf) {
            var index: CInt = -1
            while true {
                index = X509_NAME_get_index_by_NID(subject, NID_commonName, index)
                if index < 0 { break }
                if let entry = X509_NAME_get_entry(subject, index), let name = text(of: X509_NAME_ENTRY_get_data(entry))
                {
                    names.append(name)
                }
            }
        }
        return names
    }

    static func text(of string: UnsafePointer<ASN1_STRING>?) -> String? {
        guard let string, let bytes = ASN1_STRING_get0_data(string) else { return nil }
        let count = Int(ASN1_STRING_length(string))
        guard count > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self).lowercasedASCII()
    }
}

/// PEM password callback: sluice never prompts (the default callback would read the terminal). An encrypted
/// key fails to load with a message instead.
func sluiceNoPassphrase(
    _ buffer: UnsafeMutablePointer<CChar>?,
    _ size: CInt,
    _ writing: CInt,
    _ userData: UnsafeMutableRawPointer?
) -> CInt {
    -1
}
