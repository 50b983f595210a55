// Package global holds what every bootstrap subcommand shares: its output
// streams and the -v level.
package global

import (
	"context"
	"errors"
	"io"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// Options are the root command's flags and streams.
type Options struct {
	Out, Err  io.Writer
	Verbosity int
}

// Printer returns a progress printer for the command's streams.
func (o *Options) Printer() *ui.Printer { return ui.New(o.Out, o.Err, o.Verbosity) }

// AssetDir checks that an --asset-dir flag was given and makes it absolute:
// paths are printed in messages and handed to processes with other working dirs.
func AssetDir(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("--asset-dir is required: the directory `bootstrap render` wrote")
	}
	return filepath.Abs(dir)
}

// SignalContext is cancelled on SIGINT or SIGTERM, so that a command stops
// cleanly (and reports where it stopped) instead of dying mid-step.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

// RunOnAssetDir is the RunE of a command that works on an asset dir until
// it is done or interrupted (start, recover, guard): it makes *dir absolute
// (AssetDir), then runs with a SignalContext.
func RunOnAssetDir(dir *string, run func(ctx context.Context) error) func(*cobra.Command, []string) error {
	return func(*cobra.Command, []string) error {
		abs, err := AssetDir(*dir)
		if err != nil {
			return err
		}
		*dir = abs
		ctx, stop := SignalContext()
		defer stop()
		return run(ctx)
	}
}
