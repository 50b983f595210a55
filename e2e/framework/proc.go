//go:build e2e

package framework

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is a background process the framework started (inside the node's
// network namespace unless started on the host). Its PID file is in the
// node's run dir in the format hack/node/node.sh uses, so `node.sh down`
// stops it too if the test process dies.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	pidFile string
	done    chan struct{}
	err     error
}

// startProcess starts argv detached (own session), logging to logs/<name>.log.
func (n *Node) startProcess(name string, hostNetns bool, env []string, argv ...string) (*Process, error) {
	if err := os.MkdirAll(n.LogDir(), 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(n.RunDir(), 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(n.LogDir(), name+".log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	fmt.Fprintf(lf, "==== %s starting: %s\n", time.Now().UTC().Format(time.RFC3339Nano), strings.Join(argv, " "))
	if !hostNetns {
		argv = append([]string{"nsenter", "--net=/run/netns/" + n.Netns, "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, pidFile: filepath.Join(n.RunDir(), name+".pid"), done: make(chan struct{})}
	st, _ := procStartTime(cmd.Process.Pid)
	if err := os.WriteFile(p.pidFile, []byte(fmt.Sprintf("%d %s\n", cmd.Process.Pid, st)), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return nil, err
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop sends SIGTERM, waits up to grace, then SIGKILLs. Safe to call twice.
func (p *Process) Stop(grace time.Duration) {
	if p == nil {
		return
	}
	defer os.Remove(p.pidFile)
	if done, _ := p.Exited(); done {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Tail returns the last n lines of the process log.
func (p *Process) Tail(n int) string { return tailFile(p.LogPath, n) }

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// procStartTime is field 22 of /proc/PID/stat, used to tell a PID we started
// from a reused one.
func procStartTime(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); field 22 is f[19].
	if len(f) < 20 {
		return "", fmt.Errorf("malformed stat")
	}
	return f[19], nil
}
