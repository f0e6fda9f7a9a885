import CHDF5Shim
import CkptCore
#if canImport(Glibc)
    import Glibc
#endif

// libhdf5's write side, for the Keras writer: groups, string attributes and datasets whose data
// space is allocated at creation (contiguous, no fill), so their bytes can be written later with
// ordinary file I/O at the offsets libhdf5 reports.

extension HDF5 {
    static func createFile(_ path: String) throws -> HDF5Handle {
        try prepare(for: path)
        // Tensors of 64 KiB and more start on a 4 KiB boundary: the kernel copies them into the
        // page cache without splitting pages (as the TF bundle writer aligns its data).
        let fapl = HDF5Handle(ckpt_H5Pcreate(ckpt_h5_global("H5P_CLS_FILE_ACCESS_ID_g")), closer: ckpt_H5Pclose)
        guard fapl.id >= 0, ckpt_H5Pset_alignment(fapl.id, 65536, 4096) >= 0 else {
            throw CkptError(.ioFailure, file: path, "libhdf5 cannot set up the file")
        }
        let id = ckpt_H5Fcreate(path, ckpt_h5f_acc_excl(), ckpt_h5p_default(), fapl.id)
        guard id >= 0 else { throw CkptError(.ioFailure, file: path, "libhdf5 cannot create the file") }
        return HDF5Handle(id, closer: ckpt_H5Fclose)
    }

    /// Closes a file being written, where libhdf5 writes its metadata: a failure there (disk
    /// full) is an error, not a silently broken file.
    static func close(_ file: HDF5Handle, file path: String) throws {
        guard ckpt_H5Fflush(file.id, Int32(CKPT_H5F_SCOPE_LOCAL)) >= 0 else {
            throw CkptError(
                .ioFailure, file: path, "cannot write the HDF5 file's metadata (disk full or file size limit?)")
        }
    }

    static func createGroup(_ parent: HDF5Handle, _ name: String, file: String) throws -> HDF5Handle {
        let id = ckpt_H5Gcreate2(parent.id, name, ckpt_h5p_default(), ckpt_h5p_default(), ckpt_h5p_default())
        guard id >= 0 else { throw CkptError(.ioFailure, file: file, tensor: name, "cannot create the HDF5 group") }
        return HDF5Handle(id, closer: ckpt_H5Gclose)
    }

    /// A string-list attribute as Keras 2.15 leaves it through h5py (a list of `bytes`):
    /// variable-length strings, ASCII character set; 1-D, or scalar for one value (`backend`).
    /// An empty list is written as Keras writes it: an empty float64 array.
    static func writeStrings(_ obj: HDF5Handle, _ name: String, _ values: [String], scalar: Bool = false, file: String)
        throws
    {
        func bad(_ why: String) -> CkptError { CkptError(.ioFailure, file: file, "attribute '\(name)': \(why)") }
        if values.isEmpty {
            var dims: [hsize_t] = [0]
            let space = HDF5Handle(ckpt_H5Screate_simple(1, &dims, nil), closer: ckpt_H5Sclose)
            let attr = HDF5Handle(
                ckpt_H5Acreate2(
                    obj.id, name, ckpt_h5_global("H5T_IEEE_F64LE_g"), space.id, ckpt_h5p_default(),
                    ckpt_h5p_default()), closer: ckpt_H5Aclose)
            guard space.id >= 0, attr.id >= 0 else { throw bad("cannot be created") }
            return
        }
        let type = HDF5Handle(ckpt_H5Tcopy(ckpt_h5t_c_s1()), closer: ckpt_H5Tclose)
        guard ckpt_H5Tset_size(type.id, ckpt_h5t_variable()) >= 0,
            ckpt_H5Tset_cset(type.id, Int32(CKPT_H5T_CSET_ASCII)) >= 0
        else {
            throw bad("cannot make a string type")
        }
        var dims: [hsize_t] = [hsize_t(values.count)]
        let space = HDF5Handle(
            scalar && values.count == 1 ? ckpt_H5Screate(Int32(CKPT_H5S_SCALAR)) : ckpt_H5Screate_simple(1, &dims, nil),
            closer: ckpt_H5Sclose)
        let attr = HDF5Handle(
            ckpt_H5Acreate2(obj.id, name, type.id, space.id, ckpt_h5p_default(), ckpt_h5p_default()),
            closer: ckpt_H5Aclose)
        guard space.id >= 0, attr.id >= 0 else { throw bad("cannot be created") }
        let strings = values.map { strdup($0) }
        defer { for p in strings { free(p) } }
        let pointers = strings.map { UnsafePointer<CChar>($0) }
        guard pointers.withUnsafeBytes({ ckpt_H5Awrite(attr.id, type.id, $0.baseAddress) }) >= 0 else {
            throw bad("cannot be written")
        }
    }

