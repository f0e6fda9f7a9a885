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
        guard
            let p = ckpt__tf__bundle_header_proto__unpack(
                nil, bytes.count, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        else { return nil }
        defer { ckpt__tf__bundle_header_proto__free_unpacked(p, nil) }
        let m = p.pointee
        var h = BundleHeader(
            numShards: Int(m.num_shards), bigEndian: m.endianness.rawValue == 1,
            producer: 0, minConsumer: 0, badConsumers: [])
        if let v = m.version {
            h.producer = v.pointee.producer
            h.minConsumer = v.pointee.min_consumer
            h.badConsumers = (0..<v.pointee.n_bad_consumers).map { v.pointee.bad_consumers[$0] }
        }
        return h
    }

    static func entry(_ bytes: UnsafeRawBufferPointer) -> BundleEntry? {
        guard
            let p = ckpt__tf__bundle_entry_proto__unpack(
                nil, bytes.count, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
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
        return BundleEntry(
            dtypeCode: m.dtype, shape: dims, unknownRank: unknownRank, shardID: m.shard_id,
            offset: m.offset, size: m.size, crc32c: m.crc32c, slices: slices)
    }
}

// Encoding, for the writer: the same messages packed by protobuf-c.
enum BundleProtoEncoding {
    static func header(numShards: Int) -> [UInt8] {
        var version = Ckpt__Tf__VersionDef()
        ckpt__tf__version_def__init(&version)
        version.producer = 1  // kTensorBundleVersion
        var h = Ckpt__Tf__BundleHeaderProto()
        ckpt__tf__bundle_header_proto__init(&h)
        h.num_shards = Int32(numShards)
        return withUnsafeMutablePointer(to: &version) { v in
            h.version = v
            var out = [UInt8](repeating: 0, count: ckpt__tf__bundle_header_proto__get_packed_size(&h))
            let n = out.withUnsafeMutableBufferPointer { ckpt__tf__bundle_header_proto__pack(&h, $0.baseAddress) }
            return Array(out[..<n])
        }
    }

    static func entry(dtype: Int32, shape: [Int], shard: Int, offset: Int, size: Int, crc32c: UInt32) -> [UInt8] {
        var dims = shape.map { d -> Ckpt__Tf__TensorShapeProto__Dim in
            var dim = Ckpt__Tf__TensorShapeProto__Dim()
            ckpt__tf__tensor_shape_proto__dim__init(&dim)
            dim.size = Int64(d)
            return dim
        }
        var shapeProto = Ckpt__Tf__TensorShapeProto()
        ckpt__tf__tensor_shape_proto__init(&shapeProto)
        var e = Ckpt__Tf__BundleEntryProto()
        ckpt__tf__bundle_entry_proto__init(&e)
        e.dtype = dtype
        e.shard_id = Int32(shard)
        e.offset = Int64(offset)
        e.size = Int64(size)
        e.crc32c = Checksum.mask(crc32c)
        return dims.withUnsafeMutableBufferPointer { dimBuffer in
            var pointers: [UnsafeMutablePointer<Ckpt__Tf__TensorShapeProto__Dim>?] = (0..<dimBuffer.count).map {
                dimBuffer.baseAddress! + $0
            }
            return pointers.withUnsafeMutableBufferPointer { p in
                shapeProto.n_dim = p.count
                shapeProto.dim = p.baseAddress
                return withUnsafeMutablePointer(to: &shapeProto) { sp in
                    e.shape = sp
                    var out = [UInt8](repeating: 0, count: ckpt__tf__bundle_entry_proto__get_packed_size(&e))
                    let n = out.withUnsafeMutableBufferPointer {
                        ckpt__tf__bundle_entry_proto__pack(&e, $0.baseAddress)
                    }
                    return Array(out[..<n])
                }
            }
        }
    }
}
