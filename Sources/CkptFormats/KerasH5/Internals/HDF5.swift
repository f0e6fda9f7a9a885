import CHDF5Shim
import CkptCore

// The only file that calls libhdf5. Every identifier it opens is closed by an `HDF5Handle`'s
// deinit; every negative status becomes a `CkptError` carrying the file and object path.

/// An open HDF5 identifier and the function that closes it.
final class HDF5Handle {
    let id: hid_t
    private let closer: (hid_t) -> herr_t

    init(_ id: hid_t, closer: @escaping (hid_t) -> herr_t) {
        self.id = id
        self.closer = closer
    }

    deinit { _ = closer(id) }
}

/// What a dataset holds, as HDF5 describes it.
struct HDF5DatasetInfo {
    let dtype: DType
    let shape: [Int]
}

enum HDF5 {
    /// Loads libhdf5 (first use) and names the file for the crash guard's message.
    static var libraryVersion: String {
        var (a, b, c): (UInt32, UInt32, UInt32) = (0, 0, 0)
        ckpt_hdf5_version(&a, &b, &c)
        return "\(a).\(b).\(c)"
    }

    static func prepare(for path: String) throws {
        var message = [CChar](repeating: 0, count: 512)
        guard ckpt_h5_load(&message, message.count) == 0 else {
            throw CkptError(
                .unsupported, file: path,
                String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    + " (apt-get install libhdf5-103)")
        }
        ckpt_h5_set_file(path)
    }

    static func openFile(_ path: String) throws -> HDF5Handle {
        try prepare(for: path)
        let id = ckpt_H5Fopen(path, ckpt_h5f_acc_rdonly(), ckpt_h5p_default())
        guard id >= 0 else {
            throw CkptError(.malformed, file: path, "libhdf5 cannot open it (truncated or corrupt HDF5 file)")
        }
        return HDF5Handle(id, closer: ckpt_H5Fclose)
    }

    static func openGroup(_ parent: HDF5Handle, _ name: String, file: String) throws -> HDF5Handle {
        let id = ckpt_H5Gopen2(parent.id, name, ckpt_h5p_default())
        guard id >= 0 else { throw CkptError(.malformed, file: file, tensor: name, "HDF5 group cannot be opened") }
        return HDF5Handle(id, closer: ckpt_H5Gclose)
    }

    static func linkExists(_ parent: HDF5Handle, _ name: String) -> Bool {
        ckpt_H5Lexists(parent.id, name, ckpt_h5p_default()) > 0
    }

    static func attributeExists(_ obj: HDF5Handle, _ name: String) -> Bool {
        ckpt_H5Aexists(obj.id, name) > 0
    }

