package storetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"policybot/handlers"
)

// Goroutines used by the benchmarks: the targets are stated for 32.
const benchGoroutines = 32

// parallelism makes RunParallel use benchGoroutines goroutines.
func parallelism() int { return max(1, benchGoroutines/runtime.GOMAXPROCS(0)) }

// parallel runs op with 32 goroutines, each call with a new sequence
// number, and reports the rate as metric.
func parallel(b *testing.B, metric string, op func(n int64) error) {
	var seq atomic.Int64
	b.SetParallelism(parallelism())
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(seq.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), metric)
}

// BenchMarkSeen measures the dedup check of every inbound message: each
// operation marks a new key (the common case) with 32 goroutines.
func BenchMarkSeen(b *testing.B, s handlers.Store) {
	ctx := context.Background()
	parallel(b, "ops/s", func(n int64) error {
		_, err := s.MarkSeen(ctx, fmt.Sprintf("bench:%d", n), time.Minute)
		return err
	})
}

// BenchQueue measures enqueue + claim + ack of one item per operation,
// with 32 goroutines sharing one queue.
func BenchQueue(b *testing.B, s handlers.Store) {
	ctx := context.Background()
	parallel(b, "items/s", func(n int64) error {
		if _, err := s.Enqueue(ctx, "bench", handlers.QueueItem{Key: fmt.Sprintf("item:%d", n), Payload: []byte("payload")}); err != nil {
			return err
		}
		c, err := s.Claim(ctx, "bench", time.Minute)
		if errors.Is(err, handlers.ErrQueueEmpty) {
			return nil // another goroutine took it; it acks it
		}
		if err != nil {
			return err
		}
		return s.Ack(ctx, "bench", c.Key, c.Token)
	})
}
