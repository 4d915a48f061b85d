package redisstore

import (
	"testing"

	"policybot/store/storetest"
)

// Targets (issue 3): dedup >= 20,000 ops/s on loopback, queue >= 5,000 items/s.
// go test ./store/redisstore -run '^$' -bench . -benchtime 20000x

func BenchmarkMarkSeen(b *testing.B) {
	storetest.BenchMarkSeen(b, mustRedis(b, Options{}))
}

func BenchmarkQueue(b *testing.B) {
	storetest.BenchQueue(b, mustRedis(b, Options{}))
}
