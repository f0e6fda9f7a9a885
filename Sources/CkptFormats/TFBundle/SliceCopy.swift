/// Copies a dense hyper-rectangle (a stored slice) into its place in a larger row-major tensor,
/// one memcpy per contiguous run: the trailing dimensions the slice spans fully are merged into
/// one run, so a slice along axis 0 is a single copy.
enum SliceCopy {
    static func copy(
        _ src: UnsafeRawBufferPointer, sliceShape: [Int], at starts: [Int],
        into dst: UnsafeMutableRawBufferPointer, fullShape: [Int], itemSize: Int
    ) {
        let rank = fullShape.count
        if rank == 0 {
            dst.copyMemory(from: src)
            return
        }
        // Merge trailing dimensions that the slice covers whole.
        var runDims = rank - 1
        var run = sliceShape[rank - 1]
        while runDims > 0 && sliceShape[runDims] == fullShape[runDims] {
            runDims -= 1
            run *= sliceShape[runDims]
        }
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * fullShape[d + 1] }
        let runBytes = run * itemSize
        guard runBytes > 0 else { return }
        let outer = sliceShape[..<runDims].reduce(1, *)
        var idx = [Int](repeating: 0, count: runDims)
        for n in 0..<outer {
            var offset = starts[runDims] * strides[runDims]
            for d in 0..<runDims { offset += (starts[d] + idx[d]) * strides[d] }
            (dst.baseAddress! + offset * itemSize).copyMemory(
                from: src.baseAddress! + n * runBytes, byteCount: runBytes)
            var d = runDims - 1
            while d >= 0 {
                idx[d] += 1
                if idx[d] < sliceShape[d] { break }
                idx[d] = 0
                d -= 1
            }
        }
    }
}
