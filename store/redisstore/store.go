// Package redisstore is the handlers.Store for several instances behind a
// load balancer: every operation is one Redis command or one Lua script,
// so it is atomic across processes.
//
// Keys start with a configurable prefix. The keys a script touches
// together carry one hash tag, so they live in one Cluster slot: a queue's
// keys share {q:<queue>}, a record kind's keys share {r:<kind>}.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"policybot/handlers"
)

// Options configure Open.
type Options struct {
	// URL of a single server: redis://[user:password@]host:port/db, or
	// rediss:// for TLS.
	URL string
	// Addrs of several servers: with MasterName, Sentinels; without, the
	// seed nodes of a Cluster. Used when URL is empty.
	Addrs      []string
	MasterName string
	Username   string
	Password   string
	DB         int
	// Prefix starts every key; default "policybot:".
	Prefix string
	// NoAutoPipeline sends every per-message dedup call on its own
	// instead of pipelining concurrent ones together.
	NoAutoPipeline bool
	// Timeout bounds every operation (dial, read, write, pool wait);
	// default 1 s. An operation that exceeds it fails with
	// handlers.ErrUnavailable instead of hanging.
	Timeout time.Duration
	// DoneRetention: how long a finished queue key is remembered; default 7 days.
	DoneRetention time.Duration
	// Now is the clock for queue due times; nil means time.Now.
	Now func() time.Time
}

// Store is the Redis handlers.Store.
type Store struct {
	c       redis.UniversalClient
	p       string
	timeout time.Duration
	doneTTL time.Duration
	now     func() time.Time
	seen    *seenBatcher // nil: every MarkSeenAndGet is its own round trip
}

var _ handlers.Store = (*Store)(nil)

// DefaultTimeout bounds every Redis operation unless Options say otherwise;
// DefaultPrefix starts every key.
const (
	DefaultTimeout = time.Second
	DefaultPrefix  = "policybot:"
)

// Open builds the client. It does not wait for Redis: an unreachable
// server makes operations fail fast with handlers.ErrUnavailable until it
// comes back (call Ping to check at start).
func Open(opts Options) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.DoneRetention <= 0 {
		opts.DoneRetention = 7 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	u := &redis.UniversalOptions{
		Addrs: opts.Addrs, MasterName: opts.MasterName, Username: opts.Username, Password: opts.Password, DB: opts.DB,
	}
	if opts.URL != "" {
		o, err := redis.ParseURL(opts.URL)
		if err != nil {
			return nil, fmt.Errorf("redis store: bad URL: %w", err)
		}
		u.Addrs = []string{o.Addr}
		u.Username, u.Password, u.DB, u.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
		if opts.Username != "" {
			u.Username = opts.Username
		}
		if opts.Password != "" {
			u.Password = opts.Password
		}
	}
	if len(u.Addrs) == 0 {
		return nil, errors.New("redis store: no URL or addresses")
	}
	u.DialTimeout, u.ReadTimeout, u.WriteTimeout, u.PoolTimeout = opts.Timeout, opts.Timeout, opts.Timeout, opts.Timeout
	u.MaxRetries = 1
	u.ContextTimeoutEnabled = true
	s := &Store{c: redis.NewUniversalClient(u), p: opts.Prefix, timeout: opts.Timeout, doneTTL: opts.DoneRetention, now: opts.Now}
	if !opts.NoAutoPipeline {
		s.seen = newSeenBatcher(s)
	}
	return s, nil
}

// Client exposes the underlying client (for diagnostics and tests).
func (s *Store) Client() redis.UniversalClient { return s.c }

// Close closes the client; operations afterwards fail.
func (s *Store) Close() error {
	if s.seen != nil {
		s.seen.close()
	}
	return s.c.Close()
}

func (s *Store) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, s.timeout)
}

// wrap turns a client error into the store's: redis.Nil is ErrNotFound,
// anything that means "Redis did not answer" is ErrUnavailable.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("redis store: %s: %w", op, handlers.ErrNotFound)
	}
	if unavailable(err) {
		return fmt.Errorf("redis store: %s: %w: %v", op, handlers.ErrUnavailable, err)
	}
	return fmt.Errorf("redis store: %s: %w", op, err)
}

func unavailable(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, redis.ErrClosed), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.As(err, &ne):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection pool timeout") || strings.Contains(msg, "LOADING") ||
		strings.Contains(msg, "EOF") || strings.Contains(msg, "CLUSTERDOWN") || strings.Contains(msg, "READONLY")
}

// Ping implements handlers.Store.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return wrap("ping", s.c.Ping(ctx).Err())
}

func newToken() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// MarkSeen implements handlers.Dedup.
func (s *Store) MarkSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("redis store: MarkSeen needs a ttl > 0")
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	ok, err := s.c.SetNX(ctx, s.p+"seen:"+key, "1", ttl).Result()
	return ok, wrap("mark seen", err)
}

// GetSession implements handlers.Sessions.
func (s *Store) GetSession(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	v, err := s.c.Get(ctx, s.p+"sess:"+key).Bytes()
	return v, wrap("get session", err)
}

// PutSession implements handlers.Sessions.
func (s *Store) PutSession(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("redis store: PutSession needs a ttl > 0")
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return wrap("put session", s.c.Set(ctx, s.p+"sess:"+key, value, ttl).Err())
}

