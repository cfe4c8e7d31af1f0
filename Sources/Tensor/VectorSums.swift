// Vectorised sums for reductions and norms. Float additions are not reassociated by the
// compiler, so a plain `for` loop sums one element at a time; these use 16 lanes, and move
// the lanes into a Double every 4,096 elements so that no lane sums more than 256 values in
// Float (relative error stays near 1e-7 · √256 instead of growing with the plane size).

private let flushInterval = 4096

@inline(__always)
private func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
}

/// Σ p[i] for i in 0..<count.
func vectorSum(_ p: UnsafePointer<Float>, _ count: Int) -> Double {
    var total = 0.0, lanes = SIMD16<Float>(), i = 0
    while i + 16 <= count {
        lanes += load(p, i)
        i += 16
        if i % flushInterval == 0 { total += Double(lanes.sum()); lanes = .zero }
    }
    total += Double(lanes.sum())
    while i < count { total += Double(p[i]); i += 1 }
    return total
}

/// Σ (p[i] − mean)² for i in 0..<count.
func vectorSumOfSquaredDeviations(_ p: UnsafePointer<Float>, _ count: Int, mean: Float) -> Double {
    var total = 0.0, lanes = SIMD16<Float>(), i = 0
    let center = SIMD16<Float>(repeating: mean)
    while i + 16 <= count {
        let d = load(p, i) - center
        lanes += d * d
        i += 16
        if i % flushInterval == 0 { total += Double(lanes.sum()); lanes = .zero }
    }
    total += Double(lanes.sum())
    while i < count { let d = Double(p[i] - mean); total += d * d; i += 1 }
    return total
}

/// Σ a[i]·b[i] for i in 0..<count.
func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Double {
    var total = 0.0, lanes = SIMD16<Float>(), i = 0
    while i + 16 <= count {
        lanes += load(a, i) * load(b, i)
        i += 16
        if i % flushInterval == 0 { total += Double(lanes.sum()); lanes = .zero }
    }
    total += Double(lanes.sum())
    while i < count { total += Double(a[i]) * Double(b[i]); i += 1 }
    return total
}