    /// The little-endian HDF5 file type of a dtype, or nil where Keras files have none ckpt writes.
    static func fileType(_ dtype: DType) -> hid_t? {
        let symbol: String? =
            switch dtype {
            case .float32: "H5T_IEEE_F32LE_g"
            case .float64: "H5T_IEEE_F64LE_g"
            case .int8: "H5T_STD_I8LE_g"
            case .int16: "H5T_STD_I16LE_g"
            case .int32: "H5T_STD_I32LE_g"
            case .int64: "H5T_STD_I64LE_g"
            case .uint8: "H5T_STD_U8LE_g"
            case .uint16: "H5T_STD_U16LE_g"
            case .uint32: "H5T_STD_U32LE_g"
            case .uint64: "H5T_STD_U64LE_g"
            default: nil
            }
        guard let symbol else { return nil }
        let id = ckpt_h5_global(symbol)
        return id >= 0 ? id : nil
    }

    /// A contiguous dataset whose space is allocated now and never filled; returns the file offset
    /// of its first data byte.
    static func createAllocatedDataset(_ parent: HDF5Handle, _ name: String, dtype: DType, shape: [Int], file: String)
        throws -> Int
    {
        func bad(_ why: String) -> CkptError { CkptError(.ioFailure, file: file, tensor: name, why) }
        guard let type = fileType(dtype) else {
            throw CkptError(
                .unsupported, file: file, tensor: name, "the Keras writer has no \(dtype.rawValue) datasets")
        }
        var dims = shape.map { hsize_t($0) }
        let space = HDF5Handle(
            shape.isEmpty
                ? ckpt_H5Screate(Int32(CKPT_H5S_SCALAR)) : ckpt_H5Screate_simple(Int32(dims.count), &dims, nil),
            closer: ckpt_H5Sclose)
        let dcpl = HDF5Handle(ckpt_H5Pcreate(ckpt_h5_global("H5P_CLS_DATASET_CREATE_ID_g")), closer: ckpt_H5Pclose)
        guard space.id >= 0, dcpl.id >= 0, ckpt_H5Pset_alloc_time(dcpl.id, Int32(CKPT_H5D_ALLOC_TIME_EARLY)) >= 0,
            ckpt_H5Pset_fill_time(dcpl.id, Int32(CKPT_H5D_FILL_TIME_NEVER)) >= 0
        else { throw bad("cannot describe the dataset") }
        let dset = HDF5Handle(
            ckpt_H5Dcreate2(parent.id, name, type, space.id, ckpt_h5p_default(), dcpl.id, ckpt_h5p_default()),
            closer: ckpt_H5Dclose)
        guard dset.id >= 0 else { throw bad("cannot create the dataset") }
        let offset = ckpt_H5Dget_offset(dset.id)
        let bytes = ShapeMath.byteCount(shape, dtype) ?? 0
        guard bytes == 0 || (offset < UInt64(Int.max)) else { throw bad("dataset has no file space") }
        return bytes == 0 ? 0 : Int(offset)
    }
}
