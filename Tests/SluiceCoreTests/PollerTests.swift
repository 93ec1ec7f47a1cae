// SPDX-License-Identifier: Apache-2.0
// Poller against a fake epoll (FakePollBackend): the exact epoll_ctl sequence each scenario costs, same-turn
// service of new fds, cache walks that survive deletions, generation checks, and the timeout rule. These are the
// unit cases of ../shared/design/POLLER.md "What tests must prove" plus STYLE §9. Also a real-epoll sanity pass.
import Glibc
import XCTest

@testable import SluiceCore

final class PollerTests: XCTestCase {
    private var fake: FakePollBackend!
    private var poller: Poller<FakePollBackend>!
    private var owners: RecordingDispatcher!

    /// Fake fd numbers: far above anything the test process has open, so they never meet real descriptors.
    private let a = FD(1000)
    private let b = FD(1001)
    private let c = FD(1002)
    private let d = FD(1003)
    private let listener = FD(1100)

    override func setUp() {
        super.setUp()
        fake = FakePollBackend()
        poller = Poller(backend: fake, capacity: 4096, maxPollEvents: 8)
        owners = RecordingDispatcher()
    }

    override func tearDown() {
        XCTAssertEqual(fake.violations, [], "calls the real epoll would have refused")
        XCTAssertTrue(fake.waitMaxEvents.allSatisfy { $0 == 8 }, "every wait asks for maxPollEvents")
        poller = nil
        fake = nil
        owners = nil
        super.tearDown()
    }

    private func add(_ fd: FD, _ interest: IOEvents) -> CtlCall {
        CtlCall(op: .add, fd: fd.rawValue, interest: interest, data: poller.eventToken(for: fd))
    }

    private func mod(_ fd: FD, _ interest: IOEvents) -> CtlCall {
        CtlCall(op: .modify, fd: fd.rawValue, interest: interest, data: poller.eventToken(for: fd))
    }

    private func del(_ fd: FD) -> CtlCall { CtlCall(op: .delete, fd: fd.rawValue, interest: [], data: 0) }

    /// Registers `fd` and leaves it polled for recv, flushed (the kernel knows it); the ADD is forgotten.
    private func registerPolledRecv(_ fd: FD, kind: OwnerKind = .testConn, owner: UInt32 = 0, shared: Bool = false) {
        poller.register(fd, kind: kind, owner: owner, isShared: shared)
        poller.pollRecv(fd)
        poller.flushUpdates()
        fake.resetCalls()
    }

    private func turn(timeoutMs: Int32 = 1000) { poller.runTurn(owners, timeoutMs: timeoutMs) }

    // MARK: speculative I/O costs nothing

    func testWantStopWant_betweenTwoFlushes_issuesNoCtl() {
        poller.register(a, kind: .testConn, owner: 1)
        poller.wantRecv(a)
        poller.stopRecv(a)
        poller.wantRecv(a)
        poller.wantSend(a)
        poller.stopSend(a)
        poller.wantSend(a)
        XCTAssertEqual(poller.pendingUpdates(), [a.rawValue], "one update entry however many verbs")
        poller.flushUpdates()
        XCTAssertEqual(fake.calls, [])
        XCTAssertTrue(poller.isCached(a))
        // And back: stop -> want -> stop from the active state, again nothing for the kernel.
        poller.stopRecv(a)
        poller.wantRecv(a)
        poller.stopBoth(a)
        poller.flushUpdates()
        XCTAssertEqual(fake.calls, [])
        XCTAssertFalse(poller.isCached(a))
        XCTAssertEqual(poller.pendingUpdateCount, 0)
    }

    func testSpeculativeRead_thatSucceeds_issuesNoCtl() {
        poller.register(a, kind: .testConn, owner: 1)
        poller.wantRecv(a)
        var reads = 0
        owners.handlers[a.rawValue] = { [unowned self] fd, events in
            XCTAssertEqual(events, .readable)
            reads += 1
            if reads == 3 { self.poller.stopRecv(fd) }  // buffer full: not interested for now
        }
        for _ in 0..<5 { turn() }
        XCTAssertEqual(reads, 3)
        XCTAssertEqual(fake.calls, [])
        XCTAssertEqual(fake.waitTimeouts, [0, 0, 0, 1000, 1000])
    }

    func testSpeculativeRead_hittingEAGAIN_issuesExactlyOneAddAtNextFlush() {
        poller.register(a, kind: .testConn, owner: 1)
        poller.wantRecv(a)
        owners.handlers[a.rawValue] = { [unowned self] fd, _ in self.poller.pollRecv(fd) }
        turn()
        XCTAssertEqual(owners.calledFDs, [a.rawValue])
        XCTAssertEqual(fake.calls, [], "verbs never touch the kernel")
        turn()
        XCTAssertEqual(fake.calls, [add(a, .readable)])
        XCTAssertEqual(fake.calls.first?.data, UInt64(a.rawValue), "generation 0, fd in the low half")
        for _ in 0..<3 { turn() }
        XCTAssertEqual(fake.calls.count, 1, "still exactly one ctl")
        XCTAssertEqual(owners.calledFDs, [a.rawValue], "a polled fd without events is not called")
        XCTAssertEqual(fake.waitTimeouts, [0, 1000, 1000, 1000, 1000])
    }

