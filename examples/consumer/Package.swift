// swift-tools-version:6.1
// A package that uses wgf as a library: one kernel sum, one scenario run, in-process.
// Here it depends on this checkout by path; in your own package depend on wgf's repository
// by version, e.g. `.package(url: "https://example.org/wgf.git", from: "0.2.0")`.
// scripts/test-consumer.sh builds it that way (a tagged clone, fetched by version), which is
// where SwiftPM refuses packages with unsafe build flags.
import PackageDescription

let package = Package(
    name: "consumer",
    dependencies: [.package(name: "wgf", path: "../..")],
    targets: [
        .executableTarget(
            name: "consumer",
            dependencies: [
                .product(name: "KernelSum", package: "wgf"),
                .product(name: "Flows", package: "wgf"),
                .product(name: "Scenarios", package: "wgf"),
                .product(name: "Formula", package: "wgf"),
            ])
    ]
)
