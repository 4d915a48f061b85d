package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// seenBatcher sends the webhook's per-message call (MarkSeenAndGet) of
// many concurrent requests in one pipeline: one write and one read
// syscall for a batch instead of one pair per message. Calls wait only
// for the batch in flight; with a single caller a batch is that one call.
type seenBatcher struct {
	s       *Store
	ch      chan *seenCall
	stop    chan struct{}
	wg      sync.WaitGroup
	maxSize int
	once    sync.Once
	closed  atomic.Bool
}

type seenCall struct {
	ctx   context.Context
	seen  string
	sess  string
	ttl   time.Duration
	first bool
	val   []byte
	err   error
	done  chan struct{}
}

// batchWorkers run batches in parallel (one in flight each).
const batchWorkers = 4

func newSeenBatcher(s *Store) *seenBatcher {
	b := &seenBatcher{s: s, ch: make(chan *seenCall, 1024), stop: make(chan struct{}), maxSize: 128}
	for i := 0; i < batchWorkers; i++ {
		b.wg.Add(1)
		go b.run()
	}
	return b
}

// close stops the workers once; later calls go straight to the (closed)
// client and fail like every other operation after Close.
func (b *seenBatcher) close() {
	b.once.Do(func() {
		b.closed.Store(true)
		close(b.stop)
		b.wg.Wait()
		for { // answer calls that were queued but not sent
			select {
			case c := <-b.ch:
				c.first, c.val, c.err = b.s.markSeenAndGetDirect(c.ctx, c.seen, c.ttl, c.sess)
				close(c.done)
			default:
				return
			}
		}
	})
}

func (b *seenBatcher) run() {
	defer b.wg.Done()
	batch := make([]*seenCall, 0, b.maxSize)
	for {
		select {
		case <-b.stop:
			return
		case c := <-b.ch:
			batch = append(batch[:0], c)
		}
	drain:
		for len(batch) < b.maxSize {
			select {
			case c := <-b.ch:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		b.exec(batch)
	}
}

// exec runs a batch as one pipeline; a call whose script the server does
// not know (a restarted or flushed Redis) is retried on its own, which
// loads the script.
func (b *seenBatcher) exec(batch []*seenCall) {
	ctx, cancel := context.WithTimeout(context.Background(), b.s.timeout)
	defer cancel()
	cmds := make([]*redis.Cmd, len(batch))
	pipe := b.s.c.Pipeline()
	for i, c := range batch {
		cmds[i] = markSeenAndGetScript.EvalSha(ctx, pipe, []string{b.s.p + "seen:" + c.seen, b.s.p + "sess:" + c.sess}, c.ttl.Milliseconds())
	}
	pipe.Exec(ctx) // errors are read per command below
	for i, c := range batch {
		err := cmds[i].Err()
		if err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			c.first, c.val, c.err = b.s.markSeenAndGetDirect(c.ctx, c.seen, c.ttl, c.sess)
			close(c.done)
			continue
		}
		c.first, c.val, c.err = decodeSeen(cmds[i])
		close(c.done)
	}
}

func decodeSeen(cmd *redis.Cmd) (bool, []byte, error) {
	res, err := cmd.Slice()
	if err != nil {
		return false, nil, wrap("mark seen and get", err)
	}
	if len(res) == 0 {
		return false, nil, errors.New("redis store: empty reply to mark seen and get")
	}
	var v []byte
	if len(res) > 1 {
		if str, ok := res[1].(string); ok {
			v = []byte(str)
		}
	}
	first, _ := res[0].(int64)
	return first == 1, v, nil
}

// do hands a call to the batcher and waits for it (or ctx).
func (b *seenBatcher) do(ctx context.Context, seen string, ttl time.Duration, sess string) (bool, []byte, error) {
	if b.closed.Load() {
		return b.s.markSeenAndGetDirect(ctx, seen, ttl, sess)
	}
	c := &seenCall{ctx: ctx, seen: seen, sess: sess, ttl: ttl, done: make(chan struct{})}
	select {
	case b.ch <- c:
	case <-ctx.Done():
		return false, nil, wrap("mark seen and get", ctx.Err())
	}
	select {
	case <-c.done:
		return c.first, c.val, c.err
	case <-ctx.Done():
		return false, nil, wrap("mark seen and get", ctx.Err())
	}
}
