package daemon

import (
	"context"
	"fmt"
	"sync"
)

// Group runs tasks on goroutines under one context: the first task to
// return a non-nil error cancels the context of all of them, and Wait
// returns that error (the shape of golang.org/x/sync/errgroup, with task
// names in errors and a panic in a task turned into an error).
type Group struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// NewGroup returns a Group and the context its tasks receive, derived from
// ctx.
func NewGroup(ctx context.Context) (*Group, context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	g := &Group{ctx: ctx, cancel: cancel}
	return g, ctx
}

// Go runs f in a new goroutine. A non-nil error from f, or a panic, is
// recorded (the first one wins) as "task NAME: ERR" and cancels the group.
func (g *Group) Go(name string, f func(ctx context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			err = f(g.ctx)
		}()
		if err != nil {
			g.fail(fmt.Errorf("task %s: %w", name, err))
		}
	}()
}

func (g *Group) fail(err error) {
	g.once.Do(func() {
		g.err = err
		g.cancel(err)
	})
}

// Cancel cancels the group's context without recording an error.
func (g *Group) Cancel() { g.cancel(context.Canceled) }

// Wait waits for every task and returns the first error, then releases
// the context.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.cancel(context.Canceled)
	return g.err
}

// Done returns a channel closed when every task has returned.
func (g *Group) Done() <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(ch)
	}()
	return ch
}
