import CkptCore

/// float32 values, owned (an array) or borrowed from a checkpoint's mapped file, which they keep
/// mapped: a forward pass reads a TF checkpoint's 400 MB of weights where they lie instead of
/// copying them into fresh memory (on a virtual machine, the kernel's zeroing of that memory alone
/// cost more than the pass). Writing to borrowed values copies them first (the mapping is
/// read-only).
public struct FloatArray: Sendable, Equatable, RandomAccessCollection, MutableCollection, ExpressibleByArrayLiteral {
    private enum Storage {
        case owned([Float])
        case borrowed(MappedBytes)
    }

    private var storage: Storage

    public init(_ values: [Float]) { storage = .owned(values) }

    public init(arrayLiteral values: Float...) { storage = .owned(values) }

    public init(repeating value: Float, count: Int) { storage = .owned([Float](repeating: value, count: count)) }

    /// Borrows `mapped` (float32, little-endian): nil when its bytes are not aligned for Float.
    public init?(borrowing mapped: MappedBytes) {
        guard mapped.bytes.count % 4 == 0,
            mapped.bytes.isEmpty || Int(bitPattern: mapped.bytes.baseAddress) % MemoryLayout<Float>.alignment == 0
        else { return nil }
        storage = .borrowed(mapped)
    }

    public var isBorrowed: Bool {
        if case .borrowed = storage { return true }
        return false
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch storage {
        case .owned(let a): return a.count
        case .borrowed(let m): return m.bytes.count / 4
        }
    }

    public subscript(i: Int) -> Float {
        get {
            switch storage {
            case .owned(let a): return a[i]
            case .borrowed(let m):
                precondition(i >= 0 && i < m.bytes.count / 4, "index out of range")
                return m.bytes.load(fromByteOffset: i * 4, as: Float.self)
            }
        }
        set { withUnsafeMutableBufferPointer { $0[i] = newValue } }
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        switch storage {
        case .owned(let a): return try a.withUnsafeBufferPointer(body)
        case .borrowed(let m):
            return try withExtendedLifetime(m.owner) { try body(m.bytes.bindMemory(to: Float.self)) }
        }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
    }

    /// Copies borrowed values into an owned array first.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        var a = takeArray()
        defer { storage = .owned(a) }
        return try a.withUnsafeMutableBufferPointer(body)
    }

    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeMutableBufferPointer { try body(UnsafeMutableRawBufferPointer($0)) }
    }

    /// The values as an array (a copy when borrowed).
    public var array: [Float] {
        switch storage {
        case .owned(let a): return a
        case .borrowed: return withUnsafeBufferPointer { Array($0) }
        }
    }

    public static func == (a: FloatArray, b: FloatArray) -> Bool {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
    }

    /// The owned array, leaving the storage empty so that the caller holds the only reference
    /// (no copy on write).
    private mutating func takeArray() -> [Float] {
        switch storage {
        case .owned(let a):
            storage = .owned([])
            return a
        case .borrowed:
            let a = array
            storage = .owned([])
            return a
        }
    }
}
