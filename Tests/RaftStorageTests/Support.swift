import Foundation
import LogStorage
import Logging
import RaftCore
@testable import RaftStorage

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TempDirectory {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("runnel-raftstorage-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

/// Small segments so that tests roll, compact whole segments and cut tails cheaply.
let testConfig = LogConfig(segmentBytes: 4096, segmentMs: Int64.max, indexIntervalBytes: 64,
                           indexSizeMaxBytes: 1024, retentionMs: -1)

func quietLogger() -> Logger {
    var logger = Logger(label: "raftstorage.tests")
    logger.logLevel = .critical
    return logger
}

func openStorage(_ dir: String, voters: [NodeID] = []) throws -> DurableRaftStorage {
    try DurableRaftStorage.open(directory: dir, bootstrap: voters, config: testConfig, logger: quietLogger())
}

/// Entries `first...last` of one term, each with a distinct payload.
func makeEntries(_ first: UInt64, _ last: UInt64, term: UInt64, payloadBytes: Int = 12) -> [Entry] {
    (first...last).map { i in
        Entry(term: Term(term), index: LogIndex(i), kind: .normal,
              data: (0..<payloadBytes).map { UInt8(truncatingIfNeeded: i &* 31 &+ UInt64($0) &+ term) })
    }
}

/// Everything the storage holds after its snapshot.
func storedEntries(_ storage: DurableRaftStorage) throws -> [Entry] {
    guard storage.lastIndex >= storage.firstIndex else { return [] }
    return try storage.entries(in: storage.firstIndex..<(storage.lastIndex + 1), maxCount: Int.max)
}

func fileBytes(_ path: String) -> [UInt8] { [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()) }
func writeFile(_ path: String, _ bytes: [UInt8]) { try! Data(bytes).write(to: URL(fileURLWithPath: path)) }
func setFileSize(_ path: String, _ size: Int) { precondition(truncate(path, off_t(size)) == 0, "truncate \(path)") }