    func testSpeculativeSend_hittingEAGAIN_addsOut_thenDeletesWhenDrained() {
        poller.register(a, kind: .testConn, owner: 1)
        poller.wantSend(a)
        var sends = 0
        owners.handlers[a.rawValue] = { [unowned self] fd, events in
            XCTAssertTrue(events.contains(.writable))
            sends += 1
            if sends == 1 { self.poller.pollSend(fd) } else { self.poller.stopSend(fd) }
        }
        turn()
        let token = poller.eventToken(for: a)
        fake.script([(.writable, token)])
        turn()  // flush ADD out; the report makes send active; the owner drains and stops
        turn()  // flush DEL
        XCTAssertEqual(fake.calls, [add(a, .writable), del(a)])
        XCTAssertEqual(sends, 2)
    }

    func testSteadyTraffic_onPolledFDs_issuesNoCtlPerExchange() {
        // A client and a server connection, both polled for recv: each exchange is request in, forwarded with a
        // speculative send that succeeds, response in, forwarded back the same way.
        let client = a
        let server = b
        registerPolledRecv(client)
        registerPolledRecv(server)
        var exchanged = 0
        owners.handlers[client.rawValue] = { [unowned self] fd, events in
            if events.contains(.readable) {
                self.poller.pollRecv(fd)  // read the request, then EAGAIN
                self.poller.wantSend(server)
            }
            if events.contains(.writable) {
                self.poller.stopSend(fd)  // response fully sent
                exchanged += 1
            }
        }
        owners.handlers[server.rawValue] = { [unowned self] fd, events in
            if events.contains(.readable) {
                self.poller.pollRecv(fd)
                self.poller.wantSend(client)
            }
            if events.contains(.writable) { self.poller.stopSend(fd) }
        }
        for _ in 0..<200 {
            fake.script([(.readable, poller.eventToken(for: client))])
            turn()
            fake.script([(.readable, poller.eventToken(for: server))])
            turn()
            turn()
        }
        XCTAssertEqual(exchanged, 200)
        XCTAssertEqual(owners.calls.count, 4 * 200)
        XCTAssertEqual(fake.calls, [], "no epoll_ctl over 200 exchanges")
        XCTAssertEqual(poller.directionState(client).recvPolled, true)
        poller.flushUpdates()
        XCTAssertEqual(poller.cachedCount, 0)
        XCTAssertEqual(fake.calls, [])
    }

    // MARK: fds created inside a handler

    func testFDAcceptedInPolledHandler_isServedInSameTurn_withoutWait() {
        registerPolledRecv(listener, kind: .testListener)
        let accepted = a
        owners.observer = { [unowned self] _ in XCTAssertEqual(self.fake.waitCount, 1, "served before any new wait") }
        owners.handlers[listener.rawValue] = { [unowned self] fd, _ in
            self.poller.register(accepted, kind: .testConn, owner: 42)
            self.poller.wantRecv(accepted)
            self.poller.pollRecv(fd)  // the next accept4 said EAGAIN
        }
        owners.handlers[accepted.rawValue] = { [unowned self] fd, events in
            XCTAssertEqual(events, .readable)
            self.poller.pollRecv(fd)  // read the request, then EAGAIN
        }
        fake.script([(.readable, poller.eventToken(for: listener))])
        turn()
        XCTAssertEqual(
            owners.calls,
            [
                DispatchCall(fd: listener.rawValue, kind: 1, owner: 0, events: .readable),
                DispatchCall(fd: accepted.rawValue, kind: 2, owner: 42, events: .readable),
            ])
        XCTAssertEqual(fake.waitCount, 1)
        XCTAssertFalse(poller.isFlaggedNew(accepted))
        owners.observer = nil
        turn()
        XCTAssertEqual(fake.calls, [add(accepted, .readable)], "the listener stayed polled: only the new fd is added")
    }

    func testSeveralFDsAccepted_areServedNewestFirst_includingFDsTheyCreate() {
        registerPolledRecv(listener, kind: .testListener)
        let backend = d
        owners.handlers[listener.rawValue] = { [unowned self] fd, _ in
            for (n, conn) in [a, b, c].enumerated() {
                self.poller.register(conn, kind: .testConn, owner: UInt32(n))
                self.poller.wantRecv(conn)
            }
            self.poller.pollRecv(fd)
        }
        for conn in [a, c] {
            owners.handlers[conn.rawValue] = { [unowned self] fd, _ in self.poller.pollRecv(fd) }
        }
        // b's request is complete: it opens a backend connection, whose connect is attempted at once.
        owners.handlers[b.rawValue] = { [unowned self] fd, _ in
            self.poller.pollRecv(fd)
            self.poller.register(backend, kind: .testConn, owner: 9)
            self.poller.wantSend(backend)
        }
        owners.handlers[backend.rawValue] = { [unowned self] fd, events in
            XCTAssertEqual(events, .writable)
            self.poller.pollSend(fd)  // connect in progress
        }
        fake.script([(.readable, poller.eventToken(for: listener))])
        turn()
        XCTAssertEqual(owners.calledFDs, [listener, c, b, backend, a].map(\.rawValue))
        XCTAssertEqual(fake.waitCount, 1)
        turn()
        XCTAssertEqual(
            fake.calls,
            [add(a, .readable), add(b, .readable), add(c, .readable), add(backend, .writable)])
    }

