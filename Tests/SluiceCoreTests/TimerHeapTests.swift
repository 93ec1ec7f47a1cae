// SPDX-License-Identifier: Apache-2.0
// TimerHeap: ordering, schedule/move/cancel/release, slot reuse, timeout computation, growth, a randomized run
// against a sorted-array reference model, and a correctness-only scale run (no timing: that is for benchmarks).
import XCTest

@testable import SluiceCore

final class TimerHeapTests: XCTestCase {
    /// Pops everything due at `now`, returning (deadline, token) in pop order.
    private func drain(_ heap: TimerHeap, now: Ticks) -> [(deadline: Ticks, token: UInt64)] {
        var out: [(Ticks, UInt64)] = []
        while true {
            let deadline = heap.nextDeadline
            guard let (id, token) = heap.popExpired(now: now) else { break }
            XCTAssertFalse(heap.isScheduled(id))
            out.append((deadline!, token))
        }
        return out
    }

    func testPop_of100kRandomDeadlines_isNonDecreasing() {
        var rng = XorShift(seed: 42)
        let heap = TimerHeap(capacity: 1024)
        var deadlineOfToken: [Ticks] = []
        for n in 0..<100_000 {
            let id = heap.allocate(token: UInt64(n))
            let deadline = Ticks(rng.next() % 1_000_000) - 500_000  // negative deadlines too
            deadlineOfToken.append(deadline)
            heap.schedule(id, at: deadline)
        }
        XCTAssertEqual(heap.count, 100_000)
        let popped = drain(heap, now: .max)
        XCTAssertEqual(popped.count, 100_000)
        for k in 1..<popped.count where popped[k - 1].deadline > popped[k].deadline {
            XCTFail("pop \(k) went backwards: \(popped[k - 1].deadline) then \(popped[k].deadline)")
            break
        }
        for entry in popped where deadlineOfToken[Int(entry.token)] != entry.deadline {
            XCTFail("token \(entry.token) popped at \(entry.deadline), scheduled at \(deadlineOfToken[Int(entry.token)])")
            break
        }
        XCTAssertEqual(Set(popped.map(\.token)).count, 100_000, "every timer exactly once")
        XCTAssertEqual(heap.count, 0)
        XCTAssertNil(heap.nextDeadline)
    }

    func testPopExpired_returnsOnlyDueTimers_withTheirTokens() {
        let heap = TimerHeap()
        let a = heap.allocate(token: 0xA)
        let b = heap.allocate(token: 0xB)
        let c = heap.allocate(token: 0xC)
        heap.schedule(a, at: 300)
        heap.schedule(b, at: 100)
        heap.schedule(c, at: 200)
        XCTAssertNil(heap.popExpired(now: 99))
        XCTAssertEqual(heap.popExpired(now: 100).map { [$0.id.rawValue: $0.token] }, [b.rawValue: 0xB], "at the deadline")
        XCTAssertNil(heap.popExpired(now: 199))
        XCTAssertEqual(drain(heap, now: 1000).map(\.token), [0xC, 0xA])
        XCTAssertNil(heap.popExpired(now: .max))
    }

    func testSchedule_movesEarlierAndLater() {
        let heap = TimerHeap()
        let ids = (0..<5).map { heap.allocate(token: UInt64($0)) }
        for (n, id) in ids.enumerated() { heap.schedule(id, at: Ticks(100 * (n + 1))) }  // 100...500
        XCTAssertEqual(heap.nextDeadline, 100)
        heap.schedule(ids[4], at: 50)  // earlier: becomes the first
        XCTAssertEqual(heap.nextDeadline, 50)
        XCTAssertEqual(heap.deadline(of: ids[4]), 50)
        heap.schedule(ids[4], at: 1000)  // later: goes to the back
        heap.schedule(ids[0], at: 450)  // the head moves later
        XCTAssertEqual(heap.nextDeadline, 200)
        heap.schedule(ids[2], at: 300)  // same deadline: no change
        XCTAssertEqual(heap.count, 5, "moving never duplicates")
        XCTAssertEqual(drain(heap, now: .max).map(\.token), [1, 2, 3, 0, 4])
    }

    func testCancel_removesOnlyThatTimer_andIsHarmlessWhenUnscheduled() {
        let heap = TimerHeap()
        let ids = (0..<6).map { heap.allocate(token: UInt64($0)) }
        heap.cancel(ids[0])  // never scheduled
        XCTAssertEqual(heap.count, 0)
        for (n, id) in ids.enumerated() { heap.schedule(id, at: Ticks(10 * (6 - n))) }  // 60, 50, ..., 10
        heap.cancel(ids[5])  // the head
        heap.cancel(ids[2])  // the middle
        heap.cancel(ids[2])  // twice
        XCTAssertFalse(heap.isScheduled(ids[2]))
        XCTAssertNil(heap.deadline(of: ids[2]))
        XCTAssertEqual(heap.count, 4)
        XCTAssertEqual(heap.nextDeadline, 20)
        XCTAssertEqual(drain(heap, now: .max).map(\.token), [4, 3, 1, 0])
        // A cancelled timer can be scheduled again.
        heap.schedule(ids[2], at: 5)
        XCTAssertEqual(heap.popExpired(now: 5)?.token, 2)
    }

