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

// BenchMarkSeen measures the dedup check of every inbound message: each
// operation marks a new key (the common case) with 32 goroutines.
func BenchMarkSeen(b *testing.B, s handlers.Store) {
	var n atomic.Int64
	ctx := context.Background()
	b.SetParallelism(parallelism())
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("bench:%d", n.Add(1))
			if _, err := s.MarkSeen(ctx, k, time.Minute); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}

// BenchQueue measures enqueue + claim + ack of one item per operation,
// with 32 goroutines sharing one queue.
func BenchQueue(b *testing.B, s handlers.Store) {
	var n atomic.Int64
	ctx := context.Background()
	b.SetParallelism(parallelism())
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("item:%d", n.Add(1))
			if _, err := s.Enqueue(ctx, "bench", handlers.QueueItem{Key: k, Payload: []byte("payload")}); err != nil {
				b.Error(err)
				return
			}
			c, err := s.Claim(ctx, "bench", time.Minute)
			if errors.Is(err, handlers.ErrQueueEmpty) {
				continue // another goroutine took it; it acks it
			}
			if err != nil {
				b.Error(err)
				return
			}
			if err := s.Ack(ctx, "bench", c.Key, c.Token); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "items/s")
}