    func testFDAcceptedDuringCacheWalk_isServedBeforeTheWalkGoesOn() {
        // A resumed listener is active (not polled): it sits in the cache with another active fd.
        poller.register(listener, kind: .testListener, owner: 0)
        poller.wantRecv(listener)
        poller.register(b, kind: .testConn, owner: 1)
        poller.wantRecv(b)
        poller.flushUpdates()
        XCTAssertEqual(poller.cachedFDs(), [listener.rawValue, b.rawValue])
        owners.handlers[listener.rawValue] = { [unowned self] fd, _ in
            self.poller.register(self.a, kind: .testConn, owner: 2)
            self.poller.wantRecv(self.a)
            self.poller.pollRecv(fd)
        }
        owners.handlers[a.rawValue] = { [unowned self] fd, _ in self.poller.pollRecv(fd) }
        owners.handlers[b.rawValue] = { [unowned self] fd, _ in self.poller.pollRecv(fd) }
        turn()
        XCTAssertEqual(owners.calledFDs, [listener, a, b].map(\.rawValue))
        XCTAssertEqual(fake.waitCount, 1)
        turn()
        XCTAssertEqual(fake.calls, [add(a, .readable), add(listener, .readable), add(b, .readable)])
    }

    func testNewFDLeftIdle_asLastUpdateEntry_hasItsEntryDropped() {
        registerPolledRecv(listener, kind: .testListener)
        owners.handlers[listener.rawValue] = { [unowned self] fd, _ in
            self.poller.register(self.a, kind: .testConn, owner: 1)
            self.poller.wantRecv(self.a)
            self.poller.pollRecv(fd)
        }
        owners.handlers[a.rawValue] = { [unowned self] fd, _ in self.poller.stopRecv(fd) }  // e.g. waits for a slot
        fake.script([(.readable, poller.eventToken(for: listener))])
        turn()
        XCTAssertEqual(owners.calledFDs, [listener.rawValue, a.rawValue])
        XCTAssertEqual(poller.pendingUpdates(), [listener.rawValue], "the idle new fd left the update list")
        XCTAssertFalse(poller.isUpdatePending(a))
        XCTAssertTrue(poller.isRegistered(a))
        turn()
        XCTAssertEqual(fake.calls, [])
        // It can still be woken up later like any registered fd.
        poller.wantRecv(a)
        XCTAssertEqual(poller.pendingUpdates(), [a.rawValue])
    }

    func testFDRegisteredOutsideAnyHandler_isWalkedFromTheCacheInTheNextTurn() {
        poller.register(a, kind: .testConn, owner: 1)  // e.g. a health check connecting from a timer
        poller.wantSend(a)
        owners.handlers[a.rawValue] = { [unowned self] fd, _ in self.poller.pollSend(fd) }
        turn()
        XCTAssertEqual(owners.calls, [DispatchCall(fd: a.rawValue, kind: 2, owner: 1, events: .writable)])
        XCTAssertFalse(poller.isFlaggedNew(a))
    }

    // MARK: the cache walk survives deletions

    func testOwnerDeletingItself_duringCacheWalk_doesNotSkipNextFD() {
        let fds = openRealFDs(3)
        for fd in fds {
            poller.register(fd, kind: .testConn, owner: 0)
            poller.wantRecv(fd)
        }
        poller.flushUpdates()
        XCTAssertEqual(poller.cachedFDs(), fds.map(\.rawValue))
        owners.handlers[fds[0].rawValue] = { [unowned self] fd, _ in self.poller.delete(fd) }
        turn()
        XCTAssertEqual(owners.calledFDs.sorted(), fds.map(\.rawValue).sorted())
        XCTAssertEqual(owners.calledFDs, [fds[0], fds[2], fds[1]].map(\.rawValue), "the last fd moved into the slot")
        XCTAssertFalse(Sys.isOpen(fds[0]))
        XCTAssertEqual(poller.cachedFDs().sorted(), [fds[1], fds[2]].map(\.rawValue).sorted())
        for fd in fds.dropFirst() { poller.delete(fd) }
    }

    func testOwnerDeletingEveryFD_duringCacheWalk_endsTheWalk() {
        let fds = openRealFDs(4)
        for fd in fds {
            poller.register(fd, kind: .testConn, owner: 0)
            poller.wantRecv(fd)
        }
        poller.flushUpdates()
        owners.handlers[fds[1].rawValue] = { [unowned self] _, _ in
            for fd in fds { self.poller.delete(fd) }
        }
        turn()
        XCTAssertEqual(owners.calledFDs, [fds[0], fds[1]].map(\.rawValue))
        XCTAssertEqual(poller.cachedCount, 0)
        turn()
        XCTAssertEqual(fake.waitTimeouts, [0, 1000])
    }

    func testOwnerDeletingAnotherFD_alreadyWalked_doesNotSkipTheLastFD() {
        // A session closing: the frontend's handler also deletes its backend fd, which the walk already passed.
        let fds = openRealFDs(4)
        for fd in fds {
            poller.register(fd, kind: .testConn, owner: 0)
            poller.wantRecv(fd)
        }
        poller.flushUpdates()
        XCTAssertEqual(poller.cachedFDs(), fds.map(\.rawValue))
        owners.handlers[fds[1].rawValue] = { [unowned self] fd, _ in
            self.poller.delete(fds[0])
            self.poller.delete(fd)
        }
        turn()
        XCTAssertEqual(owners.calledFDs.sorted(), fds.map(\.rawValue).sorted(), "every cached fd served once")
        for fd in fds[2...] { poller.delete(fd) }
    }

    func testOwnerDeletingAnotherFD_alreadyWalked_whileStaying_doesNotSkipTheLastFD() {
        let fds = openRealFDs(4)
        for fd in fds {
            poller.register(fd, kind: .testConn, owner: 0)
            poller.wantRecv(fd)
        }
        poller.flushUpdates()
        owners.handlers[fds[2].rawValue] = { [unowned self] _, _ in self.poller.delete(fds[0]) }
        turn()
        XCTAssertEqual(owners.calledFDs.sorted(), fds.map(\.rawValue).sorted(), "every cached fd served once")
        for fd in fds[1...] { poller.delete(fd) }
    }

