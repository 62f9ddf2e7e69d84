import ClusterMetadata
import KafkaMessages
import RunnelCore

/// What the broker that received an admin request decided about it before the request goes to
/// the active controller: go on with the items the principal may change (the refusals of the
/// others are merged into the answer), or answer at once.
///
/// The check runs on the receiving broker because a forwarded request reaches the controller
/// over the CONTROLLER listener, where the client's principal is no longer known (Kafka wraps
/// forwarded requests in an Envelope with the principal; Runnel checks first instead, D182).
enum AuthorizationGate<Request: KafkaRequest> {
    case proceed(Request, merge: (inout Request.Response) -> Void)
    case refuse(Request.Response)
}

extension Broker {
    /// `next` behind `gate`: with ACLs off the request passes untouched.
    func gated<R: KafkaRequest>(_ gate: @escaping (Broker, R, RequestContext) -> AuthorizationGate<R>,
                                _ next: @escaping (R, RequestContext, Responder<R.Response>) -> Void)
        -> (R, RequestContext, Responder<R.Response>) -> Void {
        { [unowned self] request, context, respond in
            guard authorizer.isEnabled else { return next(request, context, respond) }
            switch gate(self, request, context) {
            case .refuse(let response):
                respond.send(response)
            case .proceed(let allowed, let merge):
                let merged = Responder<R.Response>(
                    sendEncoded: { response, capacity in
                        var response = response
                        merge(&response)
                        respond.sendEncoded(response, capacity)
                    },
                    noResponse: respond.noResponse)
                next(allowed, context, merged)
            }
        }
    }

    static let authorizationFailed = "Authorization failed."

    /// CreateTopics: CREATE on the cluster, or else on each topic. A created topic's configs,
    /// partition count and replication factor are returned only with DESCRIBE_CONFIGS on it;
    /// otherwise topicConfigErrorCode says TOPIC_AUTHORIZATION_FAILED (Kafka's rule).
    static func gateCreateTopics(_ b: Broker, _ request: CreateTopicsRequest,
                                 _ context: RequestContext) -> AuthorizationGate<CreateTopicsRequest> {
        let anyTopic = b.authorizeCluster(.create, context)
        var allowed = request
        allowed.topics = request.topics.filter { anyTopic || b.authorize(.create, .topic, $0.name, context) }
        let denied = request.topics.filter { !anyTopic && !b.authorize(.create, .topic, $0.name, context) }.map {
            CreateTopicsResponse.CreatableTopicResult(name: $0.name, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue,
                                                      errorMessage: authorizationFailed)
        }
        let hiddenConfigs = Set(allowed.topics.map(\.name).filter { !b.authorize(.describeConfigs, .topic, $0, context) })
        return .proceed(allowed, merge: { response in
            for i in response.topics.indices where hiddenConfigs.contains(response.topics[i].name) {
                response.topics[i].topicConfigErrorCode = KafkaErrorCode.topicAuthorizationFailed.rawValue
                response.topics[i].configs = []
                response.topics[i].numPartitions = -1
                response.topics[i].replicationFactor = -1
            }
            response.topics += denied
        })
    }

    /// DeleteTopics: DELETE on each topic (named, or by id: an id this broker cannot resolve goes
    /// on, and the controller answers UNKNOWN_TOPIC_ID).
    static func gateDeleteTopics(_ b: Broker, _ request: DeleteTopicsRequest,
                                 _ context: RequestContext) -> AuthorizationGate<DeleteTopicsRequest> {
        func may(_ name: String?) -> Bool { name.map { b.authorize(.delete, .topic, $0, context) } ?? true }
        func resolved(_ t: DeleteTopicsRequest.DeleteTopicState) -> String? { t.name ?? b.image.topic(id: t.topicId)?.name.rawValue }
        var allowed = request
        allowed.topicNames = request.topicNames.filter { may($0) }
        allowed.topics = request.topics.filter { may(resolved($0)) }
        let code = KafkaErrorCode.topicAuthorizationFailed.rawValue
        let denied = request.topicNames.filter { !may($0) }.map {
            DeleteTopicsResponse.DeletableTopicResult(name: $0, errorCode: code, errorMessage: authorizationFailed)
        } + request.topics.filter { !may(resolved($0)) }.map {
            DeleteTopicsResponse.DeletableTopicResult(name: $0.name, topicId: $0.topicId, errorCode: code, errorMessage: authorizationFailed)
        }
        return .proceed(allowed, merge: { $0.responses += denied })
    }

    /// CreatePartitions: ALTER on each topic.
    static func gateCreatePartitions(_ b: Broker, _ request: CreatePartitionsRequest,
                                     _ context: RequestContext) -> AuthorizationGate<CreatePartitionsRequest> {
        var allowed = request
        allowed.topics = request.topics.filter { b.authorize(.alter, .topic, $0.name, context) }
        let denied = request.topics.filter { !b.authorize(.alter, .topic, $0.name, context) }.map {
            CreatePartitionsResponse.CreatePartitionsTopicResult(
                name: $0.name, errorCode: KafkaErrorCode.topicAuthorizationFailed.rawValue, errorMessage: authorizationFailed)
        }
        return .proceed(allowed, merge: { $0.results += denied })
    }

