package knowledge

import "sync"

// answerCache keeps recent answers by normalised question. The base is
// immutable and answers are deterministic, and people ask the same
// questions again and again, so a small cache saves most of the work. It
// is bounded (FIFO eviction, O(1)) and safe for concurrent use.
type answerCache struct {
	mu   sync.Mutex
	m    map[string]Answer
	ring []string
	next int
}

// answerCacheSize is how many answers are kept.
const answerCacheSize = 4096

func newAnswerCache(n int) *answerCache {
	return &answerCache{m: make(map[string]Answer, n), ring: make([]string, n)}
}

func (c *answerCache) get(key string) (Answer, bool) {
	if c == nil {
		return Answer{}, false
	}
	c.mu.Lock()
	a, ok := c.m[key]
	c.mu.Unlock()
	return a, ok
}

func (c *answerCache) put(key string, a Answer) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return
	}
	if old := c.ring[c.next]; old != "" {
		delete(c.m, old)
	}
	c.ring[c.next] = key
	c.next = (c.next + 1) % len(c.ring)
	c.m[key] = a
}
