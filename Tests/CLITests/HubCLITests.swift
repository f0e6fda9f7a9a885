import CkptTestSupport
import Foundation
import XCTest

/// Hugging Face Hub folders and PyTorch files through the command line, as a user meets them.
final class HubCLITests: ScratchTestCase {
    func ckpt(_ args: String...) throws -> CLI.Run { try CLI.run(args) }

    /// Pickles that would run code, an unsupported storage class, a cut zip and a short storage:
    /// exit 1 with one line naming what was refused; the marker the code would create never appears.
    func testHostilePickleFilesEndWithOneLineAndRunNothing() throws {
        let readme = try Fixtures.json(Fixtures.path("torch/hostile/README.json"))
        let marker = try XCTUnwrap(readme["marker_file"] as? String)
        try? FileManager.default.removeItem(atPath: marker)
        for c in try XCTUnwrap(readme["files"] as? [[String: Any]]) {
            let file = c["file"] as! String
            for command in [
                ["inspect", "--stats"], ["convert", "--to", scratch + "/out"], ["forward", "--tokens", "1"],
            ] {
                var args = [command[0], Fixtures.path("torch/hostile/" + file)] + command.dropFirst()
                if command[0] == "forward" { args += ["--model", "bert"] }
                let r = try CLI.run(args)
                XCTAssertEqual(r.status, 1, "\(file) \(command[0]): \(r.stderr)")
                XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(file) \(command[0]): \(r.stderr)")
                if let g = c["offending_global"] as? [String: String] {
                    XCTAssertTrue(r.stderr.contains("\(g["module"]!).\(g["name"]!)"), "\(file): \(r.stderr)")
                }
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "a pickle ran code")
    }

    /// A `.bin` is read as PyTorch (not taken for an npz), and tied aliases are listed as such.
    func testPyTorchBinIsListedWithItsTiedAliases() throws {
        let r = try ckpt("inspect", Fixtures.path("hub/bert_mlm/pytorch_model.bin"))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("format: pytorch"), r.stdout)
        XCTAssertTrue(r.stdout.contains("architecture: bert (hf names)"), r.stdout)
        XCTAssertTrue(
            r.stdout.contains("cls.predictions.decoder.weight (= bert.embeddings.word_embeddings.weight)"), r.stdout)
        let json = try ckpt("inspect", "--json", Fixtures.path("hub/bert_mlm/pytorch_model.bin"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let aliases = (object["tensors"] as! [[String: Any]]).compactMap { $0["alias_of"] as? String }
        XCTAssertEqual(aliases.count, 2)
    }

    /// Task heads are kept for native/hf and dropped (one line) for tf; buffers and tied copies
    /// are dropped (one line each); the summary says how bert4keras builds the result.
    func testConvertReportsWhatAHubFileHoldsBeyondTheModel() throws {
        let seqcls = Fixtures.path("hub/bert_seqcls")
        let tf = try ckpt("convert", seqcls, "--to", scratch + "/tf", "--layout", "tf")
        XCTAssertEqual(tf.status, 0, tf.stderr)
        XCTAssertTrue(tf.stderr.contains("dropped 2 tensors (task heads bert4keras has no layer for)"), tf.stderr)
        XCTAssertTrue(tf.stderr.contains("bert4keras: build_transformer_model("), tf.stderr)
        XCTAssertTrue(tf.stderr.contains("model='bert', with_pool=True)"), tf.stderr)
        let native = try ckpt("convert", seqcls, "--to", scratch + "/native")
        XCTAssertEqual(native.status, 0, native.stderr)
        XCTAssertTrue(try ConvertedFolder.names(scratch + "/native").contains("classifier.weight"))

        let old = try ckpt(
            "convert", Fixtures.path("hub/gpt2_old_buffers/pytorch_model.bin"), "--to", scratch + "/gpt2")
        XCTAssertEqual(old.status, 0, old.stderr)
        XCTAssertTrue(old.stderr.contains("dropped 4 tensors (buffers transformers recomputes)"), old.stderr)
        XCTAssertTrue(old.stderr.contains("dropped 1 tensors (tied to a weight that is written)"), old.stderr)
    }

    /// The config bert4keras builds from: transformers' keys and activations said bert4keras' way.
    func testTFConfigIsTheOneBert4kerasBuildsFrom() throws {
        let r = try ckpt("convert", Fixtures.path("hub/gpt2_lmhead"), "--to", scratch + "/gpt2", "--layout", "tf")
        XCTAssertEqual(r.status, 0, r.stderr)
        let config = try Fixtures.json(scratch + "/gpt2/config.json")
        let hub = try Fixtures.json(Fixtures.path("hub/gpt2_lmhead/config.json"))
        XCTAssertEqual(config["hidden_size"] as? Int, hub["n_embd"] as? Int)
        XCTAssertEqual(config["num_hidden_layers"] as? Int, hub["n_layer"] as? Int)
        XCTAssertEqual(config["num_attention_heads"] as? Int, hub["n_head"] as? Int)
        XCTAssertEqual(config["intermediate_size"] as? Int, hub["n_inner"] as? Int)
        XCTAssertEqual(hub["activation_function"] as? String, "gelu_new")
        XCTAssertEqual(config["hidden_act"] as? String, "gelu_tanh")
        let t5 = try ckpt("convert", Fixtures.path("hub/mt5_cg"), "--to", scratch + "/mt5", "--layout", "tf")
        XCTAssertEqual(t5.status, 0, t5.stderr)
        let t5config = try Fixtures.json(scratch + "/mt5/config.json")
        XCTAssertEqual(t5config["hidden_act"] as? [String], ["gelu_tanh", "linear"])
        XCTAssertEqual(t5config["attention_head_size"] as? Int, 4)
    }

    /// `--all` shows what the format records beside the tensors: a Keras file's root attributes
    /// (as h5py read them), safetensors' `__metadata__` (save_pretrained writes format "pt"), a
    /// torch file's container, a TF bundle's header.
    func testInspectAllShowsTheFormatsOwnRecords() throws {
        let h5 = try Fixtures.json(Fixtures.path("families/bert/golden.h5.json"))
        let keras = try ckpt("inspect", Fixtures.path("families/bert/model.weights.h5"), "--all")
        XCTAssertTrue(keras.stdout.contains("  keras_version: \(h5["keras_version"] as! String)\n"), keras.stdout)
        XCTAssertTrue(keras.stdout.contains("  backend: \(h5["backend"] as! String)\n"), keras.stdout)
        let st = try ckpt("inspect", Fixtures.path("hub/bert_mlm/model.safetensors"), "--all", "--json")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(st.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((object["details"] as? [String: String])?["__metadata__.format"], "pt")
        let bin = try ckpt("inspect", Fixtures.path("hub/bert_legacy/pytorch_model.bin"), "--all")
        XCTAssertTrue(bin.stdout.contains("  container: legacy\n"), bin.stdout)
        let tf = try ckpt("inspect", Fixtures.path("families/bert"), "--all")
        XCTAssertTrue(tf.stdout.contains("  header.num_shards: 1\n"), tf.stdout)
        XCTAssertFalse(try ckpt("inspect", Fixtures.path("families/bert")).stdout.contains("header."))
    }

    /// A base-model file (no `bert.` prefix) with a tensor no rule reads: the error names it as the
    /// file does, not under the prefix ckpt reads such files with.
    func testErrorsNameBaseModelTensorsAsTheFileDoes() throws {
        let folder = scratch + "/base"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = try SafetensorsFile(Fixtures.path("hub/bert_model/model.safetensors"))
        try file.renamed("pooler.dense.bias", to: "pooler.dense.extra")
            .write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
        try FileManager.default.copyItem(
            atPath: Fixtures.path("hub/bert_model/config.json"), toPath: folder + "/config.json")
        let r = try ckpt("convert", folder, "--to", scratch + "/out")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("tensor 'pooler.dense.extra'"), r.stderr)
        XCTAssertFalse(r.stderr.contains("bert.pooler"), r.stderr)
    }

    /// A T5 folder with `spiece.model` to `--layout hf`: a `T5Tokenizer` config whose special tokens
    /// are the model's control pieces (as sentencepiece lists them) and no sentinels the embedding
    /// has no rows for.
    func testT5ToHFWritesATokenizerConfig() throws {
        let folder = scratch + "/t5"
        try FileManager.default.copyItem(atPath: Fixtures.path("families/t5.1.1"), toPath: folder)
        try FileManager.default.copyItem(atPath: Fixtures.path("spm/spiece.model"), toPath: folder + "/spiece.model")
        let r = try ckpt("convert", folder, "--to", scratch + "/hf", "--layout", "hf")
        XCTAssertEqual(r.status, 0, r.stderr)
        let config = try Fixtures.json(scratch + "/hf/tokenizer_config.json")
        let golden = try Fixtures.json(Fixtures.path("spm/golden.json"))
        let ids = try XCTUnwrap(golden["special_ids"] as? [String: Int])
        let pieces = try XCTUnwrap(golden["pieces"] as? [[String: Any]]).map { $0["piece"] as! String }
        XCTAssertEqual(config["tokenizer_class"] as? String, "T5Tokenizer")
        XCTAssertEqual(config["eos_token"] as? String, pieces[ids["eos_id"]!])
        XCTAssertEqual(config["unk_token"] as? String, pieces[ids["unk_id"]!])
        XCTAssertEqual(config["pad_token"] as? String, pieces[ids["pad_id"]!])
        XCTAssertEqual(config["extra_ids"] as? Int, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/hf/spiece.model"))
    }
}
