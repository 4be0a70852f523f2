import Foundation

/// A value computed on first use. The large data a flow or metric draws (target samples,
/// training sets, a player's particles) is made when the run first needs it, not when its
/// entry reads the scenario: validating a scenario then allocates nothing proportional to the
/// run, and the memory estimate is checked before anything large exists (``MemoryEstimate``).
public final class Deferred<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var make: (() -> Value)?
    private var stored: Value?

    /// `make` runs once, at the first read of ``value``.
    public init(_ make: @escaping () -> Value) { self.make = make }

    /// A value already at hand.
    public init(_ value: Value) { stored = value }

    /// The value, made by the first read (under a lock: threads may race to it).
    public var value: Value {
        lock.lock()
        defer { lock.unlock() }
        if let stored { return stored }
        let v = make!()
        stored = v
        make = nil
        return v
    }
}
