import QuernTensor
import Testing

@Suite struct CgroupCPULimitTests {
    @Test(arguments: [
        ("max 100000", nil),
        ("max 100000\n", nil),
        ("150000 100000\n", 2),
        ("100000 100000", 1),
        ("50000 100000", 1),
        ("200000 100000", 2),
        ("250000 100000", 3),
        ("400000 50000", 8),
        ("300000", 3),
        ("", nil),
        ("garbage 100000", nil),
        ("-1 100000", nil),
        ("100000 0", nil),
    ] as [(String, Int?)])
    func cpuMaxGivesWholeCPUsRoundedUp(text: String, cpus: Int?) {
        #expect(CgroupCPULimit.cpus(fromCPUMax: text) == cpus, "\(text.debugDescription)")
    }

    @Test func theUnifiedHierarchyLineGivesTheCgroupPath() {
        #expect(CgroupCPULimit.cgroupPath(fromProcSelfCgroup: "0::/system.slice/quern.service\n") == "/system.slice/quern.service")
        #expect(CgroupCPULimit.cgroupPath(fromProcSelfCgroup: "12:cpu,cpuacct:/docker/abc\n0::/\n") == "/")
        #expect(CgroupCPULimit.cgroupPath(fromProcSelfCgroup: "4:memory:/x\n1:cpu:/\n") == nil)
    }

    @Test func theAvailableCoresNeverExceedTheQuota() {
        #expect(ComputeThreads.availableCores >= 1)
        if let quota = ComputeThreads.cgroupCPULimit { #expect(ComputeThreads.availableCores <= quota) }
    }
}
