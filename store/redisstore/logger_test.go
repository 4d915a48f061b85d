package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// Issue 14.13: during an outage go-redis wrote "redis: … pool.go" lines as
// plain text into the JSON log. After SetLogger they are JSON records.
func TestRedisClientLinesGoThroughSlog(t *testing.T) {
	var out, std lockedBuffer
	log.SetOutput(&std) // where go-redis writes by default
	defer log.SetOutput(os.Stderr)
	SetLogger(slog.New(slog.NewJSONHandler(&out, nil)))
	defer SetLogger(slog.New(slog.NewTextHandler(os.Stderr, nil)))

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // Redis is away
	s, err := Open(Options{URL: "redis://" + addr, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.GetSession(context.Background(), "k")
	deadline := time.Now().Add(3 * time.Second)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(std.String(), "redis:") {
		t.Fatalf("go-redis wrote plain text: %q", std.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("nothing was logged through slog")
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("not JSON: %q", lines[0])
	}
	if rec["level"] != "WARN" || !strings.Contains(rec["detail"].(string), "dial") {
		t.Fatalf("record %v", rec)
	}
}
