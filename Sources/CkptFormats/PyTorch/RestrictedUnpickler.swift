import CkptCore

/// Reads a pickle stream as a torch state dict needs it, without running anything: it knows the
/// opcodes that build numbers, strings, tuples, lists and dicts, and "calls" only the few globals
/// of the allow-list below by interpreting them itself. Any other global (`os.system`,
/// `builtins.eval`, a class of the user's) is refused when the stream names it, before anything
/// else happens; so is any opcode outside this subset.
struct RestrictedUnpickler {
    private let bytes: UnsafeRawBufferPointer
    private let file: String
    private let member: String
    private(set) var position: Int
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// The tuples, lists and dicts built so far; the loaded value's containers are here.
    private(set) var heap = PickleHeap()

    init(_ bytes: UnsafeRawBufferPointer, at position: Int = 0, file: String, member: String) {
        self.bytes = bytes
        self.position = position
        self.file = file
        self.member = member
    }

    /// Runs to the STOP opcode and returns the value it leaves; `position` is then just after it.
    mutating func load() throws -> PickleValue {
        stack = []
        marks = []
        memo = [:]
        heap = PickleHeap()
        while true {
            let op = try byte()
            if op == 0x2e {  // STOP
                guard let top = stack.popLast() else { throw bad("STOP with an empty stack") }
                return top
            }
            try step(op)
        }
    }

    // MARK: opcodes

    private mutating func step(_ op: UInt8) throws {
        if try pushScalar(op) || pushText(op) { return }
        if try buildContainer(op) || useMemo(op) || call(op) { return }
        switch op {
        case 0x80: _ = try byte()  // PROTO
        case 0x95: _ = try take(8)  // FRAME: a length hint only
        case 0x28: marks.append(stack.count)  // MARK
        case 0x30: _ = try pop()  // POP
        case 0x31: _ = try popMark()  // POP_MARK
        case 0x32: push(try peek())  // DUP
        default:
            throw CkptError(
                .unsupported, file: file, tensor: member,
                "pickle opcode 0x\(String(op, radix: 16)) at byte \(position - 1) is not one a state dict uses")
        }
    }

    /// Numbers, booleans and None.
    private mutating func pushScalar(_ op: UInt8) throws -> Bool {
        switch op {
        case 0x4e: push(.none)  // NONE
        case 0x88: push(.bool(true))  // NEWTRUE
        case 0x89: push(.bool(false))  // NEWFALSE
        case 0x4a: push(.int(Int(Int32(bitPattern: UInt32(try uint(4))))))  // BININT
        case 0x4b: push(.int(try uint(1)))  // BININT1
        case 0x4d: push(.int(try uint(2)))  // BININT2
        case 0x8a: push(.int(try long(try uint(1))))  // LONG1
        case 0x8b: push(.int(try long(try uint(4))))  // LONG4
        case 0x47: push(.float(Double(bitPattern: UInt64(bigEndianBytes: try take(8)))))  // BINFLOAT
        case 0x49: push(try textInt(try line()))  // INT (protocol 0, also "I01" for True)
        case 0x4c:  // LONG (protocol 0): digits and an "L"
            let text = try line()
            push(try textInt(text.hasSuffix("L") ? String(text.dropLast()) : text))
        default: return false
        }
        return true
    }

    /// Strings and bytes.
    private mutating func pushText(_ op: UInt8) throws -> Bool {
        switch op {
        case 0x58: push(.string(try utf8(try take(try uint(4)))))  // BINUNICODE
        case 0x8c: push(.string(try utf8(try take(try uint(1)))))  // SHORT_BINUNICODE
        case 0x8d: push(.string(try utf8(try take(try uint(8)))))  // BINUNICODE8
        case 0x54: push(.bytes(try take(try uint(4))))  // BINSTRING (Python 2 str)
        case 0x55: push(.bytes(try take(try uint(1))))  // SHORT_BINSTRING
        case 0x42: push(.bytes(try take(try uint(4))))  // BINBYTES
        case 0x43: push(.bytes(try take(try uint(1))))  // SHORT_BINBYTES
        case 0x8e: push(.bytes(try take(try uint(8))))  // BINBYTES8
        default: return false
        }
        return true
    }