    func testCancel_ofLastHeapEntry_andOfEntryThatMustSiftUp() {
        // Removing a node and moving the last leaf into its slot may need a sift up (the leaf came from another
        // subtree) rather than down.
        let heap = TimerHeap()
        let deadlines: [Ticks] = [1, 100, 2, 101, 102, 3, 4]
        let ids = deadlines.enumerated().map { n, d -> TimerID in
            let id = heap.allocate(token: UInt64(n))
            heap.schedule(id, at: d)
            return id
        }
        heap.cancel(ids[6])  // the last entry
        heap.cancel(ids[3])  // a leaf under 100; the last leaf (3) replaces it and must rise above 100
        XCTAssertEqual(drain(heap, now: .max).map(\.deadline), [1, 2, 3, 100, 102])
    }

    func testRelease_cancelsAndReusesTheSlot_withTheNewToken() {
        let heap = TimerHeap()
        let a = heap.allocate(token: 1)
        let b = heap.allocate(token: 2)
        heap.schedule(a, at: 10)
        heap.schedule(b, at: 20)
        heap.release(a)
        XCTAssertEqual(heap.count, 1)
        XCTAssertEqual(heap.nextDeadline, 20)
        let c = heap.allocate(token: 3)
        XCTAssertEqual(c, a, "a released slot is reused before a new one")
        XCTAssertFalse(heap.isScheduled(c), "a reused slot starts unscheduled")
        heap.schedule(c, at: 15)
        XCTAssertEqual(drain(heap, now: .max).map(\.token), [3, 2])
        let d = heap.allocate(token: 4)
        XCTAssertEqual(d.rawValue, 2, "no free slot: a fresh one")
    }

    func testTimeoutMs_boundsTheWaitByTheNextDeadline() {
        let heap = TimerHeap()
        XCTAssertEqual(heap.timeoutMs(from: 1000, max: 500), 500, "nothing scheduled: the bound")
        XCTAssertEqual(heap.timeoutMs(from: 1000, max: -1), -1, "nothing scheduled: -1 stays 'forever'")
        let id = heap.allocate(token: 0)
        heap.schedule(id, at: 1200)
        XCTAssertEqual(heap.timeoutMs(from: 1000, max: 500), 200)
        XCTAssertEqual(heap.timeoutMs(from: 1000, max: 200), 200)
        XCTAssertEqual(heap.timeoutMs(from: 1000, max: 100), 100)
        XCTAssertEqual(heap.timeoutMs(from: 1199, max: 500), 1)
        XCTAssertEqual(heap.timeoutMs(from: 1200, max: 500), 0, "due now")
        XCTAssertEqual(heap.timeoutMs(from: 5000, max: 500), 0, "overdue")
        heap.schedule(id, at: Ticks(Int32.max) * 4)
        XCTAssertEqual(heap.timeoutMs(from: 0, max: .max), .max, "a far deadline does not overflow Int32")
        heap.schedule(id, at: -10)
        XCTAssertEqual(heap.timeoutMs(from: 0, max: 500), 0)
    }

    func testGrowth_pastInitialCapacity_keepsTokensDeadlinesAndSlots() {
        let heap = TimerHeap(capacity: 1)  // rounded up to 16
        var ids: [TimerID] = []
        for n in 0..<5000 {  // several doublings, with timers scheduled across each one
            let id = heap.allocate(token: UInt64(1000 + n))
            XCTAssertEqual(id.rawValue, UInt32(n), "fresh slots are numbered in order")
            ids.append(id)
            heap.schedule(id, at: Ticks(5000 - n))
        }
        heap.release(ids[3])
        heap.release(ids[4321])
        XCTAssertEqual(heap.allocate(token: 1).rawValue, 4321, "most recently released first")
        XCTAssertEqual(heap.allocate(token: 2).rawValue, 3)
        XCTAssertEqual(heap.allocate(token: 3).rawValue, 5000)
        XCTAssertEqual(heap.count, 4998)
        let popped = drain(heap, now: .max)
        XCTAssertEqual(popped.count, 4998)
        XCTAssertEqual(popped.first?.token, 1000 + 4999)
        XCTAssertEqual(popped.last?.token, 1000)
        XCTAssertTrue(popped.allSatisfy { $0.deadline == Ticks(5000 - Int($0.token - 1000)) })
    }

