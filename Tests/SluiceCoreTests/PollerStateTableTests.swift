// SPDX-License-Identifier: Apache-2.0
// The poller's per-direction state machine, table-driven: every verb from every state, checked against the
// verb table of ../shared/design/POLLER.md, with the epoll_ctl the next flush must issue. Plus a randomized
// run of verb sequences against a small reference model.
import XCTest

@testable import SluiceCore

final class PollerStateTableTests: XCTestCase {
    /// The state of one direction: A = active, P = polled.
    struct Dir: Hashable, CustomStringConvertible {
        var active: Bool
        var polled: Bool

        static let idle = Dir(active: false, polled: false)
        static let a = Dir(active: true, polled: false)
        static let p = Dir(active: false, polled: true)
        static let ap = Dir(active: true, polled: true)
        static let all: [Dir] = [.idle, .a, .p, .ap]

        var description: String { self == .idle ? "idle" : (active ? "A" : "") + (polled ? "P" : "") }
    }

    enum Verb: CaseIterable {
        case wantRecv, pollRecv, stopRecv, wantSend, pollSend, stopSend, stopBoth

        func apply(_ poller: Poller<FakePollBackend>, _ fd: FD) {
            switch self {
            case .wantRecv: poller.wantRecv(fd)
            case .pollRecv: poller.pollRecv(fd)
            case .stopRecv: poller.stopRecv(fd)
            case .wantSend: poller.wantSend(fd)
            case .pollSend: poller.pollSend(fd)
            case .stopSend: poller.stopSend(fd)
            case .stopBoth: poller.stopBoth(fd)
            }
        }
    }

    /// What the next flush issues for the fd.
    enum Ctl: Equatable { case none, add, mod, del }

    /// POLLER.md's verb table for one direction, with the other direction idle:
    ///   want: any without A -> sets A (P untouched);  poll: any -> P only;  stop: any -> idle.
    /// `listed`: the verb changed a bit, so the fd goes on the update list. `ctl`: what the flush issues then.
    struct Row {
        var kind: Kind
        var from: Dir
        var to: Dir
        var listed: Bool
        var ctl: Ctl

        enum Kind { case want, poll, stop }
    }

    static let table: [Row] = [
        Row(kind: .want, from: .idle, to: .a, listed: true, ctl: .none),
        Row(kind: .want, from: .a, to: .a, listed: false, ctl: .none),
        Row(kind: .want, from: .p, to: .ap, listed: true, ctl: .none),
        Row(kind: .want, from: .ap, to: .ap, listed: false, ctl: .none),

        Row(kind: .poll, from: .idle, to: .p, listed: true, ctl: .add),
        Row(kind: .poll, from: .a, to: .p, listed: true, ctl: .add),
        Row(kind: .poll, from: .p, to: .p, listed: false, ctl: .none),
        Row(kind: .poll, from: .ap, to: .p, listed: true, ctl: .none),

        Row(kind: .stop, from: .idle, to: .idle, listed: false, ctl: .none),
        Row(kind: .stop, from: .a, to: .idle, listed: true, ctl: .none),
        Row(kind: .stop, from: .p, to: .idle, listed: true, ctl: .del),
        Row(kind: .stop, from: .ap, to: .idle, listed: true, ctl: .del),
    ]

    static func row(_ kind: Row.Kind, _ from: Dir) -> Row {
        table.first { $0.kind == kind && $0.from == from }!
    }

    /// Which directions a verb acts on, and how.
    static func effect(of verb: Verb) -> (recv: Row.Kind?, send: Row.Kind?) {
        switch verb {
        case .wantRecv: return (.want, nil)
        case .pollRecv: return (.poll, nil)
        case .stopRecv: return (.stop, nil)
        case .wantSend: return (nil, .want)
        case .pollSend: return (nil, .poll)
        case .stopSend: return (nil, .stop)
        case .stopBoth: return (.stop, .stop)
        }
    }