    /// Tuples, lists and dicts, and filling them.
    private mutating func buildContainer(_ op: UInt8) throws -> Bool {
        switch op {
        case 0x29: push(heap.tuple([]))  // EMPTY_TUPLE
        case 0x85: push(heap.tuple([try pop()]))  // TUPLE1
        case 0x86:  // TUPLE2
            let b = try pop(), a = try pop()
            push(heap.tuple([a, b]))
        case 0x87:  // TUPLE3
            let c = try pop(), b = try pop(), a = try pop()
            push(heap.tuple([a, b, c]))
        case 0x74: push(heap.tuple(try popMark()))  // TUPLE
        case 0x5d: push(newList([]))  // EMPTY_LIST
        case 0x6c: push(newList(try popMark()))  // LIST
        case 0x7d: push(newDict([]))  // EMPTY_DICT
        case 0x64: push(newDict(try pairs(try popMark())))  // DICT
        case 0x61: try extend([try pop()])  // APPEND
        case 0x65: try extend(try popMark())  // APPENDS
        case 0x73:  // SETITEM
            let v = try pop(), k = try pop()
            try extend(pairs: [(k, v)])
        case 0x75: try extend(pairs: try pairs(try popMark()))  // SETITEMS
        default: return false
        }
        return true
    }

    /// The memo: values stored by index and fetched again (a tensor saved under two names).
    private mutating func useMemo(_ op: UInt8) throws -> Bool {
        switch op {
        case 0x71: memo[try uint(1)] = try peek()  // BINPUT
        case 0x72: memo[try uint(4)] = try peek()  // LONG_BINPUT
        case 0x70: memo[try decimal(try line())] = try peek()  // PUT
        case 0x94: memo[memo.count] = try peek()  // MEMOIZE
        case 0x68: push(try recall(try uint(1)))  // BINGET
        case 0x6a: push(try recall(try uint(4)))  // LONG_BINGET
        case 0x67: push(try recall(try decimal(try line())))  // GET
        default: return false
        }
        return true
    }

    /// Globals, calls (REDUCE, BUILD) and persistent ids, all through the allow-list.
    private mutating func call(_ op: UInt8) throws -> Bool {
        switch op {
        case 0x63:  // GLOBAL "module\nname\n"
            let module = try line(), name = try line()
            push(try TorchPickleGlobals.admit(module: module, name: name, file: file, member: member))
        case 0x93:  // STACK_GLOBAL
            let name = try pop(), module = try pop()
            guard let m = module.asString, let n = name.asString else { throw bad("STACK_GLOBAL of non-strings") }
            push(try TorchPickleGlobals.admit(module: m, name: n, file: file, member: member))
        case 0x52:  // REDUCE
            let args = try pop(), callable = try pop()
            push(try TorchPickleGlobals.call(callable, args, heap: &heap, file: file, member: member))
        case 0x62:  // BUILD: sets an object's state; a state dict's `_metadata` is not needed
            _ = try pop()
            _ = try peek()
        case 0x51:  // BINPERSID
            push(try TorchPickleGlobals.persistent(try pop(), heap: heap, file: file, member: member))
        default: return false
        }
        return true
    }

    // MARK: stack

    private mutating func push(_ v: PickleValue) { stack.append(v) }

