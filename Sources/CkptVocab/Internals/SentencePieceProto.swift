import CProtos
import CkptCore

// The only file that calls protobuf-c for SentencePiece model files.

enum SentencePieceProto {
    /// The pieces and the settings of a serialized ModelProto, from one parse.
    static func read(_ bytes: [UInt8], file: String) throws -> ([SentencePieceModel.Piece], SentencePieceSpec) {
        try withModel(bytes, file: file) { m in (pieces(m), spec(m)) }
    }

    private static func pieces(_ m: UnsafeMutablePointer<Ckpt__Spm__ModelProto>) -> [SentencePieceModel.Piece] {
        (0..<m.pointee.n_pieces).map { i in
            let p = m.pointee.pieces[i]!.pointee
            return SentencePieceModel.Piece(
                piece: p.piece.map { String(cString: $0) } ?? "", score: p.has_score != 0 ? p.score : 0,
                type: p.has_type != 0 ? p.type : 1)
        }
    }

    /// The trainer and normalizer settings the encoder needs, with SentencePiece's defaults for
    /// what the file leaves out.
    private static func spec(_ m: UnsafeMutablePointer<Ckpt__Spm__ModelProto>) -> SentencePieceSpec {
        var spec = SentencePieceSpec()
        if let t = m.pointee.trainer_spec?.pointee {
            if t.has_model_type != 0 { spec.modelType = Int(t.model_type) }
            if t.has_byte_fallback != 0 { spec.byteFallback = t.byte_fallback != 0 }
            if t.has_treat_whitespace_as_suffix != 0 { spec.whitespaceAsSuffix = t.treat_whitespace_as_suffix != 0 }
            if t.has_unk_id != 0 { spec.unkID = Int(t.unk_id) }
            if t.has_bos_id != 0 { spec.bosID = Int(t.bos_id) }
            if t.has_eos_id != 0 { spec.eosID = Int(t.eos_id) }
            if t.has_pad_id != 0 { spec.padID = Int(t.pad_id) }
        }
        if let n = m.pointee.normalizer_spec?.pointee {
            spec.normalizerName = n.name.map { String(cString: $0) } ?? ""
            if n.has_precompiled_charsmap != 0, let data = n.precompiled_charsmap.data {
                spec.charsmap = Array(UnsafeBufferPointer(start: data, count: n.precompiled_charsmap.len))
            }
            if n.has_add_dummy_prefix != 0 { spec.addDummyPrefix = n.add_dummy_prefix != 0 }
            if n.has_remove_extra_whitespaces != 0 { spec.removeExtraWhitespaces = n.remove_extra_whitespaces != 0 }
            if n.has_escape_whitespaces != 0 { spec.escapeWhitespaces = n.escape_whitespaces != 0 }
        }
        return spec
    }

    /// The same ModelProto with only the pieces at `order` (old indexes, new order); every other
    /// field (trainer and normalizer specs) is written back as it was read.
    static func reordered(_ bytes: [UInt8], order: [Int], file: String) throws -> [UInt8] {
        try withModel(bytes, file: file) { m in
            let original = m.pointee.pieces, count = m.pointee.n_pieces
            let subset = UnsafeMutablePointer<UnsafeMutablePointer<Ckpt__Spm__ModelProto__SentencePiece>?>.allocate(
                capacity: max(1, order.count))
            defer {
                m.pointee.pieces = original
                m.pointee.n_pieces = count
                subset.deallocate()
            }
            for (n, old) in order.enumerated() { subset[n] = original![old] }
            m.pointee.pieces = subset
            m.pointee.n_pieces = order.count
            var out = [UInt8](repeating: 0, count: ckpt__spm__model_proto__get_packed_size(m))
            let written = out.withUnsafeMutableBufferPointer { ckpt__spm__model_proto__pack(m, $0.baseAddress) }
            return Array(out[..<written])
        }
    }

    private static func withModel<R>(
        _ bytes: [UInt8], file: String, _ body: (UnsafeMutablePointer<Ckpt__Spm__ModelProto>) throws -> R
    ) throws -> R {
        guard let m = bytes.withUnsafeBufferPointer({ ckpt__spm__model_proto__unpack(nil, $0.count, $0.baseAddress) })
        else {
            throw CkptError(.malformed, file: file, "not a SentencePiece model (ModelProto does not parse)")
        }
        defer { ckpt__spm__model_proto__free_unpacked(m, nil) }
        return try body(m)
    }
}
