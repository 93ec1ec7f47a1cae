// SPDX-License-Identifier: Apache-2.0
// BufferPool and IOBuffer: buffers are attached only while data is in flight and reused afterwards, so the pool
// stays at its high-water mark; the head/tail arithmetic keeps its invariants and rewinds when drained.
import XCTest

@testable import SluiceCore

final class BufferPoolTests: XCTestCase {
    private func fill(_ buffer: inout IOBuffer, with bytes: [UInt8]) {
        let room = buffer.writable
        XCTAssertGreaterThanOrEqual(room.count, bytes.count)
        room.copyBytes(from: bytes)
        buffer.produced(bytes.count)
    }

    private func contents(_ buffer: IOBuffer) -> [UInt8] { Array(buffer.readable) }

    func testAttachDetach_reusesBuffers_allocatedCountStaysAtHighWaterMark() {
        let pool = BufferPool(bufferSize: 1024)
        var buffers = [IOBuffer](repeating: .none, count: 3)
        for k in 0..<3 { pool.attach(&buffers[k]) }
        XCTAssertEqual(pool.allocatedCount, 3)
        XCTAssertEqual(pool.inUseCount, 3)
        XCTAssertEqual(pool.idleCount, 0)
        let memory = Set(buffers.map { $0.base! })
        XCTAssertEqual(memory.count, 3, "distinct memory per buffer")
        for k in 0..<3 { pool.detach(&buffers[k]) }
        XCTAssertTrue(buffers.allSatisfy { !$0.isAllocated })
        XCTAssertEqual(pool.inUseCount, 0)
        XCTAssertEqual(pool.idleCount, 3)
        for _ in 0..<1000 {  // steady state: connections come and go below the high-water mark
            pool.attach(&buffers[0])
            pool.attach(&buffers[1])
            XCTAssertTrue(memory.contains(buffers[0].base!) && memory.contains(buffers[1].base!), "reused memory")
            XCTAssertNotEqual(buffers[0].base, buffers[1].base)
            pool.detach(&buffers[1])
            pool.detach(&buffers[0])
        }
        XCTAssertEqual(pool.allocatedCount, 3, "no allocation below the high-water mark")
        for k in 0..<3 { pool.attach(&buffers[k]) }
        var fourth = IOBuffer.none
        pool.attach(&fourth)
        XCTAssertEqual(pool.allocatedCount, 4, "a new high-water mark")
        XCTAssertEqual(pool.inUseCount, 4)
        for k in 0..<3 { pool.detach(&buffers[k]) }
        pool.detach(&fourth)
    }

    func testAttach_toBufferThatHasMemory_changesNothing() {
        let pool = BufferPool(bufferSize: 64)
        var buffer = IOBuffer.none
        pool.attach(&buffer)
        fill(&buffer, with: [1, 2, 3])
        let base = buffer.base
        pool.attach(&buffer)
        XCTAssertEqual(buffer.base, base)
        XCTAssertEqual(contents(buffer), [1, 2, 3], "pending bytes kept")
        XCTAssertEqual(pool.inUseCount, 1)
        XCTAssertEqual(pool.allocatedCount, 1)
        pool.detach(&buffer, force: true)
    }