    func testOwnerDeletingAnotherFD_notYetWalked_doesNotCallItAndSkipsNothing() {
        let fds = openRealFDs(4)
        for fd in fds {
            poller.register(fd, kind: .testConn, owner: 0)
            poller.wantRecv(fd)
        }
        poller.flushUpdates()
        owners.handlers[fds[0].rawValue] = { [unowned self] _, _ in self.poller.delete(fds[2]) }
        owners.handlers[fds[1].rawValue] = { [unowned self] _, _ in self.poller.delete(fds[3]) }
        turn()
        XCTAssertEqual(owners.calledFDs, [fds[0], fds[1]].map(\.rawValue), "deleted fds are never called")
        poller.delete(fds[0])
        poller.delete(fds[1])
    }

    func testCacheWalk_withRandomDeletions_servesEachSurvivorExactlyOnce() {
        // Property: in one walk, no fd is called twice, no fd is called after it was removed, and every fd that
        // was cached when the walk began and is still registered at its end was called exactly once.
        var rng = XorShift(seed: 0x5EED_0001)
        for round in 0..<300 {
            let fake = FakePollBackend()
            let poller = Poller(backend: fake, capacity: 512)
            let owners = RecordingDispatcher()
            let n = 1 + Int(rng.next() % 40)
            let fds = (0..<n).map { FD(Int32(100 + $0)) }
            for fd in fds {
                poller.register(fd, kind: .testConn, owner: 0)
                poller.wantRecv(fd)
            }
            poller.flushUpdates()
            var removed = Set<Int32>()
            var plans: [Int32: [FD]] = [:]
            for fd in fds {
                var victims: [FD] = []
                for _ in 0..<Int(rng.next() % 3) { victims.append(fds[Int(rng.next() % UInt64(n))]) }
                plans[fd.rawValue] = victims
            }
            for fd in fds {
                owners.handlers[fd.rawValue] = { fd, _ in
                    XCTAssertFalse(removed.contains(fd.rawValue), "round \(round): fd \(fd.rawValue) called after removal")
                    for victim in plans[fd.rawValue]! where !removed.contains(victim.rawValue) {
                        poller.forget(victim)
                        removed.insert(victim.rawValue)
                    }
                }
            }
            poller.runTurn(owners, timeoutMs: 0)
            let called = owners.calledFDs
            XCTAssertEqual(Set(called).count, called.count, "round \(round): an fd was called twice: \(called)")
            let skipped = fds.map(\.rawValue).filter { !removed.contains($0) && !called.contains($0) }
            XCTAssertEqual(skipped, [], "round \(round): fds skipped by the walk")
            XCTAssertEqual(poller.cachedCount, n - removed.count)
            XCTAssertEqual(Set(poller.cachedFDs()).count, poller.cachedCount)
        }
    }

    // MARK: closed fds, reused numbers, stale events

    func testClosedFDReused_inSameTurn_getsNewOwnerStateOnly_andStaleEventsAreDropped() {
        let real = openRealFDs(2)
        let accepting = real[0]
        let x = real[1]
        registerPolledRecv(accepting, kind: .testListener)
        poller.register(x, kind: .testConn, owner: 1)
        poller.pollRecv(x)
        poller.pollSend(x)
        poller.flushUpdates()
        XCTAssertEqual(fake.calls, [add(x, [.readable, .writable])])
        fake.resetCalls()
        let oldToken = poller.eventToken(for: x)

        // The listener's handler runs first in the batch: it closes x (say, a timeout fired for it) and accepts
        // a new connection that gets the same number. The event fetched for the old x comes after.
        owners.handlers[accepting.rawValue] = { [unowned self] fd, _ in
            self.poller.delete(x)
            self.fake.descriptorClosed(x)
            reuseFDNumber(x)
            self.poller.register(x, kind: .testConn, owner: 2)
            XCTAssertTrue(self.poller.directionState(x) == (false, false, false, false), "a reused number starts idle")
            XCTAssertTrue(self.poller.flushedPolled(x) == (false, false))
            self.poller.wantRecv(x)
            self.poller.pollRecv(fd)
        }
        var newOwnerCalls = 0
        owners.handlers[x.rawValue] = { [unowned self] fd, events in
            XCTAssertEqual(events, .readable)
            newOwnerCalls += 1
            self.poller.pollRecv(fd)  // the new owner waits; a stale event must not wake it
        }
        fake.script([(.readable, poller.eventToken(for: accepting)), (IOEvents([.readable, .writable, .hangup]), oldToken)])
        XCTAssertEqual(poller.runTurn(owners, timeoutMs: 1000), 2)
        XCTAssertEqual(newOwnerCalls, 1, "served once as a new fd; the stale report was dropped")
        XCTAssertFalse(owners.calls.contains { $0.owner == 1 }, "the old owner is never called")
        XCTAssertTrue(poller.directionState(x) == (false, true, false, false), "only the new owner's recv P")
        turn()
        XCTAssertEqual(fake.calls, [add(x, .readable)], "ADD (the old registration died with close), recv only")
        XCTAssertNotEqual(fake.calls.first?.data, oldToken)
        XCTAssertEqual(fake.calls.first?.data, oldToken + (1 << 32), "generation bumped, same fd")
        poller.delete(x)
        poller.delete(accepting)
    }