    /// A randomized run against a reference model: a dictionary of scheduled deadlines, whose minimum is found by
    /// sorting. Fixed seed, so failures replay.
    func testRandomOperations_matchSortedArrayModel() {
        var rng = XorShift(seed: 0xDEAD_BEEF)
        let heap = TimerHeap(capacity: 16)
        var allocated: [UInt32: UInt64] = [:]  // slot -> token
        var slots: [UInt32] = []  // the allocated slots, in a deterministic order (dictionary order is not)
        var scheduled: [UInt32: Ticks] = [:]  // slot -> deadline
        var now: Ticks = 0
        var nextToken: UInt64 = 1
        var fired = 0
        for step in 0..<20_000 {
            switch rng.next() % 10 {
            case 0, 1:
                guard slots.count < 400 else { continue }
                let id = heap.allocate(token: nextToken)
                XCTAssertNil(allocated[id.rawValue], "step \(step): slot \(id.rawValue) handed out twice")
                allocated[id.rawValue] = nextToken
                slots.append(id.rawValue)
                nextToken += 1
            case 2, 3, 4:
                guard let slot = slots.randomElement(using: &rng) else { continue }
                let deadline = now + Ticks(rng.next() % 2000) - 100
                heap.schedule(TimerID(rawValue: slot), at: deadline)
                scheduled[slot] = deadline
            case 5:
                guard let slot = slots.randomElement(using: &rng) else { continue }
                heap.cancel(TimerID(rawValue: slot))
                scheduled[slot] = nil
            case 6:
                guard !slots.isEmpty else { continue }
                let slot = slots.remove(at: Int(rng.next() % UInt64(slots.count)))
                heap.release(TimerID(rawValue: slot))
                scheduled[slot] = nil
                allocated[slot] = nil
            default:
                now += Ticks(rng.next() % 50)
                let due = scheduled.values.filter { $0 <= now }.sorted()
                var got: [Ticks] = []
                while let (id, token) = heap.popExpired(now: now) {
                    XCTAssertEqual(token, allocated[id.rawValue], "step \(step): token of slot \(id.rawValue)")
                    guard let deadline = scheduled.removeValue(forKey: id.rawValue) else {
                        XCTFail("step \(step): slot \(id.rawValue) popped but not scheduled")
                        return
                    }
                    got.append(deadline)
                }
                XCTAssertEqual(got, due, "step \(step): expired set and order")
                fired += got.count
            }
            XCTAssertEqual(heap.count, scheduled.count, "step \(step)")
            XCTAssertEqual(heap.nextDeadline, scheduled.values.min(), "step \(step)")
            if heap.count != scheduled.count { return }
        }
        for (slot, deadline) in scheduled {
            XCTAssertEqual(heap.deadline(of: TimerID(rawValue: slot)), deadline)
        }
        XCTAssertGreaterThan(fired, 1000, "the run expired timers, not only scheduled them")
        XCTAssertGreaterThan(scheduled.count, 10)
    }

    /// Scale, correctness only: 100,000 pending timers, half cancelled, the rest expire in order.
    func testScale_100kPending_50kCancelled_restExpireInOrder() {
        var rng = XorShift(seed: 7)
        let heap = TimerHeap()
        var ids: [TimerID] = []
        var deadlines: [Ticks] = []
        ids.reserveCapacity(100_000)
        for n in 0..<100_000 {
            let id = heap.allocate(token: UInt64(n))
            let deadline = Ticks(rng.next() % 60_000)
            heap.schedule(id, at: deadline)
            ids.append(id)
            deadlines.append(deadline)
        }
        var order = Array(0..<100_000)
        order.shuffle(using: &rng)
        let cancelled = Set(order.prefix(50_000))
        for n in cancelled { heap.cancel(ids[n]) }
        XCTAssertEqual(heap.count, 50_000)
        var expected = (0..<100_000).filter { !cancelled.contains($0) }.map { deadlines[$0] }
        expected.sort()
        // Expire in several steps of the clock, as the loop would.
        var popped: [(deadline: Ticks, token: UInt64)] = []
        for now in stride(from: Ticks(0), through: 60_000, by: 7_500) { popped += drain(heap, now: now) }
        XCTAssertEqual(popped.map(\.deadline), expected)
        XCTAssertTrue(popped.allSatisfy { !cancelled.contains(Int($0.token)) }, "no cancelled timer fires")
        XCTAssertTrue(popped.allSatisfy { deadlines[Int($0.token)] == $0.deadline })
        XCTAssertEqual(heap.count, 0)
    }
}

extension XorShift: RandomNumberGenerator {}
