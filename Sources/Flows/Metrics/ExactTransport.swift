import KernelSum

/// Exact optimal transport between two discrete measures μ = Σ_i a_i δ_{x_i} and ν = Σ_j b_j
/// δ_{y_j} for the squared Euclidean cost,
///
///     W₂²(μ, ν) = min_{π ≥ 0, π𝟙 = a, πᵀ𝟙 = b} Σ_ij π_ij |x_i − y_j|²,
///
/// by successive shortest augmenting paths (the primal–dual method of the transportation
/// problem; for uniform weights and n = m it is the Hungarian method). Node potentials keep
/// every residual arc's reduced cost non-negative, so each phase is one Dijkstra search from
/// the first source with supply left to the nearest sink with demand left, over the complete
/// bipartite graph (forward arcs i → j of cost C_ij, backward arcs j → i of cost −C_ij where
/// π_ij > 0); the path then carries as much as its start's supply, its end's demand and its
/// backward arcs allow, so each augmentation exhausts one of them exactly. The coupling found
/// is optimal: its cost equals the LP optimum (that of a network simplex, POT's `ot.emd2`) up
/// to rounding in the sums.
///
/// Cost: at most O((n + m)² + n·m) per phase (a dense search, stopped at the first sink with
/// demand: early phases stop after a row), a phase per augmentation, about n + m augmentations:
/// O((n + m)·(n + m)²) time at worst, and two n × m matrices (costs, coupling) of memory.
public enum ExactTransport {
    /// The largest n·m accepted (two matrices of 8·n·m bytes: 1.6 GB).
    public static let maximumPairs = 100_000_000

    /// W₂² between `x` (n points, row-major n × d) with weights `a` and `y` (m points) with
    /// weights `b`. Each side's weights are normalised to total 1 (they must be ≥ 0 with a
    /// positive total); points are finite. +∞ when a squared distance overflows (a metric's
    /// non-finite value stops a run as diverged: never a wrong finite one).
    public static func squaredW2(x: [Double], a: [Double], y: [Double], b: [Double], dimension d: Int) -> Double {
        let n = a.count
        let m = b.count
        precondition(x.count == n * d && y.count == m * d && n > 0 && m > 0, "ExactTransport: shapes")
        precondition(n.multipliedReportingOverflow(by: m).partialValue <= maximumPairs, "ExactTransport: too large")
        let totalA = a.reduce(0, +)
        let totalB = b.reduce(0, +)
        precondition(totalA > 0 && totalB > 0 && a.allSatisfy { $0 >= 0 } && b.allSatisfy { $0 >= 0 })
        var cost = [Double](repeating: 0, count: n * m)
        for i in 0..<n {
            for j in 0..<m {
                var c = 0.0
                for k in 0..<d {
                    let t = x[i * d + k] - y[j * d + k]
                    c += t * t
                }
                cost[i * m + j] = c
            }
        }
        guard let coupling = solve(cost: cost, supply: a.map { $0 / totalA }, demand: b.map { $0 / totalB }) else {
            return .infinity
        }
        var total = 0.0
        for k in 0..<(n * m) where coupling[k] > 0 { total += coupling[k] * cost[k] }
        return max(0, total)
    }

    /// An optimal coupling (row-major n × m) for the cost matrix `cost` (n × m, non-negative)
    /// between `supply` (n) and `demand` (m), of equal totals up to rounding.
    /// The simplex works on the costs divided by the largest (so its potentials stay of the order
    /// of n + m whatever the points' scale: their rounding does not grow with it); nil when a
    /// cost is not finite (points so far apart that a squared distance overflows).
    static func solve(cost: [Double], supply: [Double], demand: [Double]) -> [Double]? {
        let largest = cost.max() ?? 0
        guard largest.isFinite else { return nil }
        let scaled = largest > 0 ? cost.map { $0 / largest } : cost
        var simplex = TransportSimplex(cost: scaled, supply: supply, demand: demand)
        simplex.run()
        return Array(simplex.flow[0..<(supply.count * demand.count)])
    }
}