    func testCachedFDClosedAndItsNumberReused_duringTheWalk_servesTheNewOwnerOnce() {
        let fds = openRealFDs(3)
        for fd in fds {
            poller.register(fd, kind: .testConn, owner: 1)
            poller.wantRecv(fd)
        }
        poller.flushUpdates()
        // fds[0]'s owner times out fds[1] (not walked yet) and an accept reuses the number at once.
        owners.handlers[fds[0].rawValue] = { [unowned self] fd, _ in
            self.poller.delete(fds[1])
            reuseFDNumber(fds[1])
            self.poller.register(fds[1], kind: .testConn, owner: 2)
            self.poller.wantRecv(fds[1])
            self.poller.pollRecv(fd)
        }
        owners.handlers[fds[1].rawValue] = { [unowned self] fd, _ in self.poller.pollRecv(fd) }
        turn()
        XCTAssertEqual(
            owners.calls.map { [$0.fd: $0.owner] },
            [[fds[0].rawValue: 1], [fds[1].rawValue: 2], [fds[2].rawValue: 1]],
            "the old owner of the reused number is not walked; the new one is served once, as new")
        for fd in fds { poller.delete(fd) }
    }

    func testStaleEvent_forDeletedFD_isDropped() {
        let x = openRealFDs(1)[0]
        registerPolledRecv(listener, kind: .testListener)
        registerPolledRecv(x)
        let oldToken = poller.eventToken(for: x)
        owners.handlers[listener.rawValue] = { [unowned self] _, _ in
            self.poller.delete(x)
            self.fake.descriptorClosed(x)
        }
        fake.script([(.readable, poller.eventToken(for: listener)), (.readable, oldToken)])
        turn()
        XCTAssertEqual(owners.calledFDs, [listener.rawValue])
        XCTAssertEqual(fake.calls, [])
    }

    func testEventWithOldGeneration_isDropped_evenWhenTheNewOwnerIsPolled() {
        // The kernel still holds an event queued for the previous owner of this number.
        let x = openRealFDs(1)[0]
        registerPolledRecv(x, owner: 1)
        let oldToken = poller.eventToken(for: x)
        poller.delete(x)
        fake.descriptorClosed(x)
        reuseFDNumber(x)
        registerPolledRecv(x, owner: 2)
        fake.script([(.readable, oldToken), (.readable, poller.eventToken(for: x))])
        turn()
        XCTAssertEqual(owners.calls, [DispatchCall(fd: x.rawValue, kind: 2, owner: 2, events: .readable)])
        poller.delete(x)
    }

    func testEventForFDOutsideTheTable_isIgnored() {
        fake.script([(.readable, 5000), (.readable, UInt64(UInt32.max))])
        XCTAssertEqual(poller.runTurn(owners, timeoutMs: 0), 2)
        XCTAssertEqual(owners.calls, [])
    }

    // MARK: delete leaves no trace

    func testDelete_ofPolledFD_leavesNoTrace_andAReusedNumberStartsClean() {
        let x = openRealFDs(1)[0]
        poller.register(x, kind: .testConn, owner: 1)
        poller.pollRecv(x)
        poller.wantSend(x)
        poller.flushUpdates()
        XCTAssertEqual(fake.calls, [add(x, .readable)])
        XCTAssertTrue(poller.isCached(x))
        fake.resetCalls()
        let token = poller.eventToken(for: x)
        poller.stopRecv(x)  // a pending change that must not survive
        poller.delete(x)
        fake.descriptorClosed(x)
        XCTAssertFalse(Sys.isOpen(x), "delete closes")
        XCTAssertFalse(poller.isRegistered(x))
        XCTAssertFalse(poller.isCached(x))
        XCTAssertEqual(poller.cachedCount, 0)
        XCTAssertTrue(poller.directionState(x) == (false, false, false, false))
        XCTAssertTrue(poller.flushedPolled(x) == (false, false))
        XCTAssertEqual(fake.calls, [], "close() removes a private fd from epoll: no DEL")
        poller.flushUpdates()
        XCTAssertEqual(fake.calls, [], "the flush skips the closed fd")
        XCTAssertEqual(poller.pendingUpdateCount, 0)
        XCTAssertFalse(poller.isUpdatePending(x))

        reuseFDNumber(x)
        poller.register(x, kind: .testConn, owner: 2)
        XCTAssertTrue(poller.directionState(x) == (false, false, false, false))
        XCTAssertFalse(poller.isCached(x))
        poller.pollSend(x)
        poller.flushUpdates()
        XCTAssertEqual(fake.calls, [add(x, .writable)], "ADD, not MOD: nothing of the old state is left")
        XCTAssertEqual(poller.eventToken(for: x), token + (1 << 32))
        poller.delete(x)
    }

    func testDelete_ofFDWithPendingUpdate_thenReuseInSameTurn_listsItOnce() {
        let x = openRealFDs(1)[0]
        poller.register(x, kind: .testConn, owner: 1)
        poller.wantRecv(x)  // listed, not flushed
        poller.delete(x)
        reuseFDNumber(x)
        poller.register(x, kind: .testConn, owner: 2)
        poller.pollRecv(x)
        XCTAssertEqual(poller.pendingUpdates(), [x.rawValue], "the number is listed once")
        poller.flushUpdates()
        XCTAssertEqual(fake.calls, [add(x, .readable)])
        XCTAssertFalse(poller.isCached(x))
        poller.delete(x)
    }

