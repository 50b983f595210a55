package portcheck

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

func TestFree(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	err = Free("127.0.0.1", port, "apiServer.bindPort")
	if err == nil || !strings.Contains(err.Error(), "in use by another process (apiServer.bindPort)") || !strings.Contains(err.Error(), "ss -ltnp") {
		t.Errorf("busy port: %v", err)
	}
	l.Close()
	if err := Free("127.0.0.1", port, "x"); err != nil {
		t.Errorf("freed port: %v", err)
	}
	if err := Free("192.0.2.1", port, "x"); err == nil || !strings.Contains(err.Error(), "not an address of this node") {
		t.Errorf("foreign address: %v", err)
	}
}

func TestHolder(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	want := fmt.Sprintf("(pid %d)", os.Getpid())
	if got := Holder("127.0.0.1", port); !strings.HasSuffix(got, want) {
		t.Errorf("Holder of our own listener = %q, want it to end in %q", got, want)
	}
	l.Close()
	if got := Holder("127.0.0.1", port); got != "" {
		t.Errorf("Holder of a free port = %q, want \"\"", got)
	}
}

func TestListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if on, err := Listening(port); err != nil || !on {
		t.Errorf("Listening(%d) with our listener = %v, %v; want true", port, on, err)
	}
	// An established connection on the port is not a listener.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l.Close()
	if on, err := Listening(port); err != nil || on {
		t.Errorf("Listening(%d) after Close = %v, %v; want false", port, on, err)
	}
}
