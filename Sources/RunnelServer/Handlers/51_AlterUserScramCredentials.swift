import ClusterMetadata
import KafkaMessages
import Logging
import RunnelCore
import RunnelSasl

// AlterUserScramCredentials (key 51), version 0, and DescribeUserScramCredentials (key 50),
// version 0 (KIP-554). The client sends the salted password, never the password; the controller
// keeps only salt, StoredKey, ServerKey and iterations (docs/decisions.md D173). Each user's
// changes are one metadata-log write, decided against the controller's latest image; results
// come one per user, in the order users first appear in the request, as Kafka answers.
extension Broker {
    func handleAlterUserScramCredentials(_ request: AlterUserScramCredentialsRequest, _ context: RequestContext,
                                         _ respond: Responder<AlterUserScramCredentialsResponse>) {
        typealias Result = AlterUserScramCredentialsResponse.AlterUserScramCredentialsResult
        var order: [String] = []
        var changes: [String: [(mechanism: Int8, credential: ScramCredential?)]] = [:]
        var refused: [String: (KafkaErrorCode, String)] = [:]
        func note(_ user: String) { if changes[user] == nil && refused[user] == nil { order.append(user) } }
        func refuse(_ user: String, _ code: KafkaErrorCode, _ message: String) {
            note(user)
            if refused[user] == nil { refused[user] = (code, message) }
            changes[user] = nil
        }
        var seen: Set<String> = []
        for d in request.deletions {
            guard !d.name.isEmpty else { refuse(d.name, .unacceptableCredential, "Username must not be empty"); continue }
            guard ScramMechanism(rawValue: d.mechanism) != nil else {
                refuse(d.name, .unsupportedSaslMechanism, "Unknown SCRAM mechanism \(d.mechanism)"); continue
            }
            guard seen.insert("\(d.mechanism)/\(d.name)").inserted else {
                refuse(d.name, .duplicateResource, "A user credential cannot be altered twice in the same request"); continue
            }
            note(d.name)
            if refused[d.name] == nil { changes[d.name, default: []].append((d.mechanism, nil)) }
        }
        for u in request.upsertions {
            guard !u.name.isEmpty else { refuse(u.name, .unacceptableCredential, "Username must not be empty"); continue }
            guard let mechanism = ScramMechanism(rawValue: u.mechanism) else {
                refuse(u.name, .unsupportedSaslMechanism, "Unknown SCRAM mechanism \(u.mechanism)"); continue
            }
            guard seen.insert("\(u.mechanism)/\(u.name)").inserted else {
                refuse(u.name, .duplicateResource, "A user credential cannot be altered twice in the same request"); continue
            }
            guard (ScramMechanism.iterationsMin...ScramMechanism.iterationsMax).contains(u.iterations) else {
                refuse(u.name, .unacceptableCredential,
                       "Iterations \(u.iterations) not in \(ScramMechanism.iterationsMin)...\(ScramMechanism.iterationsMax)"); continue
            }
            guard !u.salt.isEmpty, u.salt.count <= 256, !u.saltedPassword.isEmpty, u.saltedPassword.count <= 256 else {
                refuse(u.name, .unacceptableCredential, "Salt and salted password must be 1 to 256 bytes"); continue
            }
            note(u.name)
            guard refused[u.name] == nil else { continue }
            changes[u.name, default: []].append((u.mechanism, ScramCredential(
                mechanism: mechanism, saltedPassword: u.saltedPassword, salt: u.salt, iterations: u.iterations)))
        }
        var response = AlterUserScramCredentialsResponse()
        forEachInOrder(order, { user, next in
            func finish(_ code: KafkaErrorCode, _ message: String?) {
                response.results.append(Result(user: user, errorCode: code.rawValue, errorMessage: message))
                next()
            }
            if let (code, message) = refused[user] { return finish(code, message) }
            let userChanges = changes[user] ?? []
            self.controlPlane.submit({ _, latest in
                var records: [MetadataRecord] = []
                for change in userChanges {
                    if change.credential == nil, latest.scramCredential(user: user, mechanism: change.mechanism) == nil {
                        return .failure(.init(.resourceNotFound, "Attempt to delete a user credential that does not exist"))
                    }
                    records.append(.scramCredential(user: user, mechanism: change.mechanism, credential: change.credential))
                }
                return .success(records)
            }) { [self] result in
                switch result {
                case .failure(let refusal): finish(refusal.code, refusal.message)
                case .success:
                    let summary = userChanges.map { "\(ScramMechanism(rawValue: $0.mechanism)!) \($0.credential == nil ? "deleted" : "set")" }
                    logger.info("SCRAM credentials of user '\(user)': \(summary.joined(separator: ", "))")
                    finish(.none, nil)
                }
            }
        }, done: { respond.send(response) })
    }

    func handleDescribeUserScramCredentials(_ request: DescribeUserScramCredentialsRequest, _ context: RequestContext,
                                            _ respond: Responder<DescribeUserScramCredentialsResponse>) {
        typealias Result = DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult
        var response = DescribeUserScramCredentialsResponse()
        response.errorMessage = nil
        func describe(_ user: String) -> Result? {
            guard let credentials = image.scramCredentials[user] else { return nil }
            return Result(user: user, errorCode: 0, errorMessage: nil, credentialInfos: credentials.keys.sorted().map {
                .init(mechanism: $0, iterations: credentials[$0]!.iterations)
            })
        }
        let wanted = request.users?.map(\.name) ?? []
        if wanted.isEmpty {
            response.results = image.scramUsers.compactMap(describe)
        } else {
            var counts: [String: Int] = [:]
            for name in wanted { counts[name, default: 0] += 1 }
            var done: Set<String> = []
            for name in wanted where done.insert(name).inserted {
                if counts[name]! > 1 {
                    response.results.append(Result(user: name, errorCode: KafkaErrorCode.duplicateResource.rawValue,
                                                   errorMessage: "Cannot describe SCRAM credentials for the same user twice in a single request"))
                } else if let result = describe(name) {
                    response.results.append(result)
                } else {
                    response.results.append(Result(user: name, errorCode: KafkaErrorCode.resourceNotFound.rawValue,
                                                   errorMessage: "Attempt to describe a user credential that does not exist"))
                }
            }
        }
        respond.send(response)
    }
}