    /// ElectLeaders: ALTER on the cluster; refused as a whole (CLUSTER_AUTHORIZATION_FAILED at
    /// the top and for every partition named).
    static func gateElectLeaders(_ b: Broker, _ request: ElectLeadersRequest,
                                 _ context: RequestContext) -> AuthorizationGate<ElectLeadersRequest> {
        if b.authorizeCluster(.alter, context) { return .proceed(request, merge: { _ in }) }
        let code = KafkaErrorCode.clusterAuthorizationFailed.rawValue
        var response = ElectLeadersResponse()
        response.errorCode = code
        response.replicaElectionResults = (request.topicPartitions ?? []).map { t in
            .init(topic: t.topic, partitionResult: t.partitions.map { .init(partitionId: $0, errorCode: code, errorMessage: authorizationFailed) })
        }
        return .refuse(response)
    }

    /// InitProducerId: WRITE on the transactional id when there is one; otherwise
    /// IDEMPOTENT_WRITE on the cluster or WRITE on some topic (Kafka's rule since KIP-679).
    static func gateInitProducerId(_ b: Broker, _ request: InitProducerIdRequest,
                                   _ context: RequestContext) -> AuthorizationGate<InitProducerIdRequest> {
        var response = InitProducerIdResponse()
        response.producerId = -1
        response.producerEpoch = -1
        if let id = request.transactionalId, !id.isEmpty {
            guard b.authorize(.write, .transactionalID, id, context) else {
                response.errorCode = KafkaErrorCode.transactionalIDAuthorizationFailed.rawValue
                return .refuse(response)
            }
            return .proceed(request, merge: { _ in })
        }
        guard b.authorizeCluster(.idempotentWrite, context)
                || b.authorizer.authorizeAny(.write, .topic, context: context, image: b.image) else {
            response.errorCode = KafkaErrorCode.clusterAuthorizationFailed.rawValue
            return .refuse(response)
        }
        return .proceed(request, merge: { _ in })
    }

    /// The ACL operation and refusal for a config resource: ALTER_CONFIGS or DESCRIBE_CONFIGS
    /// on the topic (TOPIC_AUTHORIZATION_FAILED) or on the cluster for a broker resource
    /// (CLUSTER_AUTHORIZATION_FAILED). Other types go on (the handler refuses them).
    func mayConfigure(_ operation: AclOperation, type: Int8, name: String, _ context: RequestContext) -> KafkaErrorCode? {
        switch type {
        case 2: return authorize(operation, .topic, name, context) ? nil : .topicAuthorizationFailed
        case 4, 8: return authorizeCluster(operation, context) ? nil : .clusterAuthorizationFailed
        default: return nil
        }
    }

    /// The config resources the principal may alter, and the refusals of the others.
    func splitConfigResources<Item>(_ items: [Item], type: (Item) -> Int8, name: (Item) -> String,
                                    _ context: RequestContext) -> (allowed: [Item], denied: [(Item, KafkaErrorCode)]) {
        var allowed: [Item] = []
        var denied: [(Item, KafkaErrorCode)] = []
        for item in items {
            if let code = mayConfigure(.alterConfigs, type: type(item), name: name(item), context) {
                denied.append((item, code))
            } else {
                allowed.append(item)
            }
        }
        return (allowed, denied)
    }

    static func gateAlterConfigs(_ b: Broker, _ request: AlterConfigsRequest,
                                 _ context: RequestContext) -> AuthorizationGate<AlterConfigsRequest> {
        let split = b.splitConfigResources(request.resources, type: \.resourceType, name: \.resourceName, context)
        var allowed = request
        allowed.resources = split.allowed
        let denied = split.denied.map { r, code in
            AlterConfigsResponse.AlterConfigsResourceResponse(errorCode: code.rawValue, errorMessage: authorizationFailed,
                                                              resourceType: r.resourceType, resourceName: r.resourceName)
        }
        return .proceed(allowed, merge: { $0.responses += denied })
    }

    static func gateIncrementalAlterConfigs(_ b: Broker, _ request: IncrementalAlterConfigsRequest,
                                            _ context: RequestContext) -> AuthorizationGate<IncrementalAlterConfigsRequest> {
        let split = b.splitConfigResources(request.resources, type: \.resourceType, name: \.resourceName, context)
        var allowed = request
        allowed.resources = split.allowed
        let denied = split.denied.map { r, code in
            IncrementalAlterConfigsResponse.AlterConfigsResourceResponse(
                errorCode: code.rawValue, errorMessage: authorizationFailed, resourceType: r.resourceType, resourceName: r.resourceName)
        }
        return .proceed(allowed, merge: { $0.responses += denied })
    }

    /// CreateAcls: ALTER on the cluster, else every creation is refused.
    static func gateCreateAcls(_ b: Broker, _ request: CreateAclsRequest,
                               _ context: RequestContext) -> AuthorizationGate<CreateAclsRequest> {
        if b.authorizeCluster(.alter, context) { return .proceed(request, merge: { _ in }) }
        var response = CreateAclsResponse()
        response.results = request.creations.map { _ in
            .init(errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: authorizationFailed)
        }
        return .refuse(response)
    }

    /// DeleteAcls: ALTER on the cluster, else every filter is refused.
    static func gateDeleteAcls(_ b: Broker, _ request: DeleteAclsRequest,
                               _ context: RequestContext) -> AuthorizationGate<DeleteAclsRequest> {
        if b.authorizeCluster(.alter, context) { return .proceed(request, merge: { _ in }) }
        var response = DeleteAclsResponse()
        response.filterResults = request.filters.map { _ in
            .init(errorCode: KafkaErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: authorizationFailed)
        }
        return .refuse(response)
    }
}
