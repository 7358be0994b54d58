package main

import (
	"fmt"
	"io"
	"time"
)

// progress writes an import's progress line to w: on a terminal
// rewritten in place with a carriage return every 200 ms, elsewhere a
// line a second.
type progress struct {
	w        io.Writer
	name     string
	total    int64 // the file's size in bytes; 0 if unknown
	terminal bool
	start    time.Time
	last     time.Time
	lines    int // the lines of the last line shown
}

func newProgress(w io.Writer, name string, total int64, terminal bool) *progress {
	now := time.Now()
	return &progress{w: w, name: name, total: total, terminal: terminal, start: now, last: now}
}

// update shows the progress if it is time to.
func (p *progress) update(bytes int64, lines, refused int) {
	if p == nil {
		return
	}
	every := time.Second
	if p.terminal {
		every = 200 * time.Millisecond
	}
	if now := time.Now(); now.Sub(p.last) >= every {
		p.last = now
		p.show(bytes, lines, refused)
	}
}

// show writes the progress line: the file's share and megabytes read,
// the lines, the lines per second since the start, the lines refused.
func (p *progress) show(bytes int64, lines, refused int) {
	rate := int64(0)
	if ms := time.Since(p.start).Milliseconds(); ms > 0 {
		rate = int64(lines) * 1000 / ms
	}
	done := megabytes(bytes)
	if p.total > 0 {
		done = fmt.Sprintf("%3d%% %s/%s", bytes*100/p.total, megabytes(bytes), megabytes(p.total))
	}
	msg := fmt.Sprintf("%s: %s, %d lines, %d lines/s, %d refused", p.name, done, lines, rate, refused)
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", msg)
	} else {
		fmt.Fprintln(p.w, msg)
	}
	p.lines = lines
}

// megabytes formats a size in megabytes (10^6 bytes), to one decimal,
// rounded down.
func megabytes(n int64) string {
	return fmt.Sprintf("%d.%d MB", n/1_000_000, n%1_000_000/100_000)
}

// finish shows the final figures and ends the line.
func (p *progress) finish(bytes int64, lines, refused int) {
	if p == nil || (!p.terminal && p.lines == lines) {
		return
	}
	p.show(bytes, lines, refused)
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
