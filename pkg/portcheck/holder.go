package portcheck

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Holder says which process listens on host:port ("kube-apiserver (pid
// 1234)"), or "" when nothing does (or the address cannot be bound for
// another reason, which the caller's own bind reports). It is for callers
// that bind with SO_REUSEPORT and would otherwise silently join such a
// listener: the kernel spreads new connections over every SO_REUSEPORT
// socket of the same UID (the temporary apiserver outside the hand-over of
// `bootstrap start` asks first).
func Holder(host string, port int) string {
	// A plain bind (no SO_REUSEPORT) fails whenever any socket listens on
	// that address or the wildcard one.
	l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err == nil {
		l.Close()
		return ""
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return "" // not ours to judge: the caller's bind reports it
	}
	inodes := listeningInodes(port)
	if pid, comm := socketOwner(inodes); pid != "" {
		return fmt.Sprintf("%s (pid %s)", comm, pid)
	}
	return fmt.Sprintf("a process this user cannot see (find it with `ss -ltnp 'sport = :%d'` as root)", port)
}

// Listening says whether any socket of this network namespace listens on
// port, on any address and under any user. It is an error when the kernel's
// socket tables cannot be read: "nothing listens" must be a reading, never a
// guess.
func Listening(port int) (bool, error) {
	inodes, read := scanListening(port)
	if read == 0 {
		return false, fmt.Errorf("cannot read /proc/net/tcp or /proc/net/tcp6 to tell whether port %d is listened on", port)
	}
	return len(inodes) > 0, nil
}

// listeningInodes are the socket inodes listening on port, from
// /proc/net/tcp and tcp6 (state 0A is LISTEN).
func listeningInodes(port int) map[string]bool {
	inodes, _ := scanListening(port)
	return inodes
}

// scanListening is listeningInodes, and how many of the tables it read.
func scanListening(port int) (map[string]bool, int) {
	inodes, read := map[string]bool{}, 0
	want := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		read++
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) > 9 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" {
				inodes[fields[9]] = true
			}
		}
	}
	return inodes, read
}

// socketOwner finds a process holding one of the socket inodes.
func socketOwner(inodes map[string]bool) (pid, comm string) {
	if len(inodes) == 0 {
		return "", ""
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err != nil {
				continue
			}
			if ino, ok := strings.CutPrefix(target, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
				name, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				return p.Name(), strings.TrimSpace(string(name))
			}
		}
	}
	return "", ""
}
