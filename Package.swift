// swift-tools-version: 6.3
// ucwa-eventd — a systemd-native UCWA event-channel daemon. Targets follow DESIGN.md §2.
import PackageDescription

import class Foundation.ProcessInfo

let environment = ProcessInfo.processInfo.environment

/// Settings every Swift target shares: Swift 6 mode (strict concurrency) plus the upcoming
/// features that keep the surface explicit.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The decoder is generic over its token handler; aggressive cross-module optimisation lets the
/// UCWA module and the executable specialise it for their handlers instead of calling through
/// witness tables (Benchmarks/README.md has the gain). It serialises `public` declarations only
/// (`package` ones are not, without library evolution), which is why these two modules keep
/// `public` where other modules use them. Release builds only; see the Makefile for the
/// incremental-build caveat.
let decoderSettings: [SwiftSetting] =
    strictSettings + [
        .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))
    ]

var package = Package(
    name: "ucwa-eventd",
    products: [
        .executable(name: "ucwa-eventd", targets: ["ucwa-eventd"]),
        .executable(name: "ucwa-sim", targets: ["ucwa-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .target(
            name: "StreamingJSON",
            swiftSettings: decoderSettings
        ),
        .target(
            name: "UCWA",
            dependencies: ["StreamingJSON", "Loopback"],
            swiftSettings: decoderSettings
        ),
        .target(
            name: "Locking",
            swiftSettings: strictSettings
        ),
        .target(
            name: "Loopback",
            swiftSettings: strictSettings
        ),
        // The one system-call layer: swift-system's FileDescriptor and Errno, plus the calls it
        // lacks (fsync, rename, mkdir, poll, kill, ...) wrapped the same way. Above it, no code
        // reads errno or loops on EINTR.
        .target(
            name: "SystemCalls",
            dependencies: [.product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CurlHTTP",
            dependencies: ["CCurl", "Locking", "Loopback"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Eventd",
            dependencies: [
                "UCWA", "StreamingJSON", "CurlHTTP", "CSystemd", "Locking", "SystemCalls",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "UCWASimulator",
            dependencies: [
                "StreamingJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "ucwa-sim",
            dependencies: [
                "UCWASimulator", "SystemCalls",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "UCWACorpus",
            dependencies: ["UCWA"],
            swiftSettings: strictSettings
        ),
        // The production binary carries only the daemon: `demo` starts `ucwa-sim` as a child
        // process instead of linking UCWASimulator, which brought SwiftNIO into it (the sizes
        // are in Benchmarks/README.md).
        .executableTarget(
            name: "ucwa-eventd",
            dependencies: [
                "StreamingJSON",
                "UCWA",
                "Eventd",
                "SystemCalls",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings,
            // The executable answers libdispatch's setpriority() itself (DaemonSupport.swift), so
            // that the units' seccomp filter denies nothing; gold does not export the definition
            // on its own (libdispatch's reference carries the GLIBC_2.2.5 version).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic-symbol=setpriority"])]
        ),
        // What the test targets share: paths, child processes, waiting, a clock the test
        // advances, the simulator's account for `run` (as hummingbird ships HummingbirdTesting).
        .target(
            name: "UCWATestSupport",
            dependencies: ["UCWASimulator", "SystemCalls", "Locking"],
            path: "Tests/UCWATestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StreamingJSONTests",
            dependencies: [
                "StreamingJSON", "UCWA", "UCWATestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "UCWATests",
            dependencies: ["UCWA", "UCWACorpus", "StreamingJSON", "Loopback", "UCWATestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SystemLibraryTests",
            dependencies: ["CCurl", "CSystemd"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ClientTests",
            dependencies: [
                "CurlHTTP", "Eventd", "Locking", "UCWA", "UCWASimulator", "StreamingJSON", "UCWATestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SystemCallsTests",
            dependencies: [
                "SystemCalls", "Locking", "UCWATestSupport",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LockingTests",
            dependencies: ["Locking", "UCWATestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "CurlHTTP", "Eventd", "Locking", "UCWA", "UCWASimulator", "StreamingJSON", "SystemCalls",
                "UCWATestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CommandTests",
            dependencies: [
                "ucwa-eventd", "ucwa-sim", "UCWA", "UCWASimulator", "StreamingJSON", "UCWATestSupport", "SystemCalls",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)

// libFuzzer targets: only when FUZZING=1 (`make fuzz`), so that normal builds and tests never
// compile them. Their code is also guarded by `#if FUZZING`.
if environment["FUZZING"] == "1" {
    package.targets.append(
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport", swiftSettings: strictSettings + [.define("FUZZING")])
    )
    package.targets.append(
        .executableTarget(
            name: "FuzzTokenizer",
            dependencies: ["FuzzSupport", "StreamingJSON"],
            path: "Fuzz/FuzzTokenizer",
            swiftSettings: strictSettings + [.define("FUZZING")]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "FuzzConfiguration",
            dependencies: ["FuzzSupport", "Eventd"],
            path: "Fuzz/FuzzConfiguration",
            swiftSettings: strictSettings + [.define("FUZZING")]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "FuzzBatchDecoder",
            dependencies: ["FuzzSupport", "UCWA"],
            path: "Fuzz/FuzzBatchDecoder",
            swiftSettings: strictSettings + [.define("FUZZING")]
        )
    )
}

// ordo-one/benchmark lengthens a cold build a lot (Benchmarks/README.md): it is part of the
// package only with BENCHMARKS=1 (`make bench`).
if environment["BENCHMARKS"] == "1" {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .target(
            name: "BenchmarkSupport",
            dependencies: ["StreamingJSON", "UCWA", "UCWACorpus"],
            path: "Benchmarks/BenchmarkSupport",
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "DecoderBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                "FoundationBaseline",
                "StreamingJSON",
                "UCWA",
                "UCWACorpus",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/DecoderBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "DecoderProfile",
            dependencies: ["BenchmarkSupport", "StreamingJSON", "UCWA", "UCWACorpus"],
            path: "Benchmarks/DecoderProfile",
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    )
    package.targets.append(
        .target(
            name: "FoundationBaseline",
            path: "Benchmarks/FoundationBaseline",
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "FoundationDriver",
            dependencies: ["BenchmarkSupport", "FoundationBaseline"],
            path: "Benchmarks/FoundationDriver",
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "DecoderDriver",
            dependencies: ["BenchmarkSupport", "StreamingJSON", "UCWA"],
            path: "Benchmarks/DecoderDriver",
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    )
}
