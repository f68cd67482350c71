import Foundation

/// Fixed-size, 64-byte aligned, zero-initialised storage: the streaming step's weights and state, and
/// training's activations, parameters and gradients (`TrainingBuffer`).
///
/// The count is rounded up to a whole number of 16-lane vectors and the padding stays zero, so the SIMD kernels
/// can run every loop in full 16-lane strides without tail handling and without reading past the allocation.
/// A class only so that the memory is released when the last layer holding it goes away; its contents are
/// reached through `base`, never copied.
public final class AlignedBuffer<Element: Numeric>: @unchecked Sendable {
    public let count: Int
    /// `count` rounded up to a multiple of 16: the number of initialised, addressable elements.
    public let paddedCount: Int
    public let base: UnsafeMutablePointer<Element>

    /// `hugePages`: put a buffer of 128 KiB or more on 2 MiB pages (the streaming step's weights). Off
    /// by default: rounding up to 2 MiB would multiply the memory of training's many mid-sized buffers.
    public init(count: Int, hugePages: Bool = false) {
        precondition(count >= 0)
        self.count = count
        paddedCount = max(16, (count + 15) & ~15)
        let bytes = paddedCount * MemoryLayout<Element>.stride
        let raw: UnsafeMutableRawPointer
        if hugePages && bytes >= Self.hugePageThreshold {
            // Large weight buffers on 2 MiB transparent huge pages: a step after an idle wait then misses the
            // TLB once per buffer instead of once per 4 KiB page.
            let rounded = (bytes + Self.hugePage - 1) / Self.hugePage * Self.hugePage
            var p: UnsafeMutableRawPointer?
            if posix_memalign(&p, Self.hugePage, rounded) != 0 || p == nil { fatalError("out of memory") }
            _ = madvise(p, rounded, MADV_HUGEPAGE)
            raw = p!
        } else {
            var p: UnsafeMutableRawPointer?
            if posix_memalign(&p, 64, bytes) != 0 || p == nil { fatalError("out of memory") }
            raw = p!
        }
        base = raw.bindMemory(to: Element.self, capacity: paddedCount)
        base.initialize(repeating: 0, count: paddedCount)
    }

    deinit { free(base) }

    static var hugePage: Int { 2 << 20 }
    static var hugePageThreshold: Int { 128 << 10 }

    @inline(__always) public subscript(index: Int) -> Element {
        get { base[index] }
        set { base[index] = newValue }
    }

    public convenience init(_ values: [Element]) {
        self.init(count: values.count)
        copy(from: values)
    }

    public func zero() { base.update(repeating: 0, count: paddedCount) }

    private var touched: UInt8 = 0

    /// Reads one byte per cache line of the buffer, so a step after an idle wait finds it in cache (a model's
    /// `prefetch()`). Allocation-free.
    public func touch() {
        touched &+= touchCacheLines(UnsafeRawPointer(base), paddedCount * MemoryLayout<Element>.stride)
    }

    public var array: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }

    public func copy(from values: [Element]) {
        precondition(values.count == count)
        values.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: count) }
    }
}

/// Sums one byte of every 64-byte line from `base`; callers store the result so the loads are kept.
@inline(never) func touchCacheLines(_ base: UnsafeRawPointer, _ bytes: Int) -> UInt8 {
    var sink: UInt8 = 0
    var offset = 0
    while offset < bytes {
        sink &+= base.load(fromByteOffset: offset, as: UInt8.self)
        offset &+= 64
    }
    return sink
}

/// Rounds a length up to whole 16-lane vectors: the stride of every padded row and vector.
@inline(__always) public func padded16(_ n: Int) -> Int { (n + 15) & ~15 }