/// The primal network simplex on the transportation network: sources 0..<n (supply a_i), sinks
/// n..<n+m (demand b_j), a root joined to every node by an artificial arc of cost 0 (from a
/// source) or of a cost above any path's (to a sink), and the n·m arcs i → n + j of cost C_ij.
///
/// The basis is a spanning tree rooted at the root: per node its parent, the tree arc to it
/// (`up`: the arc runs from the node to its parent), its depth, and its children as a doubly
/// linked list; potentials π make every tree arc's reduced cost c + π(tail) − π(head) zero. A
/// pivot takes the non-tree arc of most negative reduced cost within a block of arcs (searched
/// in turn), pushes flow around the cycle it closes, and drops the cycle's blocking arc chosen
/// as the last one met going round from the cycle's apex (Cunningham's rule: the tree stays
/// strongly feasible, so degenerate pivots cannot cycle); the subtree that changes side is
/// re-hung and its depths and potentials shifted. It stops when no arc has a negative reduced
/// cost, beyond rounding: the flow is then optimal.
struct TransportSimplex {
    let n: Int, m: Int
    let cost: [Double]
    /// Flow per arc: the n·m real arcs, then one artificial arc per node.
    var flow: [Double]
    var inTree: [Bool]
    let root: Int
    /// The artificial arc of node u runs from u to the root (a source) or from the root to u.
    var artificialFromNode: [Bool]
    var artificialCost: Double
    var parent: [Int], treeArc: [Int], up: [Bool], depth: [Int], potential: [Double]
    var firstChild: [Int], nextSibling: [Int], previousSibling: [Int]
    /// The walk of a re-hung subtree, kept between pivots (no allocation per pivot).
    var stack: [Int] = []

    init(cost: [Double], supply: [Double], demand: [Double]) {
        n = supply.count
        m = demand.count
        self.cost = cost
        root = n + m
        let nodes = n + m + 1
        let arcs = n * m
        flow = [Double](repeating: 0, count: arcs + n + m)
        inTree = [Bool](repeating: false, count: arcs + n + m)
        artificialFromNode = [Bool](repeating: true, count: n + m)
        // Above the cost of any path through the real arcs.
        artificialCost = ((cost.max() ?? 0) + 1) * Double(nodes)
        parent = [Int](repeating: -1, count: nodes)
        treeArc = [Int](repeating: -1, count: nodes)
        up = [Bool](repeating: true, count: nodes)
        depth = [Int](repeating: 0, count: nodes)
        potential = [Double](repeating: 0, count: nodes)
        firstChild = [Int](repeating: -1, count: nodes)
        nextSibling = [Int](repeating: -1, count: nodes)
        previousSibling = [Int](repeating: -1, count: nodes)
        // The first basis: every node a child of the root through its artificial arc.
        for u in 0..<(n + m) {
            let arc = arcs + u
            inTree[arc] = true
            parent[u] = root
            treeArc[u] = arc
            depth[u] = 1
            if u < n {
                up[u] = true
                flow[arc] = supply[u]
                potential[u] = 0  // 0 + π(u) − π(root) = 0
            } else {
                artificialFromNode[u] = false
                up[u] = false
                flow[arc] = demand[u - n]
                potential[u] = artificialCost  // c + π(root) − π(u) = 0
            }
            link(u, under: root)
        }
    }

    // MARK: Arcs

    func tail(_ arc: Int) -> Int {
        if arc < n * m { return arc / m }
        let u = arc - n * m
        return artificialFromNode[u] ? u : root
    }

    func head(_ arc: Int) -> Int {
        if arc < n * m { return n + arc % m }
        let u = arc - n * m
        return artificialFromNode[u] ? root : u
    }

    func arcCost(_ arc: Int) -> Double {
        if arc < n * m { return cost[arc] }
        return artificialFromNode[arc - n * m] ? 0 : artificialCost
    }

    // MARK: The tree's child lists

    mutating func link(_ u: Int, under p: Int) {
        let first = firstChild[p]
        nextSibling[u] = first
        previousSibling[u] = -1
        if first >= 0 { previousSibling[first] = u }
        firstChild[p] = u
    }

    mutating func unlink(_ u: Int) {
        let p = parent[u]
        let before = previousSibling[u]
        let after = nextSibling[u]
        if before >= 0 { nextSibling[before] = after } else { firstChild[p] = after }
        if after >= 0 { previousSibling[after] = before }
        nextSibling[u] = -1
        previousSibling[u] = -1
    }

