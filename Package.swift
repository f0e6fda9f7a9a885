// swift-tools-version: 6.0
// ckpt — read, inspect, convert and verify transformer checkpoints without TensorFlow.
// Module order (each depends only on those above it): C targets, CkptCore, CkptFormats,
// CkptMappings, CkptModels, CkptVocab, ckpt (CLI). See ../shared/ARCHITECTURE.md.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "ckpt",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ckpt", targets: ["ckpt"]),
        .library(name: "CkptFormats", targets: ["CkptFormats"]),
        .library(name: "CkptMappings", targets: ["CkptMappings"]),
        .library(name: "CkptModels", targets: ["CkptModels"]),
    ],
    dependencies: [
        // Exact, so a build resolves the same version everywhere (the lock file stays out of git,
        // as this machine kind asks).
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2")
    ],
    targets: [
        // System libraries, found through pkg-config (Debian package names in `providers`).
        .systemLibrary(
            name: "CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // protobuf-c code generated once from Protos/ by scripts/generate-protos.sh (committed).
        .target(name: "CProtos", dependencies: ["CProtobufC"]),
        // libhdf5 through functions (its macros such as H5T_NATIVE_* cannot be imported), loaded
        // with dlopen at first use; hdf5.h (libhdf5-dev) is read by this C target only.
        .target(
            name: "CHDF5Shim", cSettings: [.unsafeFlags(["-I/usr/include/hdf5/serial"])],
            linkerSettings: [.linkedLibrary("dl")]),
        // CRC32C with the SSE4.2 / ARMv8 CRC instructions, table fallback.
        .target(name: "CCRC32C"),
        // OpenBLAS's cblas_sgemm, loaded with dlopen at first use (libopenblas0, from libopenblas-dev).
        .target(name: "CBLASLoader", linkerSettings: [.linkedLibrary("dl")]),
        // System calls Swift's Glibc module leaves out (copy_file_range).
        .target(name: "CSystem"),
        .target(name: "CKernels"),

        .target(name: "CkptCore", dependencies: ["CCRC32C", "CZlib", "CSystem", "CKernels"], swiftSettings: strict),
        .target(
            name: "CkptFormats", dependencies: ["CkptCore", "CProtos", "CHDF5Shim", "CZlib"],
            swiftSettings: strict),
        // `extends` between family tables, Foundation only: used by CkptMappings and, at build
        // time, by the plugin that embeds the resolved tables.
        .target(name: "CkptTableMerge", swiftSettings: strict),
        .target(
            name: "CkptMappings", dependencies: ["CKernels", "CkptCore", "CkptFormats", "CkptTableMerge"],
            swiftSettings: strict, plugins: ["EmbedMappings"]),
        .target(
            name: "CkptModels",
            dependencies: ["CkptCore", "CkptFormats", "CkptMappings", "CBLASLoader", "CKernels", "CSystem"],
            swiftSettings: strict),
        .target(
            name: "CkptVocab", dependencies: ["CkptCore", "CkptFormats", "CkptMappings", "CProtos"],
            swiftSettings: strict),
        // Fuzz targets (scripts/fuzz.sh builds them with libFuzzer; a plain build replays inputs).
        .executableTarget(
            name: "ckpt-fuzz",
            dependencies: [
                "CkptCore", "CkptFormats", "CkptMappings", "CkptModels", "CkptVocab",
                "CHDF5Shim",
            ], swiftSettings: strict),
        .executableTarget(
            name: "ckpt",
            dependencies: [
                "CkptCore", "CkptFormats", "CkptMappings", "CkptModels", "CkptVocab", "CSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),

        // Throughput benchmarks, run in release: swift run -c release ckpt-bench crc32c
        .executableTarget(
            name: "ckpt-bench", dependencies: ["CkptCore", "CkptFormats", "CkptMappings", "CkptModels"],
            path: "Benchmarks/ckpt-bench"),

        // Build-time embedding of Mappings/*.json into the binary (no file looked up at run time).
        .executableTarget(
            name: "EmbedMappingsTool", dependencies: ["CkptTableMerge"], path: "Plugins/EmbedMappingsTool"),
        .plugin(
            name: "EmbedMappings", capability: .buildTool(), dependencies: ["EmbedMappingsTool"],
            path: "Plugins/EmbedMappings"),

        // Fixture paths and golden comparisons shared by the test targets.
        .target(name: "CkptTestSupport", dependencies: ["CkptCore"], path: "Tests/CkptTestSupport"),
        .testTarget(name: "CkptCoreTests", dependencies: ["CkptCore"]),
        .testTarget(
            name: "CkptFormatsTests", dependencies: ["CkptCore", "CkptFormats", "CkptTestSupport", "CKernels"]),
        .testTarget(
            name: "CkptMappingsTests",
            dependencies: ["CKernels", "CkptCore", "CkptFormats", "CkptMappings", "CkptTableMerge", "CkptTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["ckpt", "CkptCore", "CkptFormats", "CkptTestSupport"]),
        .testTarget(name: "CkptVocabTests", dependencies: ["CkptCore", "CkptFormats", "CkptVocab", "CkptTestSupport"]),
        .testTarget(
            name: "CkptModelsTests",
            dependencies: [
                "CkptCore", "CkptFormats", "CkptMappings", "CkptModels", "CkptVocab", "CkptTestSupport", "CKernels",
            ]),
    ]
)
