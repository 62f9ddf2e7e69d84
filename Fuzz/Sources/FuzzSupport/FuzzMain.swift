#if FUZZING
import CLibFuzzer
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The body of every fuzz target's `@main` (docs/decisions.md D80).
///
/// Built with `-Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING` (scripts/fuzz.sh), `run` hands the
/// command line to libFuzzer's driver, which calls `body` once per input. SwiftPM renames an
/// executable's `main`, so libFuzzer's own `main` cannot take over; `LLVMFuzzerRunDriver` is
/// the way in. Built without those flags, `run` feeds `body` every file named on the command
/// line (directories: every file in them), which replays a corpus or a crash artifact under a
/// debugger or in CI without the sanitizer toolchain.
///
/// `body` must return for every input. A decoding error is an answer; a trap (precondition,
/// overflow, out-of-range index, force unwrap), a hang or unbounded memory is a finding.
public enum FuzzMain {
    nonisolated(unsafe) private static var body: ((UnsafeRawBufferPointer) -> Void)?

    ///
    /// With `RUNNEL_FUZZ_WRITE_SEEDS=<dir>` in the environment, `run` instead writes `seeds()`
    /// (inputs built with the production encoders) into `<dir>` and exits: that is how the
    /// checked-in corpus of the targets whose seeds are not golden bytes is made.
    public static func run(_ name: String, seeds: () -> [(name: String, bytes: [UInt8])] = { [] },
                           _ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
        Self.body = body
        if let dir = getenv("RUNNEL_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) {
            for seed in seeds() {
                let path = dir + "/" + seed.name
                guard let file = fopen(path, "wb") else { print("cannot write \(path)"); exit(1) }
                _ = seed.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
                fclose(file)
                print("wrote \(path) (\(seed.bytes.count) bytes)")
            }
            exit(0)
        }
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzMain.runOne(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
        #else
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            print("usage: \(name) FILE_OR_DIRECTORY...  (replays inputs; build through scripts/fuzz.sh to fuzz)")
            exit(2)
        }
        var count = 0
        for path in paths {
            for file in files(at: path) {
                guard let bytes = readFile(file) else {
                    print("\(name): cannot read \(file)")
                    exit(1)
                }
                bytes.withUnsafeBytes { body($0) }
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed, none crashed")
        exit(0)
        #endif
    }

    static func runOne(_ bytes: UnsafeRawBufferPointer) { body!(bytes) }

    /// `path` itself, or the regular files directly inside it, sorted.
    static func files(at path: String) -> [String] {
        guard let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { names.append(path + "/" + name) }
        }
        return names.sorted()
    }

    public static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes.append(contentsOf: chunk[0..<n])
            if n < chunk.count { return ferror(file) == 0 ? bytes : nil }
        }
    }
}

/// Reads structured values off the front of a fuzz input (after LLVM's FuzzedDataProvider): the
/// harness asks for what it needs and gets zeros once the input runs out, so every input means
/// something and small mutations stay small.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var remaining: Int { bytes.count - position }
    public var isEmpty: Bool { remaining == 0 }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func uint16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    public mutating func bool() -> Bool { byte() & 1 == 1 }

    /// The next `count` bytes (fewer if the input ends first).
    public mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let n = min(max(count, 0), remaining)
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    /// A part whose length is the next big-endian uint16.
    public mutating func part() -> UnsafeRawBufferPointer { take(Int(uint16())) }

    /// Everything left.
    public mutating func rest() -> UnsafeRawBufferPointer { take(remaining) }
}

/// Builds seed inputs in `FuzzInput`'s format.
public enum FuzzSeed {
    /// `bytes` as a `FuzzInput.part()`: a big-endian uint16 length, then the bytes (cut to 65535).
    public static func part(_ bytes: [UInt8]) -> [UInt8] {
        let n = min(bytes.count, Int(UInt16.max))
        return [UInt8(n >> 8), UInt8(n & 0xFF)] + bytes[0..<n]
    }
}

#if FUZZING
/// libFuzzer's archive also holds its own `main`, which references this symbol; the linker pulls
/// that object in, so the symbol must exist even though `LLVMFuzzerRunDriver` is what runs.
@_cdecl("LLVMFuzzerTestOneInput")
public func llvmFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzMain.runOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#endif

/// Traps with `message` unless `condition` is true (nil, from a `try?`, counts as false): a
/// property of the code under test that failed is a finding like a crash.
public func fuzzCheck(_ condition: Bool?, _ message: @autoclosure () -> String) {
    if condition != true { fatalError(message()) }
}
