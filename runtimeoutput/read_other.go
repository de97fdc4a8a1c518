//go:build (!linux && !darwin) || runtimeoutput_fallback

// The runtimeoutput_fallback tag builds this fallback on Linux too, so that
// scripts/test.sh runs the package's tests against it.

package runtimeoutput

import "time"

// settle is how long the reader must have waited in Read, with everything
// before processed and nothing read since, for Take to count the output
// complete. Where pipes are not pollable (Windows) the reader cannot know
// whether Read found the pipe empty; but output the runtime wrote before it
// answered is in the pipe already, and a reader waiting in Read returns it at
// once, so a reader still waiting after settle has read it all unless it was
// not scheduled for that long. Output it missed goes to the next invocation
// (or the tail).
const settle = 10 * time.Millisecond

// Run reads until EOF, that is until every writer (usually the runtime's
// whole process group) is gone, then closes r and Done. Its caller owns it and
// must wait for it (Done).
//
// parked is set, with a notification, just before each blocking Read (all
// read before is processed) and cleared when the Read returns.
func (c *Capture) Run() {
	defer close(c.done)
	defer c.r.Close()
	buf := make([]byte, 32<<10)
	for {
		c.mu.Lock()
		c.parked = true
		c.notifyLocked()
		c.mu.Unlock()
		n, err := c.r.Read(buf)
		c.mu.Lock()
		c.parked = false
		if n > 0 {
			c.consumeLocked(buf[:n])
		}
		c.notifyLocked()
		c.mu.Unlock()
		if err != nil {
			c.finish()
			return
		}
	}
}

// pipeEmpty is called by Take with c.mu held and the reader parked. It lets
// the reader run for settle and reports whether it stayed parked without
// making progress (every step of the reader replaces c.changed). A reader
// that made progress and parked again is given another settle: Take would
// otherwise wait for a step that never comes. One that is busy will park
// again and notify Take.
func (c *Capture) pipeEmpty() bool {
	for c.parked && !c.eof {
		before := c.changed
		c.mu.Unlock()
		time.Sleep(settle)
		c.mu.Lock()
		if c.parked && c.changed == before {
			return true
		}
	}
	return c.eof // the reader ended meanwhile: nothing more comes
}
