import CkptCore
import CkptFormats
import CkptMappings
import CkptModels
import CkptTestSupport
import CkptVocab
import Foundation
import XCTest

/// `prune` against bert4keras' own keep_tokens + compound_tokens (Fixtures/generate.py part
/// prune:*): the pruned rows equal bert4keras' exactly, and the forward pass on ids of the new
/// vocabulary matches its outputs within 1e-4.
final class PruneTests: ScratchTestCase {
    static let families = ["bert", "albert", "nezha", "roformer", "electra", "gpt2_ml", "t5.1.1"]

    func prune(_ family: String) throws -> (ConversionSetup, String, VocabularyPruning.Result) {
        let dir = Fixtures.path("prune/\(family)")
        let vocab = try Vocabulary(path: dir + "/vocab.txt")
        var chosen = try VocabularyPruning.keepFile(dir + "/keep.txt", vocabulary: vocab)
        try VocabularyPruning.addCompounds(dir + "/compound.tsv", to: &chosen, vocabulary: vocab)
        var options = PlanOptions()
        options.vocabulary = VocabularySelection(keep: chosen.keep, compound: chosen.compound)
        options.vocabularySize = vocab.count
        let source = Fixtures.path("families/\(family)")
        let setup = try ConversionSetup(sourcePath: source, model: family, configPath: nil, options: options)
        let out = scratch + "/\(family)"
        var write = try setup.standardWriteOptions(sourcePath: source)
        if var config = write.config {
            config["vocab_size"] = .number(Double(chosen.tokens.count))
            write.config = config
        }
        _ = try Converter.run(setup.plan, source: setup.source, to: out, options: write)
        return (setup, out, chosen)
    }

    func testPrunedRowsEqualBert4kerasExactly() throws {
        for family in Self.families {
            let (setup, out, chosen) = try prune(family)
            let prune = try Fixtures.json(Fixtures.path("prune/\(family)/prune.json"))
            XCTAssertEqual(chosen.keep, prune["keep_tokens"] as? [Int], family)
            XCTAssertEqual(chosen.tokens, prune["tokens"] as? [String], family)
            let golden = try NPZReader(path: Fixtures.path("prune/\(family)/weights.npz"))
            let written = try SafetensorsReader(path: out + "/model.safetensors")
            XCTAssertFalse(golden.tensors.isEmpty)
            for g in golden.tensors {
                let output = try XCTUnwrap(
                    setup.plan.outputs.first { $0.inputs[0].source.name == g.name }, "\(family) \(g.name)")
                let t = try written.tensor(named: output.name)
                XCTAssertEqual(t.shape, g.shape, "\(family) \(g.name)")
                let a = try written.withBytes(of: t) { Array($0) }, b = try golden.withBytes(of: g) { Array($0) }
                XCTAssertEqual(a, b, "\(family) \(g.name): pruned values")
            }
        }
    }

    func testForwardOnTheNewVocabularyMatchesBert4keras() throws {
        for family in Self.families {
            let (_, out, _) = try prune(family)
            // The pruned folder's own config.json (vocab_size updated) describes it.
            let model = try ReferenceModel(
                setup: ConversionSetup(sourcePath: out, model: family, configPath: nil, options: PlanOptions()))
            let cases =
                try Fixtures.json(Fixtures.path("prune/\(family)/forward/cases.json"))["cases"] as! [[String: Any]]
            for c in cases {
                let npz = try NPZReader(path: Fixtures.path("prune/\(family)/forward/" + (c["file"] as! String)))
                func ints(_ n: String) throws -> [Int]? {
                    guard let t = npz.tensors.first(where: { $0.name == n }) else { return nil }
                    return try npz.withBytes(of: t) { $0.bindMemory(to: Int32.self).map(Int.init) }
                }
                let flags = c["heads"] as? [String: Bool] ?? [:]
                var heads = Set<Head>()
                if flags["with_mlm"] == true { heads.insert(.mlm) }
                if flags["with_pool"] == true { heads.insert(.pool) }
                if flags["with_nsp"] == true { heads.insert(.nsp) }
                if flags["with_discriminator"] == true { heads.insert(.discriminator) }
                let request = ForwardRequest(
                    tokens: try XCTUnwrap(ints("token_ids")), segments: try ints("segment_ids"),
                    decoderTokens: try ints("decoder_token_ids"),
                    application: Application(rawValue: c["application"] as? String ?? "encoder") ?? .encoder,
                    heads: heads)
                let outputs = try model.run(request)
                for name in c["outputs"] as! [String] {
                    let g = try npz.tensor(named: name)
                    let expected = try npz.withBytes(of: g) { Array($0.bindMemory(to: Float.self)) }
                    let ours = try XCTUnwrap(outputs[name], "\(family) \(name)")
                    XCTAssertEqual(ours.values.count, expected.count)
                    let worst =
                        zip(ours.values, expected).map { abs($0 - $1) }.map { $0.isNaN ? Float.infinity : $0 }.max()
                        ?? 0
                    XCTAssertLessThanOrEqual(worst, 1e-4, "\(family) \(c["case"] as! String) \(name)")
                }
            }
        }
    }
}
