// swift-tools-version:6.0
import PackageDescription

// One set of settings for every target: Swift 6 language mode with strict concurrency.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "cvault",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CustomerVault", targets: ["CustomerVault"]),
        .library(name: "VaultCrypto", targets: ["VaultCrypto"]),
        .library(name: "VaultCore", targets: ["VaultCore"]),
        .executable(name: "cvault", targets: ["cvault"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "VaultCrypto",
            dependencies: ["CSodium"],
            swiftSettings: swiftSettings
        ),
        // Schema, policy, sealing, record integrity, CSV, errors: everything that needs no storage.
        .target(
            name: "VaultCore",
            dependencies: [
                "VaultCrypto",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // The storage seam: the protocols the services use, over the vault's aggregates.
        .target(
            name: "VaultStore",
            dependencies: ["VaultCore"],
            swiftSettings: swiftSettings
        ),
        // The SQLite store: the one place that imports GRDB and writes SQL (issue #19 moves it here).
        .target(
            name: "VaultSQLite",
            dependencies: [
                "VaultCore",
                "VaultStore",
                "VaultCrypto",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The system SQLite GRDB links: the bulk paths bind values through its C API.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CustomerVault",
            dependencies: [
                "VaultCore",
                "VaultStore",
                // Only to open and create vault files; the services speak VaultStore's protocols.
                "VaultSQLite",
                "VaultCrypto",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "cvault",
            dependencies: [
                "CustomerVault",
                "VaultCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks only; not a product. Run through Benchmarks/run.
        .executableTarget(
            name: "cvault-bench",
            dependencies: ["CustomerVault", "VaultCrypto", "VaultStore", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/Sources/cvault-bench",
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets.
        .target(
            name: "VaultTestSupport",
            path: "Tests/VaultTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VaultCryptoTests",
            dependencies: ["VaultCrypto"],
            swiftSettings: swiftSettings
        ),
        // The vault file as an attacker sees it, for the attack tests: the one place outside the
        // SQLite store that speaks SQL (StorageBoundaryTests exempts it by path).
        .target(
            name: "VaultFileInspector",
            dependencies: ["VaultSQLite", "VaultStore", "VaultCore", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/VaultFileInspector",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CustomerVaultTests",
            dependencies: ["CustomerVault", "VaultCrypto", "VaultTestSupport", "VaultSQLite", "VaultFileInspector"],
            swiftSettings: swiftSettings
        ),
        // The behavioural checks any store must pass (run by each store's own tests).
        .target(
            name: "VaultStoreConformance",
            dependencies: ["VaultStore", "VaultCore", "VaultCrypto"],
            path: "Tests/VaultStoreConformance",
            swiftSettings: swiftSettings
        ),
        // The SQLite store's own tests: they may speak SQL.
        .testTarget(
            name: "VaultSQLiteTests",
            dependencies: ["VaultSQLite", "VaultStore", "VaultCore", "VaultStoreConformance", "VaultTestSupport", "VaultFileInspector",
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["cvault", "CustomerVault", "VaultCrypto", "VaultTestSupport", "VaultSQLite", "VaultFileInspector"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, only when asked for (`scripts/fuzz` sets CVAULT_FUZZ=1 and builds with
// --sanitize=fuzzer): without the fuzzer's runtime this executable has no `main`.
if Context.environment["CVAULT_FUZZ"] == "1" {
    package.targets.append(.executableTarget(
        name: "cvault-fuzz",
        dependencies: ["CustomerVault"],
        swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]
    ))
}
