//go:build e2e

package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RunBootstrap runs `bootstrap ARGS...` in the node's netns (logging to
// LogDir()/<name>.log) and waits up to timeout for it to exit. It returns the
// wall time from just before the process is started to its exit, the
// process (log, Rusage) and its exit error. Both start and recover are run
// this way, so the benchmark measures them the same way.
func (n *Node) RunBootstrap(t testing.TB, name string, timeout time.Duration, args ...string) (time.Duration, *Process, error) {
	t.Helper()
	bin := BootstrapBinary(t)
	begin := time.Now()
	p := n.Start(t, fmt.Sprintf("%s-%d", name, begin.UnixNano()), append([]string{bin}, args...)...)
	// The exit time is taken when Wait returns, not when the poll below notices.
	exitedAt := make(chan time.Time, 1)
	go func() { <-p.done; exitedAt <- time.Now() }()
	var exitErr error
	WaitT(t, "bootstrap "+args[0]+" to exit", timeout, func(context.Context) (bool, string, error) {
		done, err := p.Exited()
		exitErr = err
		return done, p.Tail(3), nil
	})
	elapsed := (<-exitedAt).Sub(begin)
	t.Logf("bootstrap %s exited (%v) after %s; log:\n%s", args[0], exitErr, elapsed.Round(10*time.Millisecond), p.Tail(40))
	return elapsed, p, exitErr
}

// Rusage is the resource usage of the exited process (nil while it runs).
// Processes in the netns run as `nsenter --net=... -- CMD`, and nsenter execs
// CMD in place (it forks only to enter a PID namespace): the PID is the
// command's, and ru_maxrss — the peak RSS over the PID's life, the larger of
// nsenter's few MiB and the command's — is the command's peak. Children the
// command waited for count too (bootstrap starts none).
func (p *Process) Rusage() *syscall.Rusage {
	if done, _ := p.Exited(); !done || p.cmd.ProcessState == nil {
		return nil
	}
	ru, _ := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return ru
}

// PeakRSSKiB is ru_maxrss of the exited process in KiB (0 while it runs).
func (p *Process) PeakRSSKiB() int64 {
	if ru := p.Rusage(); ru != nil {
		return ru.Maxrss
	}
	return 0
}

// Exe is the basename of /proc/PID/exe while the process runs (e.g. to check
// that nsenter has exec'd the command); "" once it has exited.
func (p *Process) Exe() string {
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.Pid()))
	if err != nil {
		return ""
	}
	return filepath.Base(strings.TrimSuffix(l, " (deleted)"))
}
