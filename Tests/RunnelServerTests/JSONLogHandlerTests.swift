import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import RunnelServer

@Suite struct JSONLogHandlerTests {
    private func capture(_ body: (Logger) -> Void) throws -> [[String: Any]] {
        let lines = NIOLockedValueBox<[String]>([])
        var handler = JSONLogHandler(label: "runnel", write: { line in lines.withLockedValue { $0.append(line) } })
        handler.logLevel = .debug
        handler.metadata = ["node": "3"]
        body(Logger(label: "runnel", factory: { _ in handler }))
        return try lines.withLockedValue { $0 }.map { line in
            #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1, "one object per line: \(line)")
            return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    @Test func eventsCarryTimeLevelMessageAndMetadata() throws {
        let objects = try capture { logger in
            logger.info("t-0: leader in epoch 4", metadata: .partition(.init(.init("t"), .init(0)), epoch: .init(4)))
            logger.debug("quote \" backslash \\ newline \n tab \t bell \u{07} é")
            logger.trace("below the level")
        }
        #expect(objects.count == 2)
        #expect(objects[0]["level"] as? String == "info")
        #expect(objects[0]["label"] as? String == "runnel")
        #expect(objects[0]["message"] as? String == "t-0: leader in epoch 4")
        #expect(objects[0]["metadata"] as? [String: String] == ["node": "3", "topic": "t", "partition": "0", "epoch": "4"])
        #expect(objects[1]["message"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{07} é")
        #expect(objects[1]["metadata"] as? [String: String] == ["node": "3"])
        let time = try #require(objects[0]["time"] as? String)
        #expect(time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil, "\(time)")
    }

    @Test func nestedMetadataIsJSON() throws {
        let objects = try capture { logger in
            logger.notice("nested", metadata: ["isr": ["1", "2"], "sub": ["a": "b"]])
        }
        let metadata = try #require(objects.first?["metadata"] as? [String: Any])
        #expect(metadata["isr"] as? [String] == ["1", "2"])
        #expect(metadata["sub"] as? [String: String] == ["a": "b"])
    }

    @Test func formatComesFromTheEnvironment() throws {
        #expect(try RunnelLogging.format(environment: [:]) == .text)
        #expect(try RunnelLogging.format(environment: ["RUNNEL_LOG_FORMAT": "json"]) == .json)
        #expect(try RunnelLogging.format(environment: ["RUNNEL_LOG_FORMAT": "JSON"]) == .json)
        #expect(try RunnelLogging.format(environment: ["RUNNEL_LOG_FORMAT": "text"]) == .text)
        #expect(throws: ConfigError("invalid value 'yaml' for RUNNEL_LOG_FORMAT: expected text or json")) {
            try RunnelLogging.format(environment: ["RUNNEL_LOG_FORMAT": "yaml"])
        }
    }
}