    func testDelete_ofSharedPolledFD_issuesExactlyOneDel() {
        let x = openRealFDs(1)[0]
        registerPolledRecv(x, kind: .testListener, shared: true)
        poller.wantSend(x)  // pending change, irrelevant to the kernel
        poller.delete(x)
        XCTAssertEqual(fake.calls, [del(x)])
        poller.flushUpdates()
        turn(timeoutMs: 0)
        XCTAssertEqual(fake.calls, [del(x)], "exactly one DEL, nothing after")
        XCTAssertTrue(fake.kernel.isEmpty)
    }

    func testDelete_ofSharedFD_unknownToTheKernel_issuesNoDel() {
        let fds = openRealFDs(2)
        poller.register(fds[0], kind: .testListener, owner: 0, isShared: true)  // never polled
        poller.register(fds[1], kind: .testListener, owner: 1, isShared: true)
        poller.pollRecv(fds[1])  // polled but not flushed yet: the kernel does not know it
        poller.delete(fds[0])
        poller.delete(fds[1])
        poller.flushUpdates()
        XCTAssertEqual(fake.calls, [])
    }

    func testDelete_ofSharedFD_afterItStoppedPolling_issuesNoSecondDel() {
        let x = openRealFDs(1)[0]
        registerPolledRecv(x, kind: .testListener, shared: true)
        poller.stopRecv(x)
        poller.flushUpdates()
        XCTAssertEqual(fake.calls, [del(x)])
        poller.delete(x)
        XCTAssertEqual(fake.calls, [del(x)])
    }

    func testForget_ofPolledFD_removesItFromTheKernel_andKeepsItOpen() {
        // forget() hands the descriptor back to the caller (e.g. for a child process): unlike close(), nothing
        // removes it from epoll, so forget must issue the DEL itself ("Always issues EPOLL_CTL_DEL").
        let x = openRealFDs(1)[0]
        registerPolledRecv(x)
        poller.forget(x)
        XCTAssertEqual(fake.calls, [del(x)])
        XCTAssertTrue(Sys.isOpen(x))
        XCTAssertFalse(poller.isRegistered(x))
        // Registering it again must be an ADD the kernel accepts (EEXIST otherwise).
        registerPolledRecv(x)
        XCTAssertEqual(fake.violations, [])
        poller.delete(x)
    }

    // MARK: invisible buffers: active owners without socket events

    func testActiveOwner_withoutSocketEvents_isCalledEveryTurnWithZeroTimeout_untilIdle() {
        poller.register(a, kind: .testConn, owner: 1)
        poller.wantRecv(a)
        var calls = 0
        owners.handlers[a.rawValue] = { [unowned self] fd, _ in
            calls += 1
            if calls == 5 { self.poller.stopRecv(fd) }  // plaintext drained, nothing more wanted
        }
        for _ in 0..<7 { turn(timeoutMs: 750) }
        XCTAssertEqual(calls, 5)
        XCTAssertEqual(fake.waitTimeouts, [0, 0, 0, 0, 0, 750, 750])
        XCTAssertEqual(fake.calls, [])
    }

    func testActiveOwner_withoutSocketEvents_isCalledEveryTurn_untilItPolls() {
        poller.register(a, kind: .testConn, owner: 1)
        poller.wantRecv(a)
        var calls = 0
        owners.handlers[a.rawValue] = { [unowned self] fd, _ in
            calls += 1
            if calls == 3 { self.poller.pollRecv(fd) }  // SSL_read said WANT_READ at last
        }
        for _ in 0..<5 { turn(timeoutMs: 750) }
        XCTAssertEqual(calls, 3)
        XCTAssertEqual(fake.waitTimeouts, [0, 0, 0, 750, 750])
        XCTAssertEqual(fake.calls, [add(a, .readable)])
    }

    func testPolledOwner_withBufferedPlaintext_isServedAgainOnceWantedWithoutNewSocketData() {
        // The TLS stall of the reference change: epoll reports the socket, SSL_read takes the whole record but the
        // buffer fills up; the socket is now empty, so only the cache can bring the fd back once room is made.
        let tls = a
        let other = b
        registerPolledRecv(tls)
        registerPolledRecv(other)
        var tlsCalls: [IOEvents] = []
        owners.handlers[tls.rawValue] = { [unowned self] fd, events in
            tlsCalls.append(events)
            switch tlsCalls.count {
            case 1: self.poller.stopRecv(fd)  // buffer full, plaintext left inside OpenSSL
            case 2: break  // delivered some, still pending: stay active
            default: self.poller.pollRecv(fd)  // drained: SSL_read says WANT_READ
            }
        }
        owners.handlers[other.rawValue] = { [unowned self] fd, _ in
            self.poller.pollRecv(fd)
            self.poller.wantRecv(tls)  // the other side sent the buffer out: room again
        }
        fake.script([(.readable, poller.eventToken(for: tls))])
        turn()
        fake.script([(.readable, poller.eventToken(for: other))])
        turn()
        turn()
        turn()
        turn()
        XCTAssertEqual(tlsCalls, [.readable, .readable, .readable])
        XCTAssertEqual(fake.calls, [del(tls), add(tls, .readable)])
        XCTAssertEqual(fake.waitTimeouts, [1000, 1000, 0, 0, 1000])
    }

    // MARK: polled events

