import Foundation
import RunnelTesting
import Testing

/// `RUNNEL_LOG_FORMAT`: today's text lines by default, one JSON object per line with `json`, the
/// events' key=value fields as metadata.
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct LogFormatIntegrationTests {
    private func runAndStop(environment: [String: String]) throws -> String {
        let broker = try BrokerProcess()
        broker.environment = environment
        defer {
            broker.stop()
            broker.dataDirectory.remove()
        }
        try broker.start()
        #expect(broker.stop() == 0)
        return broker.log
    }

    @Test func jsonFormatWritesOneObjectPerLineWithMetadata() throws {
        let log = try runAndStop(environment: ["RUNNEL_LOG_FORMAT": "json"])
        let lines = log.split(separator: "\n").map(String.init)
        #expect(lines.count >= 4, "\(log)")
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            #expect(object["time"] is String && object["level"] is String && object["message"] is String, "\(line)")
            #expect(object["metadata"] is [String: Any], "\(line)")
            objects.append(object)
        }
        let registered = try #require(objects.first { ($0["message"] as? String)?.hasPrefix("registered with the controller") == true })
        #expect(registered["message"] as? String == "registered with the controller: broker 1, epoch 0")
        let metadata = try #require(registered["metadata"] as? [String: String])
        #expect(metadata == ["broker": "1", "epoch": "0"])
        #expect(registered["level"] as? String == "info")
        let time = try #require(registered["time"] as? String)
        #expect(time.count == 24 && time.hasSuffix("Z"), "\(time)")
        #expect(objects.contains { $0["message"] as? String == "stopped cleanly" })
    }

    @Test func textIsTheDefaultFormat() throws {
        let log = try runAndStop(environment: ["RUNNEL_LOG_FORMAT": ""])
        #expect(!log.isEmpty)
        #expect(!log.contains("{\"time\""))
        #expect(log.contains("info runnel: broker=1 epoch=0 [RunnelServer] registered with the controller: broker 1, epoch 0"), "\(log)")
        #expect(log.contains(" info runnel: [RunnelServer] stopped cleanly"))
    }

    @Test func unknownFormatIsRefused() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["RUNNEL_LOG_FORMAT"] = "xml"
        let result = try runProcess(RunnelBinary.brokerPath, ["broker"], environment: environment, timeoutSeconds: 30)
        #expect(result.status == 2)
        #expect(result.stderr.contains("invalid value 'xml' for RUNNEL_LOG_FORMAT"))
    }
}
