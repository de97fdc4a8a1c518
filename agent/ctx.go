package agent

import "context"

// contextWithCancelOn returns a child of parent that also ends when other does.
func contextWithCancelOn(parent, other context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	stop := context.AfterFunc(other, cancel)
	return ctx, func() { stop(); cancel() }
}