    func testPolledEvent_callsOnlyPolledDirections_andMarksThemActive() {
        registerPolledRecv(a)
        owners.handlers[a.rawValue] = { [unowned self] fd, _ in
            XCTAssertTrue(self.poller.directionState(fd) == (true, true, false, false), "reported recv is A+P")
        }
        fake.script([(IOEvents([.readable, .writable]), poller.eventToken(for: a))])
        turn()
        XCTAssertEqual(owners.calls.map(\.events), [.readable])
        // The owner did nothing (it could not consume everything): it stays A+P, so it is cached and called
        // again on the next turn without a new report (timeout 0), and no ctl is issued.
        turn()
        XCTAssertEqual(fake.calls, [])
        XCTAssertTrue(poller.isCached(a))
        XCTAssertEqual(fake.waitTimeouts, [1000, 0])
        XCTAssertEqual(owners.calls.map(\.events), [.readable, .readable])
    }

    func testErrorAndHangup_wakePolledDirectionsOnly() {
        registerPolledRecv(a)
        poller.register(b, kind: .testConn, owner: 0)
        poller.pollRecv(b)
        poller.pollSend(b)
        poller.flushUpdates()
        fake.script([(.hangup, poller.eventToken(for: a)), (.error, poller.eventToken(for: b))])
        turn()
        XCTAssertEqual(owners.calls.map(\.events), [[.readable, .hangup], [.readable, .writable, .error]])
    }

    func testPolledEvent_forDirectionStoppedEarlierInTheBatch_isNotDelivered() {
        registerPolledRecv(a)
        registerPolledRecv(b)
        poller.pollSend(b)
        poller.flushUpdates()
        fake.resetCalls()
        owners.handlers[a.rawValue] = { [unowned self] fd, _ in
            self.poller.pollRecv(fd)
            self.poller.stopRecv(self.b)  // b's buffer is full now
        }
        fake.script([(.readable, poller.eventToken(for: a)), (IOEvents([.readable, .writable]), poller.eventToken(for: b))])
        turn()
        XCTAssertEqual(owners.calls.map(\.fd), [a.rawValue, b.rawValue])
        XCTAssertEqual(owners.calls.last?.events, .writable, "recv was stopped before b's report was handled")
        turn()
        XCTAssertEqual(fake.calls, [mod(b, .writable)])
    }

    func testPolledFD_alsoActiveOnOtherDirection_isCalledOncePerDirectionInATurn() {
        poller.register(a, kind: .testConn, owner: 0)
        poller.pollRecv(a)
        poller.wantSend(a)
        poller.flushUpdates()
        fake.resetCalls()
        owners.handlers[a.rawValue] = { [unowned self] fd, events in
            if events.contains(.readable) { self.poller.pollRecv(fd) }
        }
        fake.script([(.readable, poller.eventToken(for: a))])
        turn()
        XCTAssertEqual(owners.calls.map(\.events), [.readable, .writable])
        XCTAssertEqual(fake.waitTimeouts, [0])
    }

    func testRunTurn_returnsPolledEventCount_andWaitsWithCallersTimeoutWhenIdle() {
        registerPolledRecv(a)
        XCTAssertEqual(poller.runTurn(owners, timeoutMs: 1234), 0)
        fake.script([(.readable, poller.eventToken(for: a))])
        XCTAssertEqual(poller.runTurn(owners, timeoutMs: -1), 1)
        XCTAssertEqual(fake.waitTimeouts, [1234, -1])
    }

    func testVerbs_thatChangeNothing_doNotListTheFD() {
        poller.register(a, kind: .testConn, owner: 0)
        poller.stopRecv(a)
        poller.stopSend(a)
        poller.stopBoth(a)
        XCTAssertEqual(poller.pendingUpdateCount, 0)
        poller.pollRecv(a)
        poller.flushUpdates()
        fake.resetCalls()
        poller.pollRecv(a)
        poller.stopSend(a)
        XCTAssertEqual(poller.pendingUpdateCount, 0)
        poller.wantRecv(a)
        poller.wantRecv(a)
        XCTAssertEqual(poller.pendingUpdates(), [a.rawValue])
    }

    func testIsRecvEnabled_andIsSendEnabled_reportActiveOrPolled() {
        poller.register(a, kind: .testConn, owner: 0)
        XCTAssertFalse(poller.isRecvEnabled(a))
        XCTAssertFalse(poller.isSendEnabled(a))
        poller.wantRecv(a)
        poller.pollSend(a)
        XCTAssertTrue(poller.isRecvEnabled(a))
        XCTAssertTrue(poller.isSendEnabled(a))
        poller.stopBoth(a)
        XCTAssertFalse(poller.isRecvEnabled(a) || poller.isSendEnabled(a))
        XCTAssertTrue(poller.isRegistered(a))
        XCTAssertFalse(poller.isRegistered(b))
        XCTAssertFalse(poller.isRegistered(FD(-1)))
        XCTAssertFalse(poller.isRegistered(FD(4096)))
    }

    func testChangeOwner_redirectsDispatch() {
        registerPolledRecv(listener, kind: .testListener, owner: 3)
        poller.changeOwner(listener, kind: .testConn, owner: 8)
        fake.script([(.readable, poller.eventToken(for: listener))])
        turn()
        XCTAssertEqual(owners.calls, [DispatchCall(fd: listener.rawValue, kind: 2, owner: 8, events: .readable)])
    }
}

// MARK: - the real kernel

final class PollerEpollTests: XCTestCase {
    final class Owner: PollDispatcher {
        var poller: Poller<EpollBackend>!
        var received: [Int32: [UInt8]] = [:]
        var calls: [(fd: Int32, owner: UInt32)] = []
        var onCall: ((FD, UInt32) -> Void)?