    // MARK: Pivots

    mutating func run() {
        let arcs = n * m
        let block = max(Int(Double(arcs).squareRoot()), 16)
        var next = 0
        while true {
            // Block search: the most negative reduced cost among `block` arcs in turn; a whole
            // round without one means the flow is optimal.
            var entering = -1
            var scanned = 0
            while scanned < arcs && entering < 0 {
                var best = 0.0
                let stop = min(scanned + block, arcs)
                while scanned < stop {
                    let e = next
                    next += 1
                    if next == arcs { next = 0 }
                    scanned += 1
                    if inTree[e] { continue }
                    let i = e / m
                    let j = n + e % m
                    let reduced = cost[e] + potential[i] - potential[j]
                    // Rounding in the potentials (which reach the artificial cost) is not a gain.
                    let noise = 16 * max(abs(cost[e]), abs(potential[i]), abs(potential[j])).ulp
                    if reduced < best && reduced < -noise {
                        best = reduced
                        entering = e
                    }
                }
            }
            guard entering >= 0 else { return }
            pivot(entering)
        }
    }

    mutating func pivot(_ entering: Int) {
        // The cycle: the entering arc from `first` to `second`, then up from `second` to the apex
        // and down to `first`. Along first's path the tree arcs pointing up are crossed
        // backwards (their flow bounds the push); along second's, those pointing down.
        let first = tail(entering)
        let second = head(entering)
        var a = first
        var b = second
        while a != b {
            if depth[a] >= depth[b] { a = parent[a] } else { b = parent[b] }
        }
        let apex = a
        var delta = Double.infinity
        var leaving = -1  // the node whose tree arc leaves
        var onFirstSide = true
        var u = first
        while u != apex {
            if up[u] && flow[treeArc[u]] < delta {
                delta = flow[treeArc[u]]
                leaving = u
            }
            u = parent[u]
        }
        u = second
        while u != apex {
            // `<=`: of equally blocking arcs, the last one going round from the apex.
            if !up[u] && flow[treeArc[u]] <= delta {
                delta = flow[treeArc[u]]
                leaving = u
                onFirstSide = false
            }
            u = parent[u]
        }
        precondition(leaving >= 0, "TransportSimplex: no blocking arc (the problem would be unbounded)")
        if delta > 0 {
            flow[entering] += delta
            u = first
            while u != apex {
                flow[treeArc[u]] += up[u] ? -delta : delta
                u = parent[u]
            }
            u = second
            while u != apex {
                flow[treeArc[u]] += up[u] ? delta : -delta
                u = parent[u]
            }
        }
        let leavingArc = treeArc[leaving]
        flow[leavingArc] = 0
        inTree[leavingArc] = false
        inTree[entering] = true
        // Re-hang the stem, from the entering arc's end on the leaving side up to `leaving`.
        let (stemStart, newParent) = onFirstSide ? (first, second) : (second, first)
        var child = stemStart
        var arc = entering
        var arcUp = child == tail(entering)
        var newParentOfChild = newParent
        while true {
            let oldParent = parent[child]
            let oldArc = treeArc[child]
            let oldUp = up[child]
            unlink(child)
            parent[child] = newParentOfChild
            treeArc[child] = arc
            up[child] = arcUp
            link(child, under: newParentOfChild)
            if child == leaving { break }
            // The next stem node hangs from this one through this one's old arc, turned over.
            newParentOfChild = child
            arc = oldArc
            arcUp = !oldUp
            child = oldParent
        }
        // Depths and potentials of the subtree now under the entering arc.
        let c = arcCost(entering)
        let shift =
            stemStart == tail(entering)
            ? potential[newParent] - c - potential[stemStart]  // c + π(start) − π(parent) = 0
            : potential[newParent] + c - potential[stemStart]  // c + π(parent) − π(start) = 0
        stack.removeAll(keepingCapacity: true)
        stack.append(stemStart)
        depth[stemStart] = depth[newParent] + 1
        while let v = stack.popLast() {
            potential[v] += shift
            var w = firstChild[v]
            while w >= 0 {
                depth[w] = depth[v] + 1
                stack.append(w)
                w = nextSibling[w]
            }
        }
    }
}
