// SPDX-License-Identifier: Apache-2.0
// LoadBalancer: picks a server for a new session per the backend's `balance` algorithm. Normal servers first;
// when none is usable, the first usable backup (HAProxy without `allbackups`). A server at its `maxconn` is
// skipped; when every usable server is full the caller queues the session.
import SluiceConfig
import SluiceCore

extension BalanceAlgorithm {
    /// `balance uri`: the server depends on the request's path (as the http-request rules left it).
    var hashesURI: Bool {
        if case .uri = self { return true }
        return false
    }
}

/// The outcome of one pick.
enum ServerPick {
    case server(Server)
    /// Usable servers exist but all are at maxconn: wait in the backend queue.
    case queue
    /// No usable server at all.
    case unavailable
}

/// Load-balancing state of one backend. Loop-thread only.
struct LoadBalancer {
    let algorithm: BalanceAlgorithm
    let hashType: HashType
    /// Rotating start for leastconn ties.
    private var rotation = 0
    /// Weighted map for map-based hashing: server positions repeated by weight, rebuilt when servers change.
    private var hashMap: [Int] = []
    private var hashMapHasBackups = false
    /// Consistent hashing: sorted (point, server position) pairs, `ringPointsPerWeight` points per unit of weight,
    /// so removing one of N servers moves only the keys that were on it (about 1/N).
    private var ring: [(point: UInt64, position: Int)] = []
    static let ringPointsPerWeight = 40
    private var random = RandomSource(seed: 0x5EED_1CE)

    init(algorithm: BalanceAlgorithm, hashType: HashType) {
        self.algorithm = algorithm
        self.hashType = hashType
    }

    /// Rebuilds derived state after servers were added, or changed weight or state.
    mutating func serversChanged(_ servers: [Server]) {
        hashMap.removeAll(keepingCapacity: true)
        let normal = servers.filter { $0.isUsable && !$0.isBackup }
        let pool = normal.isEmpty ? servers.filter { $0.isUsable && $0.isBackup } : normal
        hashMapHasBackups = normal.isEmpty
        for s in pool {
            for _ in 0..<s.weight { hashMap.append(s.position) }
        }
        ring.removeAll(keepingCapacity: true)
        if hashType == .consistent {
            for s in pool {
                // Points depend on the server's name, not its position: adding or removing another server
                // leaves them where they are.
                var seed: UInt64 = 0xCBF2_9CE4_8422_2325
                for byte in s.name.utf8 { seed = (seed ^ UInt64(byte)) &* 0x100_0000_01B3 }
                for i in 0..<(s.weight * Self.ringPointsPerWeight) {
                    ring.append((Self.mix(seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15), s.position))
                }
            }
            ring.sort { $0.point < $1.point }
        }
    }

    /// The server that owns `key` on the consistent-hash ring.
    private func ringLookup(_ key: UInt64) -> Int? {
        guard !ring.isEmpty else { return nil }
        var low = 0
        var high = ring.count
        while low < high {
            let mid = (low + high) / 2
            if ring[mid].point < key { low = mid + 1 } else { high = mid }
        }
        return ring[low == ring.count ? 0 : low].position
    }

    /// The server a hash-based algorithm assigns `key` to (map-based or consistent), if it can take it.
    private func hashedServer(_ servers: [Server], key: UInt64, _ eligible: (Server) -> Bool) -> Server? {
        let position: Int?
        if hashType == .consistent {
            position = ringLookup(Self.mix(key))
        } else {
            position = hashMap.isEmpty || hashMapHasBackups ? nil : hashMap[Int(key % UInt64(hashMap.count))]
        }
        guard let position, position < servers.count, eligible(servers[position]) else { return nil }
        return servers[position]
    }