    /// The ctl for a whole fd, from the kernel's interest before and after (POLLER.md, the loop turn, step 1:
    /// only if the P bits differ; ADD when none before, DEL when none now, MOD otherwise).
    static func ctl(before: IOEvents, after: IOEvents) -> Ctl {
        if before == after { return .none }
        if before.isEmpty { return .add }
        if after.isEmpty { return .del }
        return .mod
    }

    static func interest(_ recv: Dir, _ send: Dir) -> IOEvents {
        var events: IOEvents = []
        if recv.polled { events.insert(.readable) }
        if send.polled { events.insert(.writable) }
        return events
    }

    /// Builds a poller whose fd is in (recv, send), flushed: the kernel knows exactly the P bits.
    private func makeFlushed(_ recv: Dir, _ send: Dir) -> (FakePollBackend, Poller<FakePollBackend>, FD) {
        let fake = FakePollBackend()
        let poller = Poller(backend: fake, capacity: 64)
        let fd = FD(7)
        poller.register(fd, kind: .testConn, owner: 0)
        if recv.polled { poller.pollRecv(fd) }
        if send.polled { poller.pollSend(fd) }
        poller.flushUpdates()
        if recv.active { poller.wantRecv(fd) }
        if send.active { poller.wantSend(fd) }
        poller.flushUpdates()
        fake.resetCalls()
        return (fake, poller, fd)
    }

    private func state(_ poller: Poller<FakePollBackend>, _ fd: FD) -> (Dir, Dir) {
        let s = poller.directionState(fd)
        return (Dir(active: s.recvActive, polled: s.recvPolled), Dir(active: s.sendActive, polled: s.sendPolled))
    }

    func testEveryVerb_fromEveryState_matchesPollerTable() {
        var cases = 0
        for recv in Dir.all {
            for send in Dir.all {
                for verb in Verb.allCases {
                    let name = "\(verb) from recv \(recv), send \(send)"
                    let (fake, poller, fd) = makeFlushed(recv, send)
                    XCTAssertTrue(state(poller, fd) == (recv, send), "setup of \(name)")
                    XCTAssertTrue(poller.flushedPolled(fd) == (recv.polled, send.polled), "setup of \(name)")
                    XCTAssertEqual(poller.pendingUpdateCount, 0, "setup of \(name)")

                    let effect = Self.effect(of: verb)
                    let recvRow = effect.recv.map { Self.row($0, recv) }
                    let sendRow = effect.send.map { Self.row($0, send) }
                    let expectedRecv = recvRow?.to ?? recv
                    let expectedSend = sendRow?.to ?? send
                    let expectedListed = (recvRow?.listed ?? false) || (sendRow?.listed ?? false)
                    let expectedCtl = Self.ctl(
                        before: Self.interest(recv, send),
                        after: Self.interest(expectedRecv, expectedSend))
                    // With the other direction idle, the whole-fd ctl is the table's own column.
                    if send == .idle, effect.send == nil, let row = recvRow {
                        XCTAssertEqual(expectedCtl, row.ctl, "table column for \(name)")
                    }
                    if recv == .idle, effect.recv == nil, let row = sendRow {
                        XCTAssertEqual(expectedCtl, row.ctl, "table column for \(name)")
                    }

                    verb.apply(poller, fd)
                    XCTAssertTrue(state(poller, fd) == (expectedRecv, expectedSend), "state after \(name)")
                    XCTAssertEqual(poller.pendingUpdates(), expectedListed ? [fd.rawValue] : [], "listing after \(name)")
                    verb.apply(poller, fd)  // one bit per verb: applying it again changes nothing
                    XCTAssertTrue(state(poller, fd) == (expectedRecv, expectedSend), "idempotence of \(name)")
                    XCTAssertEqual(poller.pendingUpdateCount, expectedListed ? 1 : 0, "listed once: \(name)")
                    XCTAssertEqual(fake.calls, [], "verbs never touch the kernel: \(name)")

                    poller.flushUpdates()
                    let interest = Self.interest(expectedRecv, expectedSend)
                    let token = poller.eventToken(for: fd)
                    switch expectedCtl {
                    case .none:
                        XCTAssertEqual(fake.calls, [], "ctl after \(name)")
                    case .add:
                        XCTAssertEqual(fake.calls, [CtlCall(op: .add, fd: 7, interest: interest, data: token)], name)
                    case .mod:
                        XCTAssertEqual(fake.calls, [CtlCall(op: .modify, fd: 7, interest: interest, data: token)], name)
                    case .del:
                        XCTAssertEqual(fake.calls, [CtlCall(op: .delete, fd: 7, interest: [], data: 0)], name)
                    }
                    XCTAssertEqual(fake.violations, [], name)
                    XCTAssertTrue(
                        poller.flushedPolled(fd) == (expectedRecv.polled, expectedSend.polled), "saved bits: \(name)")
                    // Cache membership (Poller.swift design note): some direction active, polled or not.
                    let speculative = expectedRecv.active || expectedSend.active
                    XCTAssertEqual(poller.isCached(fd), speculative, "cache membership after \(name)")
                    XCTAssertEqual(poller.cachedCount, speculative ? 1 : 0, name)
                    XCTAssertEqual(poller.pendingUpdateCount, 0, name)
                    cases += 1
                }
            }
        }
        XCTAssertEqual(cases, 4 * 4 * 7)
    }