    /// A string attribute (scalar or 1-D; fixed-length or variable-length) as a list of strings.
    static func stringAttribute(_ obj: HDF5Handle, _ name: String, file: String) throws -> [String] {
        func bad(_ why: String) -> CkptError { CkptError(.malformed, file: file, "attribute '\(name)': \(why)") }
        let attrID = ckpt_H5Aopen(obj.id, name, ckpt_h5p_default())
        guard attrID >= 0 else { throw bad("cannot be opened") }
        let attr = HDF5Handle(attrID, closer: ckpt_H5Aclose)
        let type = HDF5Handle(ckpt_H5Aget_type(attr.id), closer: ckpt_H5Tclose)
        let space = HDF5Handle(ckpt_H5Aget_space(attr.id), closer: ckpt_H5Sclose)
        guard type.id >= 0, space.id >= 0 else { throw bad("has no type or dataspace") }
        let count = Int(ckpt_H5Sget_simple_extent_npoints(space.id))
        // Sizes come from the file: an attribute cannot hold more strings than the file has bytes.
        guard count >= 0, count <= (FileSystem.size(file) ?? 0) else { throw bad("has no valid extent") }
        // Keras writes an empty list as an empty float array: no strings, whatever the type.
        if count == 0 { return [] }
        guard ckpt_H5Tget_class(type.id) == Int32(CKPT_H5T_STRING) else { throw bad("is not a string") }
        let memType = HDF5Handle(ckpt_H5Tcopy(ckpt_h5t_c_s1()), closer: ckpt_H5Tclose)
        // HDF5 converts between string types only within one character set (h5py writes UTF-8).
        guard ckpt_H5Tset_cset(memType.id, ckpt_H5Tget_cset(type.id)) >= 0 else {
            throw bad("has an unknown character set")
        }
        if ckpt_H5Tis_variable_str(type.id) > 0 {
            guard ckpt_H5Tset_size(memType.id, ckpt_h5t_variable()) >= 0 else { throw bad("cannot make a string type") }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            // Freed also after a failed read: libhdf5 may have converted some strings already.
            defer { for p in pointers where p != nil { ckpt_H5free_memory(p) } }
            guard ckpt_H5Aread(attr.id, memType.id, &pointers) >= 0 else { throw bad("cannot be read") }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let width = ckpt_H5Tget_size(type.id)
        guard width > 0, width < 1 << 20,
            count.multipliedReportingOverflow(by: width).partialValue <= (FileSystem.size(file) ?? 0),
            ckpt_H5Tset_size(memType.id, width) >= 0
        else { throw bad("has an invalid string width") }
        var buffer = [UInt8](repeating: 0, count: count * width)
        guard ckpt_H5Aread(attr.id, memType.id, &buffer) >= 0 else { throw bad("cannot be read") }
        return (0..<count).map { i in
            let chunk = buffer[(i * width)..<((i + 1) * width)]
            let end = chunk.firstIndex(of: 0) ?? chunk.endIndex
            return String(decoding: chunk[chunk.startIndex..<end], as: UTF8.self)
        }
    }

    static func openDataset(_ parent: HDF5Handle, _ path: String, file: String) throws -> HDF5Handle {
        guard linkExists(parent, path) || path.contains("/") else {
            throw CkptError(.tensorNotFound, file: file, tensor: path, "dataset missing")
        }
        let id = ckpt_H5Dopen2(parent.id, path, ckpt_h5p_default())
        guard id >= 0 else { throw CkptError(.tensorNotFound, file: file, tensor: path, "dataset cannot be opened") }
        return HDF5Handle(id, closer: ckpt_H5Dclose)
    }

    /// dtype and shape of a dataset, mapped from HDF5's type class, size and sign.
    static func describe(_ dset: HDF5Handle, file: String, name: String) throws -> HDF5DatasetInfo {
        let type = HDF5Handle(ckpt_H5Dget_type(dset.id), closer: ckpt_H5Tclose)
        let space = HDF5Handle(ckpt_H5Dget_space(dset.id), closer: ckpt_H5Sclose)
        guard type.id >= 0, space.id >= 0 else {
            throw CkptError(.malformed, file: file, tensor: name, "dataset has no type or dataspace")
        }
        let rank = Int(ckpt_H5Sget_simple_extent_ndims(space.id))
        guard rank >= 0, rank <= 32 else {
            throw CkptError(.malformed, file: file, tensor: name, "dataset rank \(rank)")
        }
        var dims = [hsize_t](repeating: 0, count: rank)
        guard ckpt_H5Sget_simple_extent_dims(space.id, &dims, nil) >= 0, dims.allSatisfy({ $0 <= hsize_t(Int.max) })
        else {
            throw CkptError(.malformed, file: file, tensor: name, "dataset dimensions cannot be read")
        }
        let size = ckpt_H5Tget_size(type.id)
        let cls = ckpt_H5Tget_class(type.id)
        let dtype: DType?
        switch cls {
        case Int32(CKPT_H5T_FLOAT): dtype = [2: .float16, 4: .float32, 8: .float64][size]
        case Int32(CKPT_H5T_INTEGER):
            let signed = ckpt_H5Tget_sign(type.id) == Int32(CKPT_H5T_SGN_2)
            dtype =
                (signed
                ? [1: .int8, 2: .int16, 4: .int32, 8: .int64]
                : [1: .uint8, 2: .uint16, 4: .uint32, 8: .uint64] as [Int: DType])[size]
        // h5py writes NumPy bool as an int8 enum {FALSE, TRUE}
        case Int32(CKPT_H5T_ENUM): dtype = size == 1 ? .bool : nil
        default: dtype = nil
        }
        guard let dtype else {
            throw CkptError(
                .unknownDType, file: file, tensor: name,
                "HDF5 type class \(cls) of \(size) bytes is not a tensor dtype ckpt reads")
        }
        return HDF5DatasetInfo(dtype: dtype, shape: dims.map { Int($0) })
    }

    /// Reads a whole dataset as little-endian native values into `buffer`.
    static func read(_ dset: HDF5Handle, into buffer: UnsafeMutableRawBufferPointer, file: String, name: String) throws
    {
        let type = HDF5Handle(ckpt_H5Dget_type(dset.id), closer: ckpt_H5Tclose)
        let native = HDF5Handle(ckpt_H5Tget_native_type(type.id, Int32(CKPT_H5T_DIR_ASCEND)), closer: ckpt_H5Tclose)
        guard native.id >= 0, ckpt_H5Tget_size(native.id) == ckpt_H5Tget_size(type.id) else {
            throw CkptError(.unsupported, file: file, tensor: name, "no native type for this dataset")
        }
        guard
            buffer.count == 0
                || ckpt_H5Dread(
                    dset.id, native.id, ckpt_h5s_all(), ckpt_h5s_all(), ckpt_h5p_default(), buffer.baseAddress) >= 0
        else {
            throw CkptError(
                .malformed, file: file, tensor: name, "libhdf5 cannot read the dataset (corrupt or truncated file)")
        }
    }
}