    /// Picks a server for a session from `client`, never `excluded` when another choice exists. `hashKey` is the
    /// hashed URI for `balance uri` (the caller computes it from the request).
    mutating func pick(
        _ servers: [Server],
        client: IPEndpoint,
        hashKey: UInt64? = nil,
        excluding excluded: Server? = nil
    ) -> ServerPick {
        if !servers.contains(where: { $0.isUsable && !$0.isBackup }) {
            // Backups take over only when every normal server is unusable; the first usable one is used.
            guard let backup = servers.first(where: { $0.isUsable && $0.isBackup }) else { return .unavailable }
            return backup.hasFreeSlot ? .server(backup) : .queue
        }
        func eligible(_ s: Server) -> Bool { s.isUsable && !s.isBackup && s.hasFreeSlot && s !== excluded }
        if !servers.contains(where: eligible) {
            // The only free choice may be the excluded server: better it than nothing.
            if let e = excluded, e.isUsable, !e.isBackup, e.hasFreeSlot { return .server(e) }
            return .queue
        }

        switch algorithm {
        case .roundRobin, .staticRoundRobin:
            return .server(smoothWeightedPick(servers, eligible))
        case .uri:
            if let key = hashKey, let s = hashedServer(servers, key: key, eligible) { return .server(s) }
            return .server(smoothWeightedPick(servers, eligible))
        case .first:
            for s in servers where eligible(s) { return .server(s) }
        case .leastConn:
            return .server(leastConnectionsPick(servers, eligible))
        case .source:
            if let s = hashedServer(servers, key: Self.hash(client), eligible) { return .server(s) }
            return .server(smoothWeightedPick(servers, eligible))
        case .random(let draws):
            return .server(randomPick(servers, draws: max(1, draws), eligible))
        }
        return .queue
    }

    /// nginx's smooth weighted round robin: spreads each server's turns evenly (weights 2:1 give a,b,a,a,b,a).
    private func smoothWeightedPick(_ servers: [Server], _ eligible: (Server) -> Bool) -> Server {
        var total = 0
        var best: Server?
        for s in servers where eligible(s) {
            s.roundRobinCurrent += s.weight
            total += s.weight
            if best == nil || s.roundRobinCurrent > best!.roundRobinCurrent { best = s }
        }
        best!.roundRobinCurrent -= total
        return best!
    }

    /// Fewest connections relative to weight; ties rotate so equal servers share the load.
    private mutating func leastConnectionsPick(_ servers: [Server], _ eligible: (Server) -> Bool) -> Server {
        var best: Server?
        var bestKey = 0
        let n = servers.count
        rotation = (rotation + 1) % max(1, n)
        for k in 0..<n {
            let s = servers[(rotation + k) % n]
            guard eligible(s) else { continue }
            // connections / weight, as HAProxy's fwlc key: idle servers tie at 0 and share the load in rotation.
            let key = s.currentConnections * 256 / s.weight
            if best == nil || key < bestKey {
                best = s
                bestKey = key
            }
        }
        return best!
    }

    /// Power of `draws` choices: weighted random draws, the least loaded wins.
    private mutating func randomPick(_ servers: [Server], draws: Int, _ eligible: (Server) -> Bool) -> Server {
        var total = 0
        for s in servers where eligible(s) { total += s.weight }
        var best: Server?
        for _ in 0..<draws {
            var r = Int(random.next() % UInt64(total))
            for s in servers where eligible(s) {
                r -= s.weight
                if r < 0 {
                    if best == nil || s.currentConnections * best!.weight < best!.currentConnections * s.weight {
                        best = s
                    }
                    break
                }
            }
        }
        return best!
    }

    /// A well-mixed 64-bit hash of the client address (not the port), as HAProxy's source hashing.
    static func hash(_ endpoint: IPEndpoint) -> UInt64 {
        mix(endpoint.high &* 0x9E37_79B9_7F4A_7C15 ^ endpoint.low)
    }

    /// A 64-bit hash of bytes (the URI path for `balance uri`): FNV-1a, then mixed.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return mix(h)
    }

    /// murmur3's finaliser: spreads every input bit over the output.
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }
}

/// xorshift64*: a small deterministic generator for `balance random` (no security role).
struct RandomSource {
    private var state: UInt64

    init(seed: UInt64) { state = seed == 0 ? 1 : seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