    private mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.popLast() else { throw bad("stack underflow") }
        return v
    }

    private func peek() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.last else { throw bad("stack underflow") }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw bad("no MARK on the stack") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func recall(_ index: Int) throws -> PickleValue {
        guard let v = memo[index] else { throw bad("memo entry \(index) was never stored") }
        return v
    }

    private mutating func newList(_ items: [PickleValue]) -> PickleValue {
        heap.lists.append(items)
        return .list(heap.lists.count - 1)
    }

    private mutating func newDict(_ pairs: [(PickleValue, PickleValue)]) -> PickleValue {
        heap.dicts.append(pairs)
        return .dict(heap.dicts.count - 1)
    }

    private func pairs(_ items: [PickleValue]) throws -> [(PickleValue, PickleValue)] {
        guard items.count % 2 == 0 else { throw bad("odd number of items for a dict") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    /// Appends to the list on top of the stack.
    private mutating func extend(_ items: [PickleValue]) throws {
        guard case .list(let i) = try peek() else { throw bad("APPEND to something that is not a list") }
        heap.lists[i].append(contentsOf: items)
    }

    /// Adds items to the dict on top of the stack.
    private mutating func extend(pairs: [(PickleValue, PickleValue)]) throws {
        guard case .dict(let i) = try peek() else { throw bad("SETITEM on something that is not a dict") }
        heap.dicts[i].append(contentsOf: pairs)
    }

    // MARK: bytes

    private mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func take(_ n: Int) throws -> [UInt8] {
        guard n >= 0, n <= bytes.count - position else { throw truncated() }
        defer { position += n }
        return Array(bytes[position..<position + n])
    }

    /// An unsigned little-endian integer of `n` bytes (n ≤ 8, and small enough to be a count).
    private mutating func uint(_ n: Int) throws -> Int {
        let b = try take(n)
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        guard n < 8 || v <= UInt64(Int.max) else { throw bad("length \(v) is out of range") }
        return Int(truncatingIfNeeded: v)
    }

    /// A two's-complement little-endian integer of `n` bytes (LONG1/LONG4), if it fits in 64 bits.
    private mutating func long(_ n: Int) throws -> Int {
        let b = try take(n)
        guard n > 0 else { return 0 }
        let negative = b[n - 1] & 0x80 != 0
        // Bytes above the eighth must only extend the sign.
        guard b.dropFirst(8).allSatisfy({ $0 == (negative ? 0xff : 0) }) else {
            throw bad("integer wider than 64 bits")
        }
        var v: UInt64 = negative ? ~0 : 0
        for (i, x) in b.prefix(8).enumerated() {
            v &= ~(0xff << (8 * UInt64(i)))
            v |= UInt64(x) << (8 * UInt64(i))
        }
        return Int(Int64(bitPattern: v))
    }

    /// A newline-terminated ASCII line (protocol 0 arguments, GLOBAL names).
    private mutating func line() throws -> String {
        var end = position
        while end < bytes.count, bytes[end] != 0x0a { end += 1 }
        guard end < bytes.count, end - position < 4096 else { throw truncated() }
        let text = try utf8(Array(bytes[position..<end]))
        position = end + 1
        return text
    }

    private func utf8(_ b: [UInt8]) throws -> String {
        guard let s = String(validating: b, as: UTF8.self) else { throw bad("string is not valid UTF-8") }
        return s
    }

    private func textInt(_ text: String) throws -> PickleValue {
        if text == "01" { return .bool(true) }
        if text == "00" { return .bool(false) }
        guard let v = Int(text) else { throw bad("'\(text)' is not an integer") }
        return .int(v)
    }

    private func decimal(_ text: String) throws -> Int {
        guard let v = Int(text), v >= 0 else { throw bad("'\(text)' is not a memo index") }
        return v
    }

    private func bad(_ why: String) -> CkptError {
        CkptError(.malformed, file: file, tensor: member, "pickle: \(why) (at byte \(position))")
    }

    private func truncated() -> CkptError {
        CkptError(.truncated, file: file, tensor: member, "pickle stream ends at byte \(bytes.count) before STOP")
    }
}

extension UInt64 {
    /// A big-endian 64-bit value from 8 bytes.
    init(bigEndianBytes b: [UInt8]) {
        self = b.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