        /// Reads until EAGAIN, then polls: the speculative contract.
        func dispatch(fd: FD, kind: OwnerKind, owner: UInt32, events: IOEvents) {
            calls.append((fd.rawValue, owner))
            onCall?(fd, owner)
            guard poller.isRegistered(fd), events.contains(.readable) else { return }
            var buffer = [UInt8](repeating: 0, count: 64)
            while true {
                let result = buffer.withUnsafeMutableBytes { Sys.recv(fd, into: $0) }
                switch result {
                case .processed(let n): received[fd.rawValue, default: []] += buffer[0..<n]
                case .wouldBlock:
                    poller.pollRecv(fd)
                    return
                case .eof, .failed:
                    poller.stopRecv(fd)
                    return
                }
            }
        }
    }

    private func socketPair(file: StaticString = #filePath, line: UInt = #line) -> (FD, FD) {
        var sv: [CInt] = [-1, -1]
        let rc = socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0, &sv)
        XCTAssertEqual(rc, 0, file: file, line: line)
        return (FD(sv[0]), FD(sv[1]))
    }

    private func send(_ text: String, to fd: FD) {
        var bytes = Array(text.utf8)
        let result = bytes.withUnsafeMutableBytes { Sys.send(fd, from: UnsafeRawBufferPointer($0)) }
        XCTAssertEqual(result, .processed(bytes.count))
    }

    func testEpoll_socketpair_readsUntilEAGAIN_pollsAndWakesOnPeerWrite() throws {
        let backend = try EpollBackend(maxEvents: 16)
        let poller = Poller(backend: backend, capacity: Sys.openFilesLimit(), maxPollEvents: 16)
        let owner = Owner()
        owner.poller = poller
        let (x, peer) = socketPair()
        send("early", to: peer)
        poller.register(x, kind: .testConn, owner: 1)
        poller.wantRecv(x)
        poller.runTurn(owner, timeoutMs: 0)  // speculative read: data, then EAGAIN -> pollRecv
        XCTAssertEqual(owner.received[x.rawValue], Array("early".utf8))
        XCTAssertTrue(poller.directionState(x) == (false, true, false, false))
        poller.runTurn(owner, timeoutMs: 0)  // flush: EPOLL_CTL_ADD; nothing readable
        XCTAssertEqual(owner.calls.count, 1)
        send("later", to: peer)
        // Data is already queued, so epoll_wait returns at once; the timeout only bounds a failure.
        XCTAssertEqual(poller.runTurn(owner, timeoutMs: 5000), 1)
        XCTAssertEqual(owner.received[x.rawValue], Array("earlylater".utf8))
        XCTAssertEqual(owner.calls.count, 2)
        XCTAssertEqual(poller.runTurn(owner, timeoutMs: 0), 0, "level-triggered, drained: no report")
        Sys.close(peer)
        XCTAssertEqual(poller.runTurn(owner, timeoutMs: 5000), 1, "EOF is reported")
        XCTAssertTrue(poller.directionState(x) == (false, false, false, false), "owner stopped on EOF")
        poller.runTurn(owner, timeoutMs: 0)  // flush: EPOLL_CTL_DEL (would trap on ENOENT)
        poller.delete(x)
    }

    func testEpoll_deleteAndReuseInSameBatch_dropsStaleEventByGeneration() throws {
        let backend = try EpollBackend(maxEvents: 16)
        let poller = Poller(backend: backend, capacity: Sys.openFilesLimit(), maxPollEvents: 16)
        let owner = Owner()
        owner.poller = poller
        let (x, xPeer) = socketPair()
        let (y, yPeer) = socketPair()
        for (fd, id) in [(x, UInt32(1)), (y, UInt32(2))] {
            poller.register(fd, kind: .testConn, owner: id)
            poller.pollRecv(fd)
        }
        poller.runTurn(owner, timeoutMs: 0)  // ADD both
        send("x", to: xPeer)
        send("y", to: yPeer)
        // Whichever is reported first closes the other and reuses its number for a fresh, empty socket that is
        // polled at once: the other's event, already fetched, belongs to the old generation.
        var replaced: FD?
        var keep: [FD] = []
        owner.onCall = { fd, id in
            guard replaced == nil, id <= 2 else { return }
            let victim = fd == x ? y : x
            poller.delete(victim)
            let (fresh, freshPeer) = self.socketPair()
            if fresh != victim {  // usually the lowest free number is the victim's already
                XCTAssertEqual(dup2(fresh.rawValue, victim.rawValue), victim.rawValue)
                Sys.close(fresh)
            }
            keep.append(freshPeer)
            poller.register(victim, kind: .testConn, owner: 3)
            poller.pollRecv(victim)
            replaced = victim
        }
        XCTAssertEqual(poller.runTurn(owner, timeoutMs: 5000), 2, "both reports fetched in one wait")
        XCTAssertEqual(owner.calls.count, 1, "the stale report for the reused number was dropped")
        XCTAssertFalse(owner.calls.contains { $0.owner == 3 })
        owner.onCall = nil
        // The new registration is an ADD the kernel accepts (the old one died with close); nothing is readable.
        XCTAssertEqual(poller.runTurn(owner, timeoutMs: 0), 0)
        send("new", to: keep[0])
        XCTAssertEqual(poller.runTurn(owner, timeoutMs: 5000), 1)
        XCTAssertEqual(owner.calls.last?.owner, 3)
        XCTAssertEqual(owner.received[replaced!.rawValue, default: []].suffix(3), Array("new".utf8))
        poller.delete(x)
        poller.delete(y)
        Sys.close(xPeer)
        Sys.close(yPeer)
        keep.forEach(Sys.close)
    }
}

/// xorshift64*: a small deterministic PRNG for property-style tests.
struct XorShift {
    var state: UInt64

    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
