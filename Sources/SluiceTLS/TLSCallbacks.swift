// SPDX-License-Identifier: Apache-2.0
// TLSCallbacks: the C callbacks OpenSSL calls during a handshake (SNI, ALPN, session tickets, new client
// session). Top-level functions capturing nothing: they find their Swift objects through ex_data (TLSContext
// on the SSL_CTX, TLSConnection on the SSL), stored unretained. They run inside SSL_do_handshake/SSL_read on the
// loop thread, never allocate beyond a String per handshake, and never leave errors they did not report to
// OpenSSL: a failure is a return value, and the I/O call that invoked them drains the queue.
internal import CSluiceSSL
import SluiceCore

/// SNI (server side): moves the connection to the SSL_CTX holding the certificate for the requested name
/// (exact, then wildcard, then the first certificate). Registered only when a context has several
/// certificates. SSL_set_SSL_CTX swaps the certificate and key; protocol settings, verify mode and the
/// session cache stay those of the first SSL_CTX, which is why every SSL_CTX of a TLSContext is configured
/// identically.
func sluiceServerNameCallback(
    _ ssl: OpaquePointer?,
    _ alert: UnsafeMutablePointer<CInt>?,
    _ arg: UnsafeMutableRawPointer?
) -> CInt {
    guard let ssl, let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
        let context = TLSContext.owner(of: SSL_get_SSL_CTX(ssl))
    else {
        return SSL_TLSEXT_ERR_OK  // no SNI: stay on the first certificate
    }
    let index = context.contextIndex(forServerName: name)
    if index != 0 && SSL_set_SSL_CTX(ssl, context.contexts[index]) == nil {
        alert?.pointee = SSL_AD_INTERNAL_ERROR
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
    return SSL_TLSEXT_ERR_OK
}

/// ALPN (server side): the first protocol of the server's list that the client also offers (server
/// preference). No overlap: continue without ALPN, as HAProxy does, rather than failing the handshake.
func sluiceALPNSelectCallback(
    _ ssl: OpaquePointer?,
    _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    _ outCount: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?,
    _ offeredCount: CUnsignedInt,
    _ arg: UnsafeMutableRawPointer?
) -> CInt {
    guard let out, let outCount, let context = TLSContext.owner(of: SSL_get_SSL_CTX(ssl)),
        let wire = context.alpnWire
    else {
        return SSL_TLSEXT_ERR_NOACK
    }
    var selected: UnsafeMutablePointer<UInt8>? = nil
    var selectedCount: UInt8 = 0
    let rc = SSL_select_next_proto(
        &selected,
        &selectedCount,
        wire.baseAddress,
        UInt32(wire.count),
        offered,
        offeredCount
    )
    guard rc == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_NOACK }
    // `selected` points into `wire` (owned by the TLSContext, alive as long as the connection).
    out.pointee = UnsafePointer(selected)
    outCount.pointee = selectedCount
    return SSL_TLSEXT_ERR_OK
}

/// Session tickets (server side): encrypts new tickets with the current key, decrypts with the current or the
/// previous one (asking OpenSSL to renew a ticket made with the previous key). Return values follow
/// SSL_CTX_set_tlsext_ticket_key_evp_cb(3): 1 ok, 2 ok + renew, 0 unknown key (full handshake), -1 failure.
func sluiceTicketKeyCallback(
    _ ssl: OpaquePointer?,
    _ keyName: UnsafeMutablePointer<UInt8>?,
    _ iv: UnsafeMutablePointer<UInt8>?,
    _ cipher: OpaquePointer?,
    _ mac: OpaquePointer?,
    _ encrypt: CInt
) -> CInt {
    guard let keyName, let iv, let keys = TLSContext.owner(of: SSL_get_SSL_CTX(ssl))?.ticketKeys else { return -1 }
    if encrypt == 1 {
        let key = keys.encryptionKey(nowNs: Sys.monotonicNanoseconds())
        keyName.update(from: key.name, count: TLSTicketKeys.nameLength)
        guard RAND_bytes(iv, CInt(TLSTicketKeys.ivLength)) == 1,
            EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nil, key.aes, iv) == 1,
            TLSTicketKeys.setHMACKey(mac, key.hmac)
        else { return -1 }
        return 1
    }
    guard let (key, isCurrent) = keys.decryptionKey(named: keyName) else { return 0 }
    guard TLSTicketKeys.setHMACKey(mac, key.hmac), EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nil, key.aes, iv) == 1
    else { return -1 }
    return isCurrent ? 1 : 2
}

/// New session (client side): OpenSSL hands over a resumable session (at the end of a TLS 1.2 handshake, or
/// for each TLS 1.3 ticket, which arrives after the handshake); a copy goes into the connection's session slot.
/// A copy, not OpenSSL's object: that one is still the SSL's current session, and SSL_free marks it not
/// resumable when the connection ends without close_notify sent (ssl_clear_bad_session), which is how the proxy
/// usually drops a server connection. Returning 0 lets OpenSSL drop its reference.
func sluiceNewClientSessionCallback(_ ssl: OpaquePointer?, _ session: OpaquePointer?) -> CInt {
    guard let ssl, let session, let raw = SSL_get_ex_data(ssl, connectionExDataIndex) else { return 0 }
    let connection = Unmanaged<TLSConnection>.fromOpaque(raw).takeUnretainedValue()
    guard let slot = connection.sessionSlot, let copy = SSL_SESSION_dup(session) else { return 0 }
    slot.store(copy, serverName: connection.serverName)
    return 0
}
