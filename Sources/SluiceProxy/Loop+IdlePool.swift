// SPDX-License-Identifier: Apache-2.0
// Loop+IdlePool: idle server connections that another session may reuse (`http-reuse safe|always`). Each one is
// registered in the poller, polled for reading: data or a close from an idle server means the connection is
// unusable and it goes. Connections idle longer than the purge delay close too. A pool holds at most
// `maxIdlePerServer` connections per server; the most recently parked is reused first.
import SluiceCore
import SluiceTLS

/// One parked server connection.
struct IdleConnection {
    let fd: FD
    let server: Server
    /// The TLS state when the server connection uses TLS: it travels with the fd.
    let tls: TLSConnection?
    let since: Ticks
}

extension Loop {
    /// Parked connections per server, at most.
    static let maxIdlePerServer = 64
    /// How long a parked connection may wait for a request before it is closed (HAProxy's pool-purge-delay).
    static let idlePurgeDelayMs: Int64 = 5000

    /// Parks `fd` (an established connection to `server` with nothing in flight) in the server's pool. Returns
    /// false when the pool is full or the server is gone (the caller closes the connection).
    func parkIdleConnection(_ fd: FD, to server: Server, tls: TLSConnection?) -> Bool {
        guard !server.isRemoved, server.idleSlots.count < Self.maxIdlePerServer else { return false }
        let slot: Int
        let entry = IdleConnection(fd: fd, server: server, tls: tls, since: clock.now)
        if let free = freeIdleSlots.popLast() {
            slot = free
            idleConnections[slot] = entry
        } else {
            if idleConnections.count == idleConnections.capacity {
                idleConnections.reserveCapacity(max(256, idleConnections.capacity * 2))
                freeIdleSlots.reserveCapacity(idleConnections.capacity)
            }
            slot = idleConnections.count
            idleConnections.append(entry)
        }
        // One allocation per server, ever: the pool never holds more than maxIdlePerServer.
        if server.idleSlots.capacity < Self.maxIdlePerServer { server.idleSlots.reserveCapacity(Self.maxIdlePerServer) }
        server.idleSlots.append(slot)
        poller.changeOwner(fd, kind: .idleServer, owner: UInt32(slot))
        poller.stopSend(fd)
        poller.pollRecv(fd)
        if !timers.isScheduled(idleTimer) { timers.schedule(idleTimer, at: clock.now + Self.idlePurgeDelayMs) }
        return true
    }

    /// Takes the most recently parked connection to `server`, if any. The caller re-owns the fd. With a
    /// per-request `sni` only a connection opened with the same name fits (`serverName`, this request's value):
    /// the SNI chose the server's virtual host and certificate.
    func takeIdleConnection(to server: Server, serverName: String?) -> (FD, TLSConnection?)? {
        let found: Int?
        if server.sniFetch == nil {
            found = server.idleSlots.indices.last
        } else {
            found = server.idleSlots.lastIndex { idleConnections[$0]?.tls?.serverName == serverName }
        }
        guard let index = found else { return nil }
        let slot = server.idleSlots.remove(at: index)
        guard let entry = idleConnections[slot] else { return nil }
        idleConnections[slot] = nil
        freeIdleSlots.append(slot)
        return (entry.fd, entry.tls)
    }

    /// An idle connection became readable: the server closed it (or broke the protocol). Close it.
    func idleConnectionEvent(slot: Int) {
        guard slot < idleConnections.count, let entry = idleConnections[slot] else { return }
        closeIdle(slot: slot, entry)
    }

    private func closeIdle(slot: Int, _ entry: IdleConnection) {
        idleConnections[slot] = nil
        freeIdleSlots.append(slot)
        entry.server.idleSlots.removeAll { $0 == slot }
        poller.delete(entry.fd)
    }

    /// Closes connections parked longer than the purge delay; re-arms while any remain.
    func purgeIdleConnections() {
        var remaining = 0
        for slot in idleConnections.indices {
            guard let entry = idleConnections[slot] else { continue }
            if clock.now - entry.since >= Self.idlePurgeDelayMs || entry.server.isRemoved {
                closeIdle(slot: slot, entry)
            } else {
                remaining += 1
            }
        }
        if remaining > 0 { timers.schedule(idleTimer, at: clock.now + 1000) }
    }
}