    func testAttach_givesAnEmptyBufferOfPoolSize() {
        let pool = BufferPool(bufferSize: 4096)
        var buffer = IOBuffer.none
        XCTAssertFalse(buffer.isAllocated)
        pool.attach(&buffer)
        XCTAssertTrue(buffer.isAllocated)
        XCTAssertEqual(buffer.capacity, 4096)
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.count, 0)
        XCTAssertEqual(buffer.freeSpace, 4096)
        XCTAssertEqual(buffer.totalFreeSpace, 4096)
        XCTAssertFalse(buffer.isFull)
        // Memory that comes back dirty is still handed out empty.
        fill(&buffer, with: [9, 9, 9])
        buffer.consumed(3)
        pool.detach(&buffer)
        pool.attach(&buffer)
        XCTAssertEqual(buffer.head, 0)
        XCTAssertEqual(buffer.tail, 0)
        pool.detach(&buffer)
    }

    func testWritableHoldingAtMost_leavesTheRestFreeAndCompactsWhenNeeded() {
        let pool = BufferPool(bufferSize: 100)
        var buffer = IOBuffer.none
        pool.attach(&buffer)
        fill(&buffer, with: [UInt8](repeating: 1, count: 60))
        buffer.consumed(50)  // 10 pending at 50..<60
        XCTAssertEqual(buffer.writable(holdingAtMost: 30).count, 20)
        XCTAssertEqual(buffer.head, 50, "room after the tail: nothing moves")
        XCTAssertEqual(buffer.writable(holdingAtMost: 80).count, 70)
        XCTAssertEqual(buffer.head, 0, "70 bytes do not fit after the tail: the pending bytes moved to the front")
        XCTAssertEqual(buffer.count, 10)
        pool.detach(&buffer, force: true)
    }

    func testDetach_refusesNonEmptyBuffer_unlessForced() {
        let pool = BufferPool(bufferSize: 64)
        var buffer = IOBuffer.none
        pool.attach(&buffer)
        fill(&buffer, with: [1, 2, 3, 4])
        pool.detach(&buffer)
        XCTAssertTrue(buffer.isAllocated, "data in flight: the buffer stays")
        XCTAssertEqual(contents(buffer), [1, 2, 3, 4])
        XCTAssertEqual(pool.inUseCount, 1)
        XCTAssertEqual(pool.idleCount, 0)
        buffer.consumed(2)
        pool.detach(&buffer)
        XCTAssertTrue(buffer.isAllocated, "still two bytes pending")
        pool.detach(&buffer, force: true)
        XCTAssertFalse(buffer.isAllocated, "forced: data dropped")
        XCTAssertEqual(buffer.count, 0)
        XCTAssertEqual(pool.inUseCount, 0)
        XCTAssertEqual(pool.idleCount, 1)
    }

    func testDetach_ofBufferWithoutMemory_changesNothing() {
        let pool = BufferPool(bufferSize: 64)
        var buffer = IOBuffer.none
        pool.detach(&buffer)
        pool.detach(&buffer, force: true)
        XCTAssertEqual(pool.inUseCount, 0)
        XCTAssertEqual(pool.idleCount, 0)
        XCTAssertEqual(pool.allocatedCount, 0)
    }

    func testPreallocate_handsOutPreallocatedBuffersFirst() {
        let pool = BufferPool(bufferSize: 128, preallocate: 5)
        XCTAssertEqual(pool.allocatedCount, 5)
        XCTAssertEqual(pool.idleCount, 5)
        var buffers = [IOBuffer](repeating: .none, count: 5)
        for k in 0..<5 { pool.attach(&buffers[k]) }
        XCTAssertEqual(pool.allocatedCount, 5)
        XCTAssertEqual(pool.idleCount, 0)
        for k in 0..<5 { pool.detach(&buffers[k]) }
    }

    func testFreeList_growsPastItsInitialSize() {
        let pool = BufferPool(bufferSize: 16)
        var buffers = [IOBuffer](repeating: .none, count: 300)  // the free list starts with room for 64
        for k in 0..<300 { pool.attach(&buffers[k]) }
        for k in 0..<300 { pool.detach(&buffers[k]) }
        XCTAssertEqual(pool.idleCount, 300)
        for k in 0..<300 { pool.attach(&buffers[k]) }
        XCTAssertEqual(pool.allocatedCount, 300)
        XCTAssertEqual(Set(buffers.map { $0.base! }).count, 300)
        for k in 0..<300 { pool.detach(&buffers[k]) }
    }

    func testProducedConsumed_keepCountsConsistent_andRewindWhenDrained() {
        let pool = BufferPool(bufferSize: 16)
        var buffer = IOBuffer.none
        pool.attach(&buffer)
        fill(&buffer, with: Array(1...10))
        XCTAssertEqual(buffer.count, 10)
        XCTAssertEqual(buffer.freeSpace, 6)
        XCTAssertEqual(buffer.totalFreeSpace, 6)
        buffer.consumed(4)
        XCTAssertEqual(buffer.head, 4)
        XCTAssertEqual(contents(buffer), Array(5...10))
        XCTAssertEqual(buffer.freeSpace, 6, "consuming frees room only in front")
        XCTAssertEqual(buffer.totalFreeSpace, 10)
        buffer.consumed(0)
        XCTAssertEqual(buffer.head, 4)
        fill(&buffer, with: Array(11...16))
        XCTAssertTrue(buffer.isFull == false, "full means count == capacity, not tail == capacity")
        XCTAssertEqual(buffer.freeSpace, 0)
        buffer.consumed(12)
        XCTAssertTrue(buffer.isEmpty)
        XCTAssertEqual(buffer.head, 0, "drained: rewound")
        XCTAssertEqual(buffer.tail, 0)
        XCTAssertEqual(buffer.freeSpace, 16)
        fill(&buffer, with: Array(repeating: 7, count: 16))
        XCTAssertTrue(buffer.isFull)
        buffer.consumed(16)
        XCTAssertEqual(buffer.head, 0)
        XCTAssertEqual(buffer.tail, 0)
        pool.detach(&buffer)
        XCTAssertFalse(buffer.isAllocated)
    }

    func testCompactIfUseful_movesPendingBytesToFront_onlyWhenThatGainsRoom() {
        let pool = BufferPool(bufferSize: 16)
        var buffer = IOBuffer.none
        pool.attach(&buffer)
        fill(&buffer, with: Array(1...12))
        buffer.consumed(3)  // head 3, tail 12: 4 free at the end >= 3 in front
        buffer.compactIfUseful()
        XCTAssertEqual(buffer.head, 3, "not useful: more room at the end than in front")
        buffer.consumed(2)  // head 5 > 4 free at the end
        buffer.compactIfUseful()
        XCTAssertEqual(buffer.head, 0)
        XCTAssertEqual(buffer.tail, 7)
        XCTAssertEqual(contents(buffer), Array(6...12), "bytes preserved in order")
        XCTAssertEqual(buffer.freeSpace, 9)
        buffer.compactIfUseful()
        XCTAssertEqual(buffer.head, 0, "head 0: nothing to do")
        // Overlapping move (pending bytes longer than the gap in front) keeps the bytes intact.
        fill(&buffer, with: Array(13...21))
        XCTAssertTrue(buffer.isFull)
        buffer.consumed(2)
        buffer.compactIfUseful()
        XCTAssertEqual(contents(buffer), Array(8...21))
        XCTAssertEqual(buffer.head, 0)
        XCTAssertEqual(buffer.freeSpace, 2)
        pool.detach(&buffer, force: true)
    }
}
