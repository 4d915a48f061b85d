package redisstore

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"policybot/handlers"
)

// proxy forwards TCP connections to Redis and can be cut, hung and
// restored, to play the network between policybot and Redis.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	hang   bool
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			hang := p.hang
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			if hang {
				continue // accept and never answer
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes the listener and every connection: Redis is gone.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore listens again on the same address: Redis is back.
func (p *proxy) restore() {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(ln)
}

func redisHostPort(t *testing.T) string {
	u, err := url.Parse(testURL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestRedisGoneFailsFastAndRecovers(t *testing.T) {
	mustRedis(t, Options{}) // skips (or fails in CI) without Redis
	p := startProxy(t, redisHostPort(t))
	// the proxied store is cleaned up by mustRedis (same URL, same prefix)
	s := mustRedis(t, Options{URL: viaProxy(t, p.addr), Timeout: 300 * time.Millisecond})
	ctx := context.Background()
	if err := s.PutSession(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	defer s.DeleteSession(ctx, "k")

	p.cut()
	start := time.Now()
	_, err := s.GetSession(ctx, "k")
	if !errors.Is(err, handlers.ErrUnavailable) {
		t.Fatalf("with Redis gone: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("failing took %v: not fast", d)
	}
	if _, err := s.Enqueue(ctx, "q", handlers.QueueItem{Key: "x"}); !errors.Is(err, handlers.ErrUnavailable) {
		t.Fatalf("enqueue with Redis gone: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, handlers.ErrUnavailable) {
		t.Fatalf("ping with Redis gone: %v", err)
	}

	p.restore()
	var got []byte
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got, err = s.GetSession(ctx, "k"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || string(got) != "v" {
		t.Fatalf("after Redis came back: %q %v", got, err)
	}
}

func TestRedisHangingIsBoundedByTheTimeout(t *testing.T) {
	mustRedis(t, Options{})
	p := startProxy(t, redisHostPort(t))
	p.mu.Lock()
	p.hang = true
	p.mu.Unlock()
	s, err := Open(Options{URL: viaProxy(t, p.addr), Prefix: randomPrefix(), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = s.MarkSeen(context.Background(), "k", time.Minute)
	if !errors.Is(err, handlers.ErrUnavailable) {
		t.Fatalf("hanging Redis: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("a hanging Redis held the call for %v", d)
	}
}

func TestNothingListeningIsUnavailable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // a port with nobody on it
	s, err := Open(Options{URL: "redis://" + addr, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetRecord(context.Background(), "k", "i"); !errors.Is(err, handlers.ErrUnavailable) {
		t.Fatalf("GetRecord = %v", err)
	}
}

func TestBadURLIsAConfigError(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/notanumber"} {
		if _, err := Open(Options{URL: u}); err == nil {
			t.Errorf("Open(%q) accepted", u)
		}
	}
	if _, err := Open(Options{}); err == nil {
		t.Error("Open without an address accepted")
	}
}

// hashTag returns the part of key Redis Cluster hashes: the first {...}
// with something inside, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

func TestMultiKeyOperationsStayInOneSlot(t *testing.T) {
	prefix := randomPrefix()
	s := mustRedis(t, Options{Prefix: prefix})
	ctx := context.Background()
	s.Enqueue(ctx, "out", handlers.QueueItem{Key: "a"})
	c, _ := s.Claim(ctx, "out", time.Minute)
	s.Ack(ctx, "out", "a", c.Token)
	s.Enqueue(ctx, "out", handlers.QueueItem{Key: "b", MaxAttempts: 1})
	c, _ = s.Claim(ctx, "out", time.Minute)
	s.Retry(ctx, "out", "b", c.Token, time.Now(), "x") // dead
	s.Enqueue(ctx, "out", handlers.QueueItem{Key: "c"})
	s.PutRecord(ctx, "user", "u1", []byte("x"), handlers.IndexEntry{Name: "openid", Value: "o"}, handlers.IndexEntry{Name: "village", Value: "v"})
	keys, err := s.c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string][]string{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("key without the prefix: %s", k)
		}
		if strings.Contains(k, "q:out") || strings.Contains(k, "r:user") {
			tags[hashTag(k)] = append(tags[hashTag(k)], k)
		}
	}
	if len(tags) != 2 || len(tags["q:out"]) < 4 || len(tags["r:user"]) < 4 {
		t.Fatalf("queue and record keys are not grouped by hash tag: %v", tags)
	}
}
