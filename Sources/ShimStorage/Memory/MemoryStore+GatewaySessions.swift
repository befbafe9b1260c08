public import Foundation
public import ShimCore

extension MemoryStore {
    public func recordGatewaySession(key: String, owner: GatewaySessionOwner, expiresAt: Date, now: Date) -> GatewaySessionRecord {
        if let existing = gatewaySessions[key], existing.expiresAt > now, existing.owner != owner { return existing }
        let record = GatewaySessionRecord(owner: owner, expiresAt: expiresAt)
        gatewaySessions[key] = record
        return record
    }

    public func gatewaySession(key: String, now: Date) -> GatewaySessionRecord? {
        guard let record = gatewaySessions[key], record.expiresAt > now else { return nil }
        return record
    }

    public func touchGatewaySession(key: String, expiresAt: Date) {
        gatewaySessions[key]?.expiresAt = expiresAt
    }

    public func forgetGatewaySession(key: String) { gatewaySessions[key] = nil }

    public func purgeExpiredGatewaySessions(now: Date) -> Int {
        let before = gatewaySessions.count
        gatewaySessions = gatewaySessions.filter { $0.value.expiresAt > now }
        return before - gatewaySessions.count
    }
}
