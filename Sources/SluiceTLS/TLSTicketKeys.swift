// SPDX-License-Identifier: Apache-2.0
// TLSTicketKeys: the session-ticket key ring of one server TLSContext: a current key that encrypts new tickets
// and the previous one that still decrypts. Keys are random (RAND_bytes), never leave the process, and rotate
// every hour, lazily, when a ticket is made: no timer needed. A key is accepted for an hour after it stops
// encrypting, and sessions live 300 s (`sessionLifetimeSeconds`, set on every server SSL_CTX), so every ticket
// still valid can be decrypted. The one mutable state of a TLSContext; touched only from ticket callbacks on
// the loop thread.
internal import CSluiceSSL
import SluiceCore

final class TLSTicketKeys {
    static let nameLength = 16
    static let aesLength = 32  // AES-256-CBC, what OpenSSL uses for its own tickets
    static let hmacLength = 32  // HMAC-SHA256
    static let ivLength = 16
    static let keyLength = nameLength + aesLength + hmacLength
    static let rotationIntervalNs: Int64 = 3600 * 1_000_000_000
    /// Lifetime of a session, cached or in a ticket (SSL_CTX_set_timeout); well under the rotation interval.
    static let sessionLifetimeSeconds = 300

    /// Pointers into the ring; valid while the ring lives and until the slot is reused two rotations later.
    struct Key {
        let name: UnsafePointer<UInt8>
        let aes: UnsafePointer<UInt8>
        let hmac: UnsafePointer<UInt8>
    }

    /// Two keys of `keyLength` bytes: name, AES key, HMAC key.
    private let storage: UnsafeMutablePointer<UInt8>
    private var current = 0
    private var hasPrevious = false
    private var rotatedAtNs: Int64

    init() throws(TLSConfigError) {
        storage = .allocate(capacity: 2 * Self.keyLength)
        storage.initialize(repeating: 0, count: 2 * Self.keyLength)
        rotatedAtNs = Sys.monotonicNanoseconds()
        guard RAND_bytes(storage, CInt(Self.keyLength)) == 1 else {
            storage.deallocate()
            throw TLSConfigError(TLSErrorQueue.message("cannot generate session ticket keys (RAND_bytes)"))
        }
    }

    deinit {
        OPENSSL_cleanse(storage, 2 * Self.keyLength)
        storage.deallocate()
    }

    private func key(_ slot: Int) -> Key {
        let base = UnsafePointer(storage + slot * Self.keyLength)
        return Key(name: base, aes: base + Self.nameLength, hmac: base + Self.nameLength + Self.aesLength)
    }

    /// The key for a new ticket; rotates first when the current key is an interval old.
    func encryptionKey(nowNs: Int64) -> Key {
        if nowNs &- rotatedAtNs >= Self.rotationIntervalNs { rotate(nowNs: nowNs) }
        return key(current)
    }

    /// The key whose name is `name`, and whether it is the current one; nil when neither key matches (a ticket
    /// from before a restart, a reload or two rotations): the client gets a full handshake.
    func decryptionKey(named name: UnsafePointer<UInt8>) -> (Key, isCurrent: Bool)? {
        let now = key(current)
        if memcmp(now.name, name, Self.nameLength) == 0 { return (now, true) }
        if hasPrevious {
            let previous = key(1 - current)
            if memcmp(previous.name, name, Self.nameLength) == 0 { return (previous, false) }
        }
        return nil
    }

    /// Makes a fresh current key; the current one becomes the previous one, the previous one is forgotten.
    /// If the random generator fails, the current key stays (and the next ticket retries).
    func rotate(nowNs: Int64) {
        let next = 1 - current
        guard RAND_bytes(storage + next * Self.keyLength, CInt(Self.keyLength)) == 1 else {
            TLSErrorQueue.discard()
            return
        }
        current = next
        hasPrevious = true
        rotatedAtNs = nowNs
    }

    /// Gives the ticket HMAC (HMAC-SHA256) its key. The parameter names and the digest name are C string
    /// literals with static storage, as OSSL_PARAM keeps pointers to them.
    static func setHMACKey(_ mac: OpaquePointer?, _ key: UnsafePointer<UInt8>) -> Bool {
        let digest: StaticString = "SHA256"
        return withUnsafeTemporaryAllocation(of: OSSL_PARAM.self, capacity: 3) { params in
            params[0] = OSSL_PARAM_construct_octet_string(
                csluice_OSSL_MAC_PARAM_KEY(),
                UnsafeMutableRawPointer(mutating: key),
                hmacLength
            )
            params[1] = OSSL_PARAM_construct_utf8_string(
                csluice_OSSL_MAC_PARAM_DIGEST(),
                UnsafeMutableRawPointer(mutating: digest.utf8Start).assumingMemoryBound(to: CChar.self),
                0
            )
            params[2] = OSSL_PARAM_construct_end()
            return EVP_MAC_CTX_set_params(mac, params.baseAddress) == 1
        }
    }
}
