// Package ui prints progress the way every bootstrap command does:
// `[phase] message` lines with durations on stderr, data on stdout, and
// detail only with -v.
//
//	p := ui.New(os.Stdout, os.Stderr, verbosity)
//	done := p.Start("certs", "Generating the cluster PKI")
//	...
//	done() // [certs] Generating the cluster PKI: done in 0.12s
package ui

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Printer writes progress to Err and data to Out.
type Printer struct {
	Out, Err  io.Writer
	Verbosity int
	mu        sync.Mutex
}

// New returns a Printer.
func New(out, err io.Writer, verbosity int) *Printer {
	return &Printer{Out: out, Err: err, Verbosity: verbosity}
}

// Infof prints "[phase] message".
func (p *Printer) Infof(phase, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.Err, "[%s] %s\n", phase, fmt.Sprintf(format, args...))
}

// Detailf prints like Infof, only at -v 1 and above.
func (p *Printer) Detailf(phase, format string, args ...any) {
	if p.Verbosity > 0 {
		p.Infof(phase, format, args...)
	}
}

// Linef prints a pre-formatted progress line as is.
func (p *Printer) Linef(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.Err, format+"\n", args...)
}

// Start announces a step and returns a func that reports its duration.
func (p *Printer) Start(phase, what string) func() {
	start := time.Now()
	p.Infof(phase, "%s", what)
	return func() { p.Infof(phase, "%s: done in %s", what, Seconds(time.Since(start))) }
}

// Seconds formats a duration as "1.23s".
func Seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// Age formats a duration in its largest sensible unit ("364d", "5h",
// "12m", "40s"; negative: "-3d"), for columns of time left or time since.
func Age(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%s%dd", neg, int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%s%dh", neg, int(d.Hours()))
	case d >= 2*time.Minute:
		return fmt.Sprintf("%s%dm", neg, int(d.Minutes()))
	}
	return fmt.Sprintf("%s%ds", neg, int(d.Seconds()))
}
