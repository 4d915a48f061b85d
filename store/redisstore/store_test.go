package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"policybot/store/storetest"
)

// testURL is the Redis the tests use: POLICYBOT_TEST_REDIS_URL, default
// the local server. Tests never talk to a fake Redis.
func testURL() string {
	if u := os.Getenv("POLICYBOT_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// mustRedis opens a store with a fresh random prefix and removes its keys
// afterwards. Without a reachable Redis it skips, except in CI (CI=true),
// where it fails: CI must not pass without the Redis tests.
func mustRedis(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = randomPrefix()
	}
	if opts.URL == "" {
		opts.URL = testURL()
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		s.Close()
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis at %s is required in CI: %v", testURL(), err)
		}
		t.Skipf("no Redis at %s (set POLICYBOT_TEST_REDIS_URL): %v", testURL(), err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		iter := s.c.Scan(ctx, 0, opts.Prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			s.c.Del(ctx, keys...)
		}
		s.Close()
	})
	return s
}

// randomPrefix is a key prefix no other test (or suite running at the
// same time against the same server) uses.
func randomPrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return "policybot-test:" + hex.EncodeToString(b[:]) + ":"
}

// viaProxy is the test URL (credentials and database included) with its
// host replaced by a proxy's address.
func viaProxy(t testing.TB, addr string) string {
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func TestContract(t *testing.T) {
	storetest.Run(t, harness)
	storetest.RunFastPaths(t, harness)
}

func harness(t *testing.T) storetest.Harness {
	clk := &fakeClock{t: time.Now()}
	s := mustRedis(t, Options{Now: clk.Now})
	return storetest.Harness{Store: s, Advance: func(d time.Duration) {
		// Redis expires keys on its own clock: let real time pass,
		// and move the queue's clock with it
		time.Sleep(d)
		clk.mu.Lock()
		clk.t = clk.t.Add(d)
		clk.mu.Unlock()
	}}
}
