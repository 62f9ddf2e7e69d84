import RunnelCore

extension MetadataImage {
    /// The credential of `user` for mechanism `code`, if any.
    public func scramCredential(user: String, mechanism code: Int8) -> ScramCredential? {
        scramCredentials[user]?[code]
    }

    /// Users with at least one credential, sorted.
    public var scramUsers: [String] { scramCredentials.keys.sorted() }

    mutating func applyScramCredential(user: String, mechanism: Int8,
                                       credential: ScramCredential?) throws(MetadataDecodeError) {
        guard !user.isEmpty else { throw MetadataDecodeError(reason: "SCRAM credential record with an empty user name") }
        guard ScramCredential.mechanismCodes.contains(mechanism) else {
            throw MetadataDecodeError(reason: "SCRAM credential record with unknown mechanism \(mechanism)")
        }
        scramCredentials[user, default: [:]][mechanism] = credential
        if scramCredentials[user]?.isEmpty == true { scramCredentials[user] = nil }
    }

    func scramCredentialRecords() -> [MetadataRecord] {
        scramUsers.flatMap { user in
            scramCredentials[user]!.keys.sorted().map {
                MetadataRecord.scramCredential(user: user, mechanism: $0, credential: scramCredentials[user]![$0])
            }
        }
    }
}

extension ByteWriter {
    mutating func byteField(_ b: [UInt8]) {
        i32(Int32(b.count))
        bytes += b
    }

    /// Type 10: user, int8 mechanism, a presence byte, then salt, stored key, server key (each
    /// int32 length + bytes) and int32 iterations when present.
    mutating func encodeScramCredential(user: String, mechanism: Int8, credential: ScramCredential?) {
        string(user)
        u8(UInt8(bitPattern: mechanism))
        guard let credential else { return u8(0) }
        u8(1)
        byteField(credential.salt)
        byteField(credential.storedKey)
        byteField(credential.serverKey)
        i32(credential.iterations)
    }
}

extension ByteReader {
    mutating func byteField() throws(MetadataDecodeError) -> [UInt8] {
        let n = Int(try i32())
        guard n > 0, n <= ScramCredential.fieldBytesMax else { throw MetadataDecodeError(reason: "bad SCRAM field length \(n)") }
        return Array(try take(n))
    }

    mutating func decodeScramCredential() throws(MetadataDecodeError) -> MetadataRecord {
        let user = try string()
        let mechanism = Int8(bitPattern: try u8())
        switch try u8() {
        case 0: return .scramCredential(user: user, mechanism: mechanism, credential: nil)
        case 1:
            let salt = try byteField()
            let stored = try byteField()
            let server = try byteField()
            let iterations = try i32()
            guard iterations > 0 else { throw MetadataDecodeError(reason: "SCRAM credential with \(iterations) iterations") }
            return .scramCredential(user: user, mechanism: mechanism,
                                    credential: ScramCredential(salt: salt, storedKey: stored, serverKey: server,
                                                                      iterations: iterations))
        case let v: throw MetadataDecodeError(reason: "bad SCRAM credential presence flag \(v)")
        }
    }
}
