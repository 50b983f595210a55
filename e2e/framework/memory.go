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
)

// NodeMemory is the resident memory of everything a node runs: the
// processes in its network namespace (kubelet, containerd, host-network
// pods such as etcd and kube-apiserver) and those in its pods' cgroup root
// (every other container), each counted once.
type NodeMemory struct {
	RSSKiB    int64
	Processes int
	// Top are the largest processes, "name rss", largest first (at most 6).
	Top []string
}

func (m NodeMemory) String() string {
	return fmt.Sprintf("%d MiB in %d processes (%s)", m.RSSKiB/1024, m.Processes, strings.Join(m.Top, ", "))
}

// Memory reads /proc now.
func (n *Node) Memory() (NodeMemory, error) {
	var m NodeMemory
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
