import Foundation
import XCTest

/// Doubles that stress a text round trip: extremes, subnormals, signed zero, and random bit patterns.
func awkwardDoubles(count: Int) -> [Double] {
    var g = SystemRandomNumberGenerator()
    var out: [Double] = [
        1e-300, -1e-300, -0.0, 0.0, .leastNonzeroMagnitude, -Double.leastNonzeroMagnitude, 2.2250738585072014e-308,
        .greatestFiniteMagnitude,
        -.greatestFiniteMagnitude, 0.1, 1.0 / 3.0, 1e16, 123_456_789_012_345_680, -1.5, 1e-06, 1e22,
    ]
    while out.count < count {
        let x = Double(bitPattern: g.next())
        if x.isFinite { out.append(x) }
    }
    return out
}
