import CProtos
import CkptCore

// The only place that calls protobuf-c: each function unpacks one message from the index and
// copies it into a Swift value, so no C pointer outlives the call.

/// `BundleHeaderProto`, the value stored under the empty key.
struct BundleHeader {
    var numShards: Int
    var bigEndian: Bool
    var producer: Int32
    var minConsumer: Int32
    var badConsumers: [Int32]
}

/// `BundleEntryProto`: where one tensor (or one slice of a partitioned one) lies.
struct BundleEntry {
    struct Extent: Equatable {
        var start: Int64
        /// nil: the whole dimension (TensorFlow's `kFullExtent`).
        var length: Int64?
    }

    var dtypeCode: Int32
    var shape: [Int64]
    var unknownRank: Bool
    var shardID: Int32
    var offset: Int64
    var size: Int64
    var crc32c: UInt32
    var slices: [[Extent]]
}

enum BundleProtoDecoding {
    static func header(_ bytes: UnsafeRawBufferPointer) -> BundleHeader? {
        guard let p = ckpt__tf__bundle_header_proto__unpack(nil, bytes.count, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        else { return nil }
        defer { ckpt__tf__bundle_header_proto__free_unpacked(p, nil) }
        let m = p.pointee
        var h = BundleHeader(numShards: Int(m.num_shards), bigEndian: m.endianness.rawValue == 1,
                             producer: 0, minConsumer: 0, badConsumers: [])
        if let v = m.version {
            h.producer = v.pointee.producer
            h.minConsumer = v.pointee.min_consumer
            h.badConsumers = (0..<v.pointee.n_bad_consumers).map { v.pointee.bad_consumers[$0] }
        }
        return h
    }

    static func entry(_ bytes: UnsafeRawBufferPointer) -> BundleEntry? {
        guard let p = ckpt__tf__bundle_entry_proto__unpack(nil, bytes.count, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        else { return nil }
        defer { ckpt__tf__bundle_entry_proto__free_unpacked(p, nil) }
        let m = p.pointee
        var dims: [Int64] = []
        var unknownRank = false
        if let s = m.shape {
            unknownRank = s.pointee.unknown_rank != 0
            dims = (0..<s.pointee.n_dim).map { s.pointee.dim[$0]!.pointee.size }
        }
        let slices: [[BundleEntry.Extent]] = (0..<m.n_slices).map { i in
            let sl = m.slices[i]!.pointee
            return (0..<sl.n_extent).map { j in
                let e = sl.extent[j]!.pointee
                let hasLength = e.has_length_case == CKPT__TF__TENSOR_SLICE_PROTO__EXTENT__HAS_LENGTH_LENGTH
                return BundleEntry.Extent(start: e.start, length: hasLength ? e.length : nil)
            }
        }
        return BundleEntry(dtypeCode: m.dtype, shape: dims, unknownRank: unknownRank, shardID: m.shard_id,
                           offset: m.offset, size: m.size, crc32c: m.crc32c, slices: slices)
    }
}
