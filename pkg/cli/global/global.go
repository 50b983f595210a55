// Package global holds what every bootstrap subcommand shares: its output
// streams and the -v level.
package global

import (
	"io"

	"github.com/bootstrap-k8s/bootstrap/pkg/ui"
)

// Options are the root command's flags and streams.
type Options struct {
	Out, Err  io.Writer
	Verbosity int
}

// Printer returns a progress printer for the command's streams.
func (o *Options) Printer() *ui.Printer { return ui.New(o.Out, o.Err, o.Verbosity) }
