// swift-tools-version:6.0
// sluice: a single-threaded TCP/TLS reverse proxy on a speculative epoll poller.
// Dependencies point one way, downward:
//   sluice -> SluiceProxy -> {SluiceTLS, SluiceHTTP, SluiceConfig, SluiceCore} -> C shims
// The daemon's targets use Glibc only: no Foundation, no Swift concurrency.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "sluice",
    products: [
        .executable(name: "sluice", targets: ["sluice"])
    ],
    targets: [
        // C shims: headers and one-line static inline wrappers, never logic.
        .target(name: "CSluiceSys"),
        .target(
            name: "CSluiceSSL",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        .target(
            name: "CSluiceSystemd",
            linkerSettings: [.linkedLibrary("systemd")]
        ),

        // Poller, syscall wrappers, timers, buffers, logging primitives.
        .target(name: "SluiceCore", dependencies: ["CSluiceSys"], swiftSettings: swiftSettings),
        // TLS over OpenSSL: TLSContext (SSL_CTX), TLSConnection (SSL), SSL_get_error mapping, error-queue draining.
        // The one module beside SluiceProxy allowed to depend on SluiceCore; imports CSluiceSSL `internal`.
        .target(name: "SluiceTLS", dependencies: ["SluiceCore", "CSluiceSSL"], swiftSettings: swiftSettings),
        // Config text -> immutable model. No sockets, no Core.
        .target(name: "SluiceConfig", swiftSettings: swiftSettings),
        // HTTP/1.x message parser over bytes: no sockets, no Core, fuzzable on its own.
        .target(name: "SluiceHTTP", swiftSettings: swiftSettings),
        // Listeners, sessions, backends, signals, the service-manager seam.
        .target(
            name: "SluiceProxy",
            dependencies: ["SluiceCore", "SluiceConfig", "SluiceHTTP", "SluiceTLS", "CSluiceSys", "CSluiceSSL", "CSluiceSystemd"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sluice",
            dependencies: ["SluiceProxy", "SluiceConfig", "SluiceCore"],
            swiftSettings: swiftSettings
        ),

        // libFuzzer targets, run by hand (README, "Fuzzing"); a plain build makes them no-op executables.
        .executableTarget(name: "SluiceHTTPFuzz", dependencies: ["SluiceHTTP"], swiftSettings: swiftSettings),
        .executableTarget(name: "SluiceConfigFuzz", dependencies: ["SluiceConfig"], swiftSettings: swiftSettings),

        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore"], swiftSettings: swiftSettings),
        .testTarget(name: "SluiceHTTPTests", dependencies: ["SluiceHTTP"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SluiceConfigTests",
            dependencies: ["SluiceConfig"],
            // Read through #filePath, so a clean clone needs nothing else; excluded to keep SwiftPM quiet.
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceTLSTests",
            // CSluiceSSL for a digest of the transferred bytes; certificates come from Tests/Fixtures/certs.
            dependencies: ["SluiceTLS", "SluiceCore", "CSluiceSSL"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceProxyTests",
            dependencies: ["SluiceProxy", "SluiceCore", "SluiceConfig"],
            swiftSettings: swiftSettings
        ),
    ]
)
