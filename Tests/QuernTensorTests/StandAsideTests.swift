import QuernTensor
import Testing

/// A lane deep in a long job waits while the other busy lanes fill every
/// core, and not otherwise. Lane counts are process-wide: a daemon test
/// running meanwhile in this process may change them, so each check runs
/// only while the count is the one this test set (other tests only see
/// fewer threads per call for a moment).
@Suite struct StandAsideTests {
    @Test func aLongJobWaitsOnlyWhileTheOthersFillTheCores() {
        let cores = ComputeThreads.count
        let clock = ContinuousClock()
        let before = ComputeThreads.busyLanes
        // This lane and one other per core: the others fill the cores.
        for _ in 0...cores { ComputeThreads.laneStarted() }
        let start = clock.now
        #expect(ComputeThreads.standAside(upTo: .milliseconds(60)))
        #expect(clock.now - start >= .milliseconds(55))
        // One other lane fewer: the cores are no longer all taken.
        ComputeThreads.laneFinished()
        if before == 0 && ComputeThreads.busyLanes == cores {
            let quick = clock.now
            #expect(!ComputeThreads.standAside(upTo: .milliseconds(500)))
            #expect(clock.now - quick < .milliseconds(50))
        }
        // Nothing to give way to without a limit either.
        #expect(!ComputeThreads.standAside(upTo: .zero))
        for _ in 0..<cores { ComputeThreads.laneFinished() }
    }
}