    /// Random verb sequences on a few fds, flushed at random points: the ctl calls must be exactly the changes of
    /// each fd's P bits between flushes (a reference model), the kernel model must end equal to the P bits, and
    /// cache membership must follow the any-direction-active rule.
    func testRandomVerbSequences_matchReferenceModel() {
        var rng = XorShift(seed: 0xC0FF_EE00_1234)
        let fake = FakePollBackend()
        let poller = Poller(backend: fake, capacity: 64)
        let fds = (10..<16).map { FD(Int32($0)) }
        var model: [Int32: (recv: Dir, send: Dir)] = [:]
        var kernel: [Int32: IOEvents] = [:]
        for fd in fds {
            poller.register(fd, kind: .testConn, owner: 0)
            model[fd.rawValue] = (.idle, .idle)
        }
        var expectedCalls: [CtlCall] = []
        for step in 0..<20_000 {
            if rng.next() % 8 == 0 {
                // Flush: in update-list order, which is the order of first change since the last flush.
                for raw in poller.pendingUpdates() {
                    let (r, s) = model[raw]!
                    let now = Self.interest(r, s)
                    let before = kernel[raw] ?? []
                    let data = poller.eventToken(for: FD(raw))
                    switch Self.ctl(before: before, after: now) {
                    case .none: break
                    case .add: expectedCalls.append(CtlCall(op: .add, fd: raw, interest: now, data: data))
                    case .mod: expectedCalls.append(CtlCall(op: .modify, fd: raw, interest: now, data: data))
                    case .del: expectedCalls.append(CtlCall(op: .delete, fd: raw, interest: [], data: 0))
                    }
                    kernel[raw] = now.isEmpty ? nil : now
                }
                poller.flushUpdates()
                XCTAssertEqual(fake.calls, expectedCalls, "step \(step)")
                if fake.calls != expectedCalls { return }
                XCTAssertEqual(fake.kernel, kernel, "step \(step)")
                for fd in fds {
                    let (r, s) = model[fd.rawValue]!
                    XCTAssertEqual(poller.isCached(fd), r.active || s.active)
                }
                continue
            }
            let fd = fds[Int(rng.next() % UInt64(fds.count))]
            let verb = Verb.allCases[Int(rng.next() % UInt64(Verb.allCases.count))]
            verb.apply(poller, fd)
            var (r, s) = model[fd.rawValue]!
            let effect = Self.effect(of: verb)
            if let kind = effect.recv { r = Self.row(kind, r).to }
            if let kind = effect.send { s = Self.row(kind, s).to }
            model[fd.rawValue] = (r, s)
            XCTAssertTrue(state(poller, fd) == (r, s), "step \(step): \(verb)")
        }
        XCTAssertGreaterThan(expectedCalls.count, 1000, "the run exercised the kernel")
    }
}
