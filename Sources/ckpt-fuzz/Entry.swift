import CHDF5Shim
import Foundation

#if CKPT_LIBFUZZER
    // Built by scripts/fuzz.sh with -sanitize=fuzzer: libFuzzer owns main() and calls this per input;
    // the target comes from $CKPT_FUZZ_TARGET.
    nonisolated(unsafe) private var workspace: FuzzWorkspace?

    /// libFuzzer calls this once before reading the corpus: set up the target's folder, and seed an
    /// empty corpus folder (the first argument that is not a flag) with the target's fixture files.
    @_cdecl("LLVMFuzzerInitialize")
    public func fuzzInitialize(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
    ) -> CInt {
        let name = ProcessInfo.processInfo.environment["CKPT_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("CKPT_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))")
        }
        let fixtures = FuzzWorkspace.fixtures()
        ckpt_h5_disable_memory_cap()
        workspace = try! FuzzWorkspace(target: target, fixtures: fixtures)
        let args = (1..<Int(argc.pointee)).compactMap { argv.pointee?[$0].map { String(cString: $0) } }
        if let corpus = args.first(where: { !$0.hasPrefix("-") }), FileManager.default.fileExists(atPath: corpus),
            (try? FileManager.default.contentsOfDirectory(atPath: corpus))?.isEmpty == true
        {
            for (k, seed) in target.seeds.enumerated() {
                try? FileManager.default.copyItem(atPath: "\(fixtures)/\(seed)", toPath: "\(corpus)/seed-\(k)")
            }
            if target == .forward {
                for (k, seed) in try! ForwardFuzzInput.seeds(fixtures: fixtures, scratch: workspace!.folder)
                    .enumerated()
                {
                    FileManager.default.createFile(atPath: "\(corpus)/seed-\(k)", contents: Data(seed))
                }
            }
        }
        return 0
    }

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        workspace!.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    private func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// SwiftPM links an executable's entry point as `<module>_main`; hand over to libFuzzer's driver.
    @_cdecl("ckpt_fuzz_main")
    public func ckptFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var vector = argv
        return LLVMFuzzerRunDriver(&count, &vector, fuzzOneInput)
    }
#else
    /// Replays inputs through a fuzz target without libFuzzer (the regression inputs in the tests):
    /// `ckpt-fuzz TARGET FILE...`, or `ckpt-fuzz --seeds TARGET` to list the seed files. Exit 0 when
    /// every input was handled (an error is handled; a crash is not).
    @main
    struct FuzzReplay {
        static func main() {
            var args = Array(CommandLine.arguments.dropFirst())
            let listSeeds = args.first == "--seeds"
            if listSeeds { args.removeFirst() }
            guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
                FileHandle.standardError.write(
                    Data(
                        ("usage: ckpt-fuzz [--seeds] TARGET [FILE...]; "
                            + "targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))\n").utf8))
                exit(2)
            }
            let fixtures = FuzzWorkspace.fixtures()
            if listSeeds {
                for s in target.seeds { print("\(fixtures)/\(s)") }
                return
            }
            if args.count >= 3 && args[1] == "--write-seeds" {
                // `ckpt-fuzz forward --write-seeds DIR`: the generated seeds, to replay or inspect.
                let scratch = NSTemporaryDirectory() + "ckpt-fuzz-seeds-\(getpid())"
                try! FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                for (k, seed) in try! ForwardFuzzInput.seeds(fixtures: fixtures, scratch: scratch).enumerated() {
                    FileManager.default.createFile(atPath: "\(args[2])/seed-\(k)", contents: Data(seed))
                }
                return
            }
            let workspace = try! FuzzWorkspace(target: target, fixtures: fixtures)
            defer { try? FileManager.default.removeItem(atPath: workspace.folder) }
            for file in args.dropFirst() {
                let bytes = try! Data(contentsOf: URL(fileURLWithPath: file))
                bytes.withUnsafeBytes { workspace.run($0) }
            }
            print("\(target.rawValue): \(args.count - 1) inputs handled")
        }
    }
#endif
