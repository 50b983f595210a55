package tempcontrolplane

import (
	"sync/atomic"

	"go.etcd.io/etcd/client/pkg/v3/logutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// closedServeMsg is what embedded etcd logs, at error level with a stack
// trace, for each of its listeners when Close shuts them: "http: Server
// closed", "use of closed network connection". It is etcd reporting its own
// orderly shutdown; after Close starts it carries no information.
const closedServeMsg = "setting up serving from embedded etcd failed."

// etcdLogger is the boot member's logger: etcd's own configuration at
// level, stack traces only at debug, and the listener-closed errors dropped
// once closing is set.
func etcdLogger(level string, closing *atomic.Bool) (*zap.Logger, error) {
	zc := logutil.DefaultZapLoggerConfig
	zc.Level = zap.NewAtomicLevelAt(logutil.ConvertToZapLevel(level))
	zc.DisableStacktrace = level != "debug"
	lg, err := zc.Build()
	if err != nil {
		return nil, err
	}
	return lg.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return shutdownFilter{c, closing} })), nil
}

// shutdownFilter drops closedServeMsg while the member is closing.
type shutdownFilter struct {
	zapcore.Core
	closing *atomic.Bool
}

func (f shutdownFilter) With(fields []zapcore.Field) zapcore.Core {
	return shutdownFilter{f.Core.With(fields), f.closing}
}

func (f shutdownFilter) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if f.closing.Load() && e.Message == closedServeMsg {
		return ce
	}
	return f.Core.Check(e, ce)
}
