import CkptCore
import CkptFormats
import CkptMappings
import CkptModels
import Foundation

/// The `forward` target: a model as a user hands it to `ckpt forward` — a small safetensors
/// file and its config.json — mutated by the fuzzer, then loaded and run on 3 tokens with every
/// head the checkpoint has. One input is `[family byte][config length: UInt16 LE][config][safetensors]`,
/// so the fuzzer mutates the config, the header and the weights alike.
enum ForwardFuzzInput {
    /// Every family with a forward pass, each with a fixture folder `Fixtures/families/NAME`.
    static let families = MappingTable.builtIn.filter { $0.forward != nil }.map(\.family)

    /// The family a first byte picks, as `ckpt forward --model` would be given it.
    static func family(_ byte: UInt8) -> String { families[Int(byte) % families.count] }

    static func compose(familyIndex: Int, config: [UInt8], safetensors: [UInt8]) -> [UInt8] {
        let n = min(config.count, Int(UInt16.max))
        return [UInt8(familyIndex)] + [UInt8(n & 0xff), UInt8(n >> 8)] + config.prefix(n) + safetensors
    }

    /// Splits an input into the two files in `folder`; nil when it is too short to hold the header.
    static func unpack(_ bytes: [UInt8], into folder: String) -> String? {
        guard bytes.count >= 3 else { return nil }
        let n = Int(bytes[1]) | Int(bytes[2]) << 8
        guard bytes.count >= 3 + n else { return nil }
        write(Array(bytes[3..<(3 + n)]), to: folder + "/config.json")
        write(Array(bytes[(3 + n)...]), to: folder + "/model.safetensors")
        return family(bytes[0])
    }

    /// Load and run: errors are the expected outcome, a trap or hang is a finding.
    /// Returns what happened, for `CKPT_FUZZ_VERBOSE` replays: the error, or the outputs' names.
    @discardableResult
    static func exercise(folder: String, family: String) -> String {
        do {
            let setup = try ConversionSetup(sourcePath: folder, model: family, configPath: nil, options: PlanOptions())
            let model = try ReferenceModel(setup: setup)
            let tokens = [1, 2, 3]
            // Segments, heads and the UniLM mask are the encoder families' (T5 has an encoder too).
            let encoder = setup.table.forward?.kind != .encoder
            var request = ForwardRequest(
                tokens: tokens, segments: encoder ? nil : [0, 0, 1], decoderTokens: tokens,
                heads: encoder ? [] : Set(model.availableHeads))
            var ran = try model.run(request).arrays.map(\.name)
            if !encoder && model.availableHeads.contains(.mlm) {
                request.application = .unilm
                ran += try model.run(request).arrays.map(\.name)
            }
            return "\(family): ran \(ran.joined(separator: ", "))"
        } catch {
            return "\(family): \(error)"
        }
    }

    /// One seed per family: its fixture converted to native safetensors, with its config.
    static func seeds(fixtures: String, scratch: String) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for (k, family) in families.enumerated() {
            let setup = try ConversionSetup(
                sourcePath: "\(fixtures)/families/\(family)", model: family, configPath: nil,
                options: PlanOptions())
            let folder = "\(scratch)/seed-\(family)"
            try? FileManager.default.removeItem(atPath: folder)
            var options = try setup.standardWriteOptions(sourcePath: "\(fixtures)/families/\(family)")
            options.extraFiles = []
            _ = try Converter.run(setup.plan, source: setup.source, to: folder, options: options)
            let config = try MappedFile.contents(of: folder + "/config.json")
            let weights = try MappedFile.contents(of: folder + "/model.safetensors")
            out.append(compose(familyIndex: k, config: config, safetensors: weights))
            try? FileManager.default.removeItem(atPath: folder)
        }
        return out
    }

    private static func write(_ bytes: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { fatalError("cannot write \(path)") }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, bytes.count - done) }
            guard n > 0 else { fatalError("cannot write \(path)") }
            done += n
        }
        close(fd)
    }
}
