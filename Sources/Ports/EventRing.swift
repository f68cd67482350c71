/// A single-producer single-consumer ring of timestamped MIDI events, stored as variable-length records
/// in preallocated bytes: the only channel between a real-time process callback and the engine thread.
///
/// Pushing and popping never allocate, lock or make syscalls; a full ring drops the event and says so.
/// The struct holds only pointers, so copies share one ring; `deallocate()` is called once by the owner
/// after both sides have stopped.
public struct EventRing: @unchecked Sendable {
    // @unchecked: the storage is written only by the producer before a releasing store of `tail`, and
    // read only by the consumer after an acquiring load of it (and the reverse for `head`) — the SPSC
    // protocol that the atomics enforce, which the compiler cannot see through raw pointers.

    /// A record's fixed part. A nominal struct rather than a tuple: tuple metadata is built (and
    /// allocated) by the runtime on first use, which must not happen on the real-time thread.
    struct RecordHeader {
        var frame: UInt64
        var length: UInt16
        var port: UInt8
        var spare: UInt8 = 0
    }

    static let headerSize = MemoryLayout<RecordHeader>.size

    public let capacity: Int
    public let maxEventSize: Int
    private let storage: UnsafeMutableRawPointer
    private let head: AtomicCell<Int>  // consumer's position, in bytes since creation
    private let tail: AtomicCell<Int>  // producer's position

    /// `capacity` is rounded up to a power of two; `maxEventSize` bounds one event's bytes (sysex
    /// longer than that is dropped rather than split).
    public init(capacity: Int, maxEventSize: Int = 1024) {
        var size = 64
        while size < capacity { size <<= 1 }
        self.capacity = size
        self.maxEventSize = min(maxEventSize, Int(UInt16.max))
        storage = .allocate(byteCount: size, alignment: 16)
        head = AtomicCell(0)
        tail = AtomicCell(0)
    }

    public func deallocate() {
        storage.deallocate()
        head.destroy()
        tail.destroy()
    }

    /// Bytes in use; approximate when read from a third thread.
    public var usedBytes: Int { tail.load(ordering: .acquiring) - head.load(ordering: .acquiring) }
    public var isEmpty: Bool { usedBytes == 0 }

    // MARK: producer

    /// Appends one event. Returns false (nothing written) when the event is too long or the ring full.
    @discardableResult
    public func push(frame: UInt64, port: UInt8, bytes: UnsafeRawBufferPointer) -> Bool {
        let length = bytes.count
        guard length > 0, length <= maxEventSize else { return false }
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        guard capacity - (t - h) >= Self.headerSize + length else { return false }
        var header = RecordHeader(frame: frame, length: UInt16(length), port: port)
        withUnsafeBytes(of: &header) { copyIn($0.baseAddress!, count: Self.headerSize, at: t) }
        copyIn(bytes.baseAddress!, count: length, at: t + Self.headerSize)
        tail.store(t + Self.headerSize + length, ordering: .releasing)
        return true
    }

    /// Appends a message of at most three bytes without building an array (engine-thread use: the
    /// tuple's metadata is instantiated on first call).
    @discardableResult
    public func push(frame: UInt64, port: UInt8, count: Int, bytes: (UInt8, UInt8, UInt8)) -> Bool {
        var b = bytes
        return withUnsafeBytes(of: &b) {
            push(frame: frame, port: port, bytes: UnsafeRawBufferPointer(rebasing: $0[0..<min(count, 3)]))
        }
    }

    // MARK: consumer

    /// The next event's frame, port and length, without consuming it.
    public func peek() -> (frame: UInt64, port: UInt8, length: Int)? {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        guard t - h >= Self.headerSize else { return nil }
        var header = RecordHeader(frame: 0, length: 0, port: 0)
        withUnsafeMutableBytes(of: &header) { copyOut($0.baseAddress!, count: Self.headerSize, at: h) }
        return (header.frame, header.port, Int(header.length))
    }

    /// Consumes the next event, copying its bytes to `destination` (room for `maxEventSize` bytes).
    /// Returns the event's frame, port and length, or nil when the ring is empty.
    @discardableResult
    public func pop(into destination: UnsafeMutableRawPointer) -> (frame: UInt64, port: UInt8, length: Int)? {
        guard let event = peek() else { return nil }
        let h = head.load(ordering: .relaxed)
        copyOut(destination, count: event.length, at: h + Self.headerSize)
        head.store(h + Self.headerSize + event.length, ordering: .releasing)
        return event
    }

    /// Drops everything queued; only the consumer may call it.
    public func discardAll() {
        head.store(tail.load(ordering: .acquiring), ordering: .releasing)
    }

    // MARK: wrap-around copies

    private func copyIn(_ source: UnsafeRawPointer, count: Int, at position: Int) {
        let start = position & (capacity - 1)
        let first = min(count, capacity - start)
        (storage + start).copyMemory(from: source, byteCount: first)
        if first < count { storage.copyMemory(from: source + first, byteCount: count - first) }
    }

    private func copyOut(_ destination: UnsafeMutableRawPointer, count: Int, at position: Int) {
        let start = position & (capacity - 1)
        let first = min(count, capacity - start)
        destination.copyMemory(from: storage + start, byteCount: first)
        if first < count { (destination + first).copyMemory(from: storage, byteCount: count - first) }
    }
}
