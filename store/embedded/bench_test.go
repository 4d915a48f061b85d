package embedded

import (
	"testing"

	"policybot/store/storetest"
)

// Targets (issue 3): dedup >= 50,000 ops/s, queue >= 5,000 items/s.
// go test ./store/embedded -run '^$' -bench . -benchtime 20000x

func BenchmarkMarkSeen(b *testing.B) {
	s := mustOpenB(b)
	storetest.BenchMarkSeen(b, s)
}

func BenchmarkQueue(b *testing.B) {
	s := mustOpenB(b)
	storetest.BenchQueue(b, s)
}

func mustOpenB(b *testing.B) *Store {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