// DeleteSession implements handlers.Sessions.
func (s *Store) DeleteSession(ctx context.Context, key string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return wrap("delete session", s.c.Del(ctx, s.p+"sess:"+key).Err())
}

// incrWindow increments a counter and starts its expiry when the
// increment created it, in one step.
var incrWindow = redis.NewScript(`
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`)

// IncrSession implements handlers.Sessions.
func (s *Store) IncrSession(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, errors.New("redis store: IncrSession needs a ttl > 0")
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	ms := ttl.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	v, err := incrWindow.Run(ctx, s.c, []string{s.p + "sess:" + key}, delta, ms).Int64()
	return v, wrap("incr session", err)
}

// Incr implements handlers.Counters.
func (s *Store) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	v, err := s.c.IncrBy(ctx, s.p+"ctr:"+key, delta).Result()
	return v, wrap("incr", err)
}

// Counter implements handlers.Counters.
func (s *Store) Counter(ctx context.Context, key string) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	v, err := s.c.Get(ctx, s.p+"ctr:"+key).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return v, wrap("counter", err)
}

// AddScore implements handlers.Counters.
func (s *Store) AddScore(ctx context.Context, board, member string, delta float64) (float64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	v, err := s.c.ZIncrBy(ctx, s.p+"board:"+board, delta, member).Result()
	return v, wrap("add score", err)
}

// TopScores implements handlers.Counters. Equal scores come in reverse
// member order (Redis's ZREVRANGE).
func (s *Store) TopScores(ctx context.Context, board string, n int) ([]handlers.Scored, error) {
	if n <= 0 {
		return []handlers.Scored{}, nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	zs, err := s.c.ZRevRangeWithScores(ctx, s.p+"board:"+board, 0, int64(n-1)).Result()
	if err != nil {
		return nil, wrap("top scores", err)
	}
	out := make([]handlers.Scored, len(zs))
	for i, z := range zs {
		out[i] = handlers.Scored{Member: z.Member.(string), Score: z.Score}
	}
	return out, nil
}

var scoreOfScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s then return false end
return {s, redis.call('ZREVRANK', KEYS[1], ARGV[1])}`)

// ScoreOf implements handlers.Counters.
func (s *Store) ScoreOf(ctx context.Context, board, member string) (float64, int, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := scoreOfScript.Run(ctx, s.c, []string{s.p + "board:" + board}, member).Slice()
	if err != nil {
		return 0, 0, wrap("score of "+member, err)
	}
	var score float64
	if _, err := fmt.Sscan(res[0].(string), &score); err != nil {
		return 0, 0, fmt.Errorf("redis store: score of %s: %w", member, err)
	}
	return score, int(res[1].(int64)) + 1, nil
}

var acquireScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`)

var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0`)

func (s *Store) lease(ctx context.Context, op string, sc *redis.Script, name string, args ...any) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := sc.Run(ctx, s.c, []string{s.p + "lease:" + name}, args...).Int()
	return n == 1, wrap(op, err)
}

// AcquireLease implements handlers.Locks.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	return s.lease(ctx, "acquire lease", acquireScript, name, owner, ttl.Milliseconds())
}

// RenewLease implements handlers.Locks.
func (s *Store) RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	return s.lease(ctx, "renew lease", renewScript, name, owner, ttl.Milliseconds())
}

// ReleaseLease implements handlers.Locks.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) (bool, error) {
	return s.lease(ctx, "release lease", releaseScript, name, owner)
}

var markSeenAndGetScript = redis.NewScript(`
local first = redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1])
local v = redis.call('GET', KEYS[2])
if first then return {1, v} end
return {0, v}`)

// MarkSeenAndGet implements handlers.SeenLoader in one round trip, shared
// with the concurrent calls of other requests (auto-pipelining).
func (s *Store) MarkSeenAndGet(ctx context.Context, seenKey string, ttl time.Duration, sessionKey string) (bool, []byte, error) {
	if ttl <= 0 {
		return false, nil, errors.New("redis store: MarkSeen needs a ttl > 0")
	}
	if s.seen != nil {
		ctx, cancel := s.ctx(ctx)
		defer cancel()
		return s.seen.do(ctx, seenKey, ttl, sessionKey)
	}
	return s.markSeenAndGetDirect(ctx, seenKey, ttl, sessionKey)
}

func (s *Store) markSeenAndGetDirect(ctx context.Context, seenKey string, ttl time.Duration, sessionKey string) (bool, []byte, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := markSeenAndGetScript.Run(ctx, s.c, []string{s.p + "seen:" + seenKey, s.p + "sess:" + sessionKey}, ttl.Milliseconds()).Slice()
	if err != nil {
		return false, nil, wrap("mark seen and get", err)
	}
	var v []byte
	if len(res) > 1 {
		if str, ok := res[1].(string); ok {
			v = []byte(str)
		}
	}
	return res[0].(int64) == 1, v, nil
}

// PutSessions implements handlers.SessionBatcher with one pipeline.
func (s *Store) PutSessions(ctx context.Context, puts []handlers.SessionPut) error {
	for _, p := range puts {
		if p.TTL <= 0 {
			return errors.New("redis store: PutSession needs a ttl > 0")
		}
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.c.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for _, p := range puts {
			pl.Set(ctx, s.p+"sess:"+p.Key, p.Value, p.TTL)
		}
		return nil
	})
	return wrap("put sessions", err)
}
