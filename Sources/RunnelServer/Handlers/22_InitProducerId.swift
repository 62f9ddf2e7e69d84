import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// InitProducerId (key 22), versions 0-4. Idempotent producers: a fresh producer id (epoch 0),
// ids handed out in blocks recorded in the metadata log so a restart never reuses one. v3+:
// a producer that sends its current id and epoch gets the same id with the epoch bumped
// (KIP-360); an id this cluster never issued → INVALID_PRODUCER_ID_MAPPING (49).
// Not implemented: transactional ids (transactions come later) → INVALID_REQUEST with a log line.
extension Broker {
    /// Producer ids are reserved in blocks of this many per metadata record (Kafka's block
    /// size), so an fsync is paid once per block, not per producer.
    static let producerIDBlockSize: Int64 = 1000

    /// Runs the request against this node's controller (NOT_CONTROLLER per item when it is not
    /// the active one); `RequestRouter` forwards it to the active controller first when it must.
    func handleInitProducerId(_ request: InitProducerIdRequest, _ context: RequestContext,
                              _ respond: Responder<InitProducerIdResponse>) {
        var response = InitProducerIdResponse()
        if let txn = request.transactionalId, !txn.isEmpty {
            logger.notice("InitProducerId for transactional id '\(txn)' refused: transactions are not implemented")
            response.errorCode = KafkaErrorCode.invalidRequest.rawValue
            respond.send(response)
            return
        }
        if request.producerId >= 0 && request.producerEpoch >= 0 {
            guard request.producerId < image.nextProducerID else {
                response.errorCode = KafkaErrorCode.invalidProducerIDMapping.rawValue
                respond.send(response)
                return
            }
            if request.producerEpoch < Int16.max - 1 {
                response.producerId = request.producerId
                response.producerEpoch = request.producerEpoch + 1
                respond.send(response)
                return
            }
            // Epoch exhausted: a new id, as Kafka does.
        }
        nextProducerID { [self] result in
            switch result {
            case .success(let id):
                response.producerId = id
                response.producerEpoch = 0
            case .failure(let refusal):
                logger.error("allocating a producer id: \(refusal.message)")
                response.errorCode = refusal.code == .notController ? KafkaErrorCode.notCoordinator.rawValue : KafkaErrorCode.unknownServerError.rawValue
            }
            respond.send(response)
        }
    }

    /// The next producer id; a new block is reserved through the controller when this one is
    /// used up (the record makes the reservation durable, so a restart never reuses an id).
    private func nextProducerID(_ completion: @escaping (Result<Int64, MetadataController.Refusal>) -> Void) {
        if producerIDsNext < image.nextProducerID {
            defer { producerIDsNext += 1 }
            return completion(.success(producerIDsNext))
        }
        let block = Self.producerIDBlockSize
        let box = ProducerIDBlock()
        controlPlane.submit({ controller, latest in
            let (first, record) = controller.allocateProducerIDs(count: block, in: latest)
            box.first = first
            return .success([record])
        }) { [self] result in
            switch result {
            case .failure(let refusal):
                completion(.failure(refusal))
            case .success:
                producerIDsNext = box.first
                defer { producerIDsNext += 1 }
                completion(.success(producerIDsNext))
            }
        }
    }
}

/// Carries the first id of a reserved block from the quorum's loop to the broker's.
private final class ProducerIDBlock: @unchecked Sendable {
    // @unchecked: written on the quorum loop before the completion is scheduled on the owner.
    var first: Int64 = 0
}
