// SPDX-License-Identifier: Apache-2.0
// Test doubles for the Poller: a fake epoll that records every ctl call and plays scripted readiness, and a
// dispatcher whose behaviour per fd is a closure. The fake also keeps a model of what the kernel holds so that
// an ADD of a registered fd or a MOD/DEL of an unknown one (EEXIST/ENOENT: traps with the real epoll) is
// reported as a test failure instead of passing silently.
import Glibc
import XCTest

@testable import SluiceCore

/// One recorded epoll_ctl call. For DEL the data word means nothing to the kernel and is not compared.
struct CtlCall: Equatable, CustomStringConvertible {
    var op: PollOperation
    var fd: Int32
    var interest: IOEvents
    var data: UInt64

    static func == (lhs: CtlCall, rhs: CtlCall) -> Bool {
        lhs.op == rhs.op && lhs.fd == rhs.fd && lhs.interest == rhs.interest
            && (lhs.op == .delete || lhs.data == rhs.data)
    }

    var description: String { "\(op) fd \(fd) [\(interest)] data 0x\(String(data, radix: 16))" }
}

/// A fake epoll: records ctl calls in order, returns one scripted batch of events per wait.
final class FakePollBackend: PollBackend {
    /// Every control call, in order.
    private(set) var calls: [CtlCall] = []
    /// The timeout of every wait, in order.
    private(set) var waitTimeouts: [Int32] = []
    /// The maxEvents of every wait, in order.
    private(set) var waitMaxEvents: [Int] = []
    /// Batches still to be returned, one per wait; a wait with no batch left returns nothing.
    private var script: [[(events: IOEvents, data: UInt64)]] = []
    private var current: [(events: IOEvents, data: UInt64)] = []
    /// The kernel's view: interest per registered fd.
    private(set) var kernel: [Int32: IOEvents] = [:]
    /// Calls that the real epoll would have refused (EEXIST / ENOENT / empty interest).
    private(set) var violations: [String] = []

    var waitCount: Int { waitTimeouts.count }

    /// Queues the events returned by one future wait.
    func script(_ batch: [(IOEvents, UInt64)]) {
        script.append(batch.map { (events: $0.0, data: $0.1) })
    }

    /// Forgets the recorded calls (not the kernel model), typically after a test's setup.
    func resetCalls() { calls.removeAll() }

    /// The kernel removes a closed descriptor from every epoll set (when nobody else holds it).
    func descriptorClosed(_ fd: FD) { kernel[fd.rawValue] = nil }

    func control(_ operation: PollOperation, fd: FD, interest: IOEvents, data: UInt64) {
        calls.append(CtlCall(op: operation, fd: fd.rawValue, interest: interest, data: data))
        let known = kernel[fd.rawValue] != nil
        switch operation {
        case .add:
            if known { violations.append("ADD of registered fd \(fd.rawValue) (EEXIST)") }
            if interest.isEmpty { violations.append("ADD of fd \(fd.rawValue) with no interest") }
            kernel[fd.rawValue] = interest
        case .modify:
            if !known { violations.append("MOD of unregistered fd \(fd.rawValue) (ENOENT)") }
            if interest.isEmpty { violations.append("MOD of fd \(fd.rawValue) to no interest (should be DEL)") }
            kernel[fd.rawValue] = interest
        case .delete:
            if !known { violations.append("DEL of unregistered fd \(fd.rawValue) (ENOENT)") }
            kernel[fd.rawValue] = nil
        }
    }

    func wait(maxEvents: Int, timeoutMs: Int32) -> Int {
        waitTimeouts.append(timeoutMs)
        waitMaxEvents.append(maxEvents)
        current = script.isEmpty ? [] : script.removeFirst()
        precondition(current.count <= maxEvents, "scripted \(current.count) events for maxEvents \(maxEvents)")
        return current.count
    }

    func event(at index: Int) -> (events: IOEvents, data: UInt64) {
        current[index]
    }
}

/// One recorded owner call.
struct DispatchCall: Equatable, CustomStringConvertible {
    var fd: Int32
    var kind: UInt8
    var owner: UInt32
    var events: IOEvents

    var description: String { "fd \(fd) kind \(kind) owner \(owner) [\(events)]" }
}

/// A dispatcher that records every call and runs a per-fd closure (which may call verbs, register, delete...).
final class RecordingDispatcher: PollDispatcher {
    private(set) var calls: [DispatchCall] = []
    /// Behaviour per fd number; fds without one do nothing (they stay in whatever state they are).
    var handlers: [Int32: (FD, IOEvents) -> Void] = [:]
    /// Called before the per-fd handler for every dispatch (e.g. to look at the backend's wait count).
    var observer: ((DispatchCall) -> Void)?

    func dispatch(fd: FD, kind: OwnerKind, owner: UInt32, events: IOEvents) {
        let call = DispatchCall(fd: fd.rawValue, kind: kind.rawValue, owner: owner, events: events)
        calls.append(call)
        observer?(call)
        handlers[fd.rawValue]?(fd, events)
    }

    /// The fds called, in order.
    var calledFDs: [Int32] { calls.map(\.fd) }

    func resetCalls() { calls.removeAll() }
}

/// Owner kinds used by the tests (the poller only stores them).
extension OwnerKind {
    static let testListener = OwnerKind(rawValue: 1)
    static let testConn = OwnerKind(rawValue: 2)
}

/// Opens `count` real descriptors (on /dev/null) for tests that `delete`, which closes the fd.
func openRealFDs(_ count: Int, file: StaticString = #filePath, line: UInt = #line) -> [FD] {
    (0..<count).map { _ in
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0, "open /dev/null", file: file, line: line)
        return FD(fd)
    }
}

/// Makes `number` a new descriptor (as an accept that reuses a just-closed number does): dup2 of /dev/null.
func reuseFDNumber(_ number: FD, file: StaticString = #filePath, line: UInt = #line) {
    let fresh = open("/dev/null", O_RDONLY | O_CLOEXEC)
    XCTAssertGreaterThanOrEqual(fresh, 0, file: file, line: line)
    if fresh == number.rawValue { return }  // the kernel handed out the lowest free number: already reused
    XCTAssertEqual(dup2(fresh, number.rawValue), number.rawValue, "dup2 onto \(number.rawValue)", file: file, line: line)
    _ = Glibc.close(fresh)
}
