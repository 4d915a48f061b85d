package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"policybot/store/storetest"
)

// TestContractOnCluster runs the whole contract against a Redis Cluster
// named by POLICYBOT_TEST_REDIS_CLUSTER (comma-separated seed nodes); .ci/run
// starts a 3-master cluster on 127.0.0.1:7000-7002. It proves that every
// multi-key script stays inside one slot (Cluster refuses CROSSSLOT).
func TestContractOnCluster(t *testing.T) {
	addrs := os.Getenv("POLICYBOT_TEST_REDIS_CLUSTER")
	if addrs == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("POLICYBOT_TEST_REDIS_CLUSTER is required in CI (.ci/run sets it)")
		}
		t.Skip("set POLICYBOT_TEST_REDIS_CLUSTER=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 to test a Cluster")
	}
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		var b [6]byte
		rand.Read(b[:])
		prefix := "policybot-test:" + hex.EncodeToString(b[:]) + ":"
		clk := &fakeClock{t: time.Now()}
		s, err := Open(Options{Addrs: strings.Split(addrs, ","), Prefix: prefix, Now: clk.Now, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.c.(*redis.ClusterClient); !ok {
			t.Fatalf("several addresses did not make a Cluster client: %T", s.c)
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("cluster at %s: %v", addrs, err)
		}
		t.Cleanup(func() {
			ctx := context.Background()
			s.c.(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
				iter := m.Scan(ctx, 0, prefix+"*", 1000).Iterator()
				for iter.Next(ctx) {
					m.Del(ctx, iter.Val())
				}
				return nil
			})
			s.Close()
		})
		return storetest.Harness{Store: s, Advance: func(d time.Duration) {
			time.Sleep(d)
			clk.mu.Lock()
			clk.t = clk.t.Add(d)
			clk.mu.Unlock()
		}}
	})
}
