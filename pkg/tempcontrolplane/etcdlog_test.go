package tempcontrolplane

import (
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestShutdownFilter: etcd's "serving failed" errors for listeners it
// closes itself are dropped once Close starts, and only then; other errors
// always pass.
func TestShutdownFilter(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	closing := &atomic.Bool{}
	lg := zap.New(shutdownFilter{core, closing}).With(zap.String("member", "boot"))
	lg.Error(closedServeMsg, zap.String("error", "accept tcp: use of closed network connection"))
	closing.Store(true)
	lg.Error(closedServeMsg, zap.String("error", "http: Server closed"))
	lg.Error("raft: something real")
	var got []string
	for _, e := range logs.All() {
		got = append(got, e.Message)
	}
	if len(got) != 2 || got[0] != closedServeMsg || got[1] != "raft: something real" {
		t.Errorf("logged %q", got)
	}
}
