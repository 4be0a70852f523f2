// swift-tools-version:6.1
import Foundation
import PackageDescription

/// wgf's own builds compile the hot loops for AVX2 + FMA without runtime checks: the SIMD
/// `exp` and the kernel loops are about twice as fast (docs/performance.md, "Building").
/// SwiftPM refuses such unsafe flags in a package another package depends on by version, and
/// a dependent should not inherit a CPU requirement: when wgf is built as a dependency (its
/// checkout lives under `…/checkouts/`, where SwiftPM and Xcode put fetched packages), or
/// with WGF_PORTABLE set, it is a portable build with Swift's checks. A dependent gets the
/// speed back with `swift build -c release -Xswiftc -target-cpu -Xswiftc haswell -Xswiftc -DWGF_FMA`.
let builtAsDependency = Context.packageDirectory.contains("/checkouts/")
let portable = builtAsDependency || Context.environment["WGF_PORTABLE"] != nil
let fast: [SwiftSetting] =
    portable
    ? []
    : [
        .unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release)),
        // The vector polynomials may then use fused multiply-adds (VectorMath.multiplyAdd).
        .define("WGF_FMA", .when(configuration: .release)),
    ]

let package = Package(
    name: "wgf",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "wgf", targets: ["wgf"]),
        .library(name: "KernelSum", targets: ["KernelSum"]),
        .library(name: "Flows", targets: ["Flows"]),
        .library(name: "Scenarios", targets: ["Scenarios"]),
        .library(name: "Recording", targets: ["Recording"]),
        .library(name: "Sweeps", targets: ["Sweeps"]),
        .library(name: "Formula", targets: ["Formula"]),
        .library(name: "Plotting", targets: ["Plotting"]),
        .library(name: "Communication", targets: ["Communication"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // `swift package generate-documentation --target Flows` (and the other library modules);
        // a plugin only: nothing of it is linked into wgf.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", exact: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3",
            providers: [.apt(["libfftw3-dev"])]),
        // Open MPI: only MPICommunication imports it (see ../shared/TOOLCHAIN.md).
        .systemLibrary(
            name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(
            name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        // `wgf plot --format pdf|png`: the Plotting module draws its figures through Cairo too.
        .systemLibrary(
            name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev"])]),
        .target(
            name: "KernelSum", dependencies: ["CFFTW", "Formula", "InputText", "Communication"], swiftSettings: fast),
        .target(name: "InputText", swiftSettings: fast),
        .target(name: "Communication", swiftSettings: fast),
        .target(name: "MPICommunication", dependencies: ["CMPI", "Communication"], swiftSettings: fast),
        .target(name: "Formula", dependencies: ["InputText"], swiftSettings: fast),
        .target(
            name: "Flows", dependencies: ["KernelSum", "Formula", "InputText", "Communication"], swiftSettings: fast),
        .target(name: "Recording", dependencies: ["Flows", "CHDF5", "InputText"], swiftSettings: fast),
        .target(
            name: "Scenarios", dependencies: ["Flows", "Recording", "KernelSum", "InputText", "Communication"],
            swiftSettings: fast),
        .target(name: "Plotting", dependencies: ["Recording", "InputText", "CCairo"], swiftSettings: fast),
        // `wgf sweep`: the plan of runs, running them as child processes, the tables over seeds.
        .target(
            name: "Sweeps", dependencies: ["Scenarios", "Recording", "Flows", "InputText", "Communication"],
            swiftSettings: fast),
        .executableTarget(
            name: "wgf",
            dependencies: [
                "Scenarios", "Recording", "Flows", "KernelSum", "Plotting", "InputText", "Sweeps",
                "Communication", "MPICommunication",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: fast),
        // What the test targets share (seeded RNG, temporary directories, relative error): a
        // regular target, so that the WGF_TEST_TARGETS filter below keeps it.
        .target(name: "TestSupport", dependencies: ["Communication"], path: "Tests/TestSupport"),
        .testTarget(name: "KernelSumTests", dependencies: ["KernelSum", "CFFTW", "TestSupport"]),
        .testTarget(name: "FlowsTests", dependencies: ["Flows", "KernelSum", "Communication", "TestSupport"]),
        .testTarget(
            name: "ScenariosTests",
            dependencies: ["Scenarios", "Flows", "KernelSum", "Recording", "Communication", "TestSupport"]),
        .testTarget(name: "RecordingTests", dependencies: ["Recording", "Flows", "TestSupport"]),
        .testTarget(name: "FormulaTests", dependencies: ["Formula", "TestSupport"]),
        .testTarget(name: "CommunicationTests", dependencies: ["Communication", "MPICommunication"]),
        .testTarget(name: "InputTextTests", dependencies: ["InputText"]),
        .testTarget(
            name: "FuzzTests", dependencies: ["Scenarios", "Formula", "Recording", "Flows", "Plotting", "TestSupport"]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "Recording", "TestSupport"]),
        .testTarget(name: "SweepsTests", dependencies: ["Sweeps", "Recording", "Flows", "TestSupport"]),
        .testTarget(
            name: "CLITests", dependencies: ["wgf", "Recording", "Flows", "TestSupport"],
            resources: []),
    ]
)

// Benchmarks (package-benchmark) are opt-in so that the test command never builds them:
//   WGF_BENCHMARKS=1 swift package benchmark
if ProcessInfo.processInfo.environment["WGF_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                "KernelSum", "Flows", "Scenarios",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/EngineBenchmarks",
            swiftSettings: fast,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]))
}

// scripts/mutants.sh builds only the test targets its mutants run, in its scratch copy:
//   WGF_TEST_TARGETS=FlowsTests,KernelSumTests swift build -c release --build-tests
if let only = ProcessInfo.processInfo.environment["WGF_TEST_TARGETS"] {
    let keep = Set(only.split(separator: ",").map(String.init))
    package.targets.removeAll { $0.type == .test && !keep.contains($0.name) }
}
