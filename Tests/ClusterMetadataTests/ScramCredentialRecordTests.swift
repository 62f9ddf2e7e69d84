import RunnelCore
import Testing
@testable import ClusterMetadata

@Suite struct ScramCredentialRecordTests {
    let credential = ScramCredential(salt: [1, 2, 3], storedKey: Array(repeating: 7, count: 32),
                                           serverKey: Array(repeating: 9, count: 32), iterations: 4096)

    @Test func recordsRoundTripAndApply() throws {
        let set = MetadataRecord.scramCredential(user: "alice", mechanism: 1, credential: credential)
        let removal = MetadataRecord.scramCredential(user: "alice", mechanism: 1, credential: nil)
        #expect(set.encode().first == 10)
        #expect(try MetadataRecord.decode(set.encode()) == set)
        #expect(try MetadataRecord.decode(removal.encode()) == removal)

        let image = try MetadataImage().applying([set, .scramCredential(user: "bob", mechanism: 2, credential: credential)])
        #expect(image.scramCredential(user: "alice", mechanism: 1) == credential)
        #expect(image.scramCredential(user: "alice", mechanism: 2) == nil)
        #expect(image.scramUsers == ["alice", "bob"])
        // A snapshot carries the credentials.
        let restored = try MetadataImage.decodeSnapshot(image.encodeSnapshot())
        #expect(restored.scramCredentials == image.scramCredentials)
        // Removal of a user's last credential forgets the user.
        #expect(try image.applying(removal).scramUsers == ["bob"])
    }

    @Test func badRecordsAreRefused() throws {
        let unknownMechanism = MetadataRecord.scramCredential(user: "alice", mechanism: 3, credential: credential)
        #expect(throws: MetadataDecodeError.self) { try MetadataImage().applying(unknownMechanism) }
        let noUser = MetadataRecord.scramCredential(user: "", mechanism: 1, credential: credential)
        #expect(throws: MetadataDecodeError.self) { try MetadataImage().applying(noUser) }
        var bytes = MetadataRecord.scramCredential(user: "a", mechanism: 1, credential: credential).encode()
        bytes.removeLast()
        #expect(throws: MetadataDecodeError.self) { try MetadataRecord.decode(bytes) }
    }
}
