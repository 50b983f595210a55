//go:build e2e

package framework

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// NodeUsage is the resident memory and CPU time of everything a node runs:
// the processes in its network namespace (kubelet, containerd, host-network
// pods such as etcd and kube-apiserver) and those in its pods' cgroup root
// (every other container), each counted once.
type NodeUsage struct {
	RSSKiB    int64
	Processes int
	// CPUTicks is the CPU time (user + system, with reaped children's) of
	// those processes so far, in clock ticks: the difference of two
	// readings over their interval is the node's CPU use.
	CPUTicks int64
	// Top are the largest processes, "name rss", largest first (at most 6).
	Top []string
}

func (m NodeUsage) String() string {
	return fmt.Sprintf("%d MiB in %d processes (%s)", m.RSSKiB/1024, m.Processes, strings.Join(m.Top, ", "))
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture this harness runs on.
const clockTicks = 100

// CPUSince is the CPU use between two readings in cores (1.0 = one core
// busy all the time).
func (m NodeUsage) CPUSince(earlier NodeUsage, interval time.Duration) float64 {
	return float64(m.CPUTicks-earlier.CPUTicks) / clockTicks / interval.Seconds()
}

// Usage reads /proc now.
func (n *Node) Usage() (NodeUsage, error) {
	var m NodeUsage
	// /run/netns/NAME is a bind mount of the namespace: its inode is the
	// one /proc/PID/ns/net names.
	var st syscall.Stat_t
	if err := syscall.Stat("/run/netns/"+n.Netns, &st); err != nil {
		return m, err
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
	cg := "/bootstrap-e2e"
	if n.Netns != DefaultNetns {
		cg += "-" + n.Netns
	}
	type proc struct {
		name string
		rss  int64
	}
	var procs []proc
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", strconv.Itoa(pid))
		ns, _ := os.Readlink(filepath.Join(dir, "ns", "net"))
		cgroups, _ := os.ReadFile(filepath.Join(dir, "cgroup"))
		if ns != want && !strings.Contains(string(cgroups), cg+"/") {
			continue
		}
		name, rss := procStatus(filepath.Join(dir, "status"))
		if rss == 0 {
			continue
		}
		procs = append(procs, proc{name, rss})
		m.CPUTicks += procCPUTicks(filepath.Join(dir, "stat"))
		m.RSSKiB += rss
		m.Processes++
	}
	for len(m.Top) < 6 && len(procs) > 0 {
		best := 0
		for i := range procs {
			if procs[i].rss > procs[best].rss {
				best = i
			}
		}
		m.Top = append(m.Top, fmt.Sprintf("%s %d MiB", procs[best].name, procs[best].rss/1024))
		procs = append(procs[:best], procs[best+1:]...)
	}
	return m, nil
}

// procCPUTicks returns utime + stime + cutime + cstime of a /proc/PID/stat
// file (fields 14-17; the command name, field 2, may hold spaces, so they
// are counted from its closing parenthesis).
func procCPUTicks(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, the state
	if len(f) < 15 {
		return 0
	}
	var sum int64
	for _, v := range f[11:15] {
		n, _ := strconv.ParseInt(v, 10, 64)
		sum += n
	}
	return sum
}

// procStatus returns the Name and VmRSS (KiB) of a /proc/PID/status file.
func procStatus(path string) (string, int64) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0
	}
	defer f.Close()
	var name string
	var rss int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		switch k {
		case "Name":
			name = strings.TrimSpace(v)
		case "VmRSS":
			rss, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return name, rss
}
